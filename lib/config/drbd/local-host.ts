import type { DrbdConfig, HostSection, Resource } from './model.js';

/** Who "this host" is: drbdadm uses uname -n and the addresses on local interfaces. */
export interface LocalHost {
  readonly hostname: string;
  /** IPs configured locally; undefined when unknown (then no address checks are made). */
  readonly addresses?: readonly string[];
}

export interface LocalMatch {
  readonly resource: Resource;
  /** The section that describes this host, if any. */
  readonly host?: HostSection;
  readonly stacked: boolean;
}

/**
 * The host section of `res` for this host: an `on` section naming it exactly
 * (no domain stripping), else a `floating` section whose IP is local, else a
 * `stacked-on-top-of` section whose lower resource runs here.
 */
export function findLocalHost(config: DrbdConfig, res: Resource, me: LocalHost, seen: Set<string> = new Set()): LocalMatch {
  const on = res.hosts.find((h) => h.kind === 'on' && h.names.includes(me.hostname));
  if (on !== undefined) return { resource: res, host: on, stacked: false };
  if (me.addresses !== undefined) {
    const fl = res.hosts.find((h) => h.kind === 'floating' && h.address !== undefined && me.addresses!.includes(h.address.ip));
    if (fl !== undefined) return { resource: res, host: fl, stacked: false };
  }
  seen.add(res.name);
  for (const h of res.hosts) {
    if (h.kind !== 'stacked-on-top-of') continue;
    const lower = config.resources.find((r) => r.name === h.names[0]);
    if (lower === undefined || seen.has(lower.name)) continue;
    if (findLocalHost(config, lower, me, seen).host !== undefined) return { resource: res, host: h, stacked: true };
  }
  return { resource: res, stacked: res.hosts.some((h) => h.kind === 'stacked-on-top-of') };
}

/** drbdadm's warning when this host's address is not on any local interface (dump only warns). */
export function addressWarnings(config: DrbdConfig, me: LocalHost): string[] {
  if (me.addresses === undefined || config.global.has('disable-ip-verification')) return [];
  const out: string[] = [];
  for (const res of config.resources) {
    const m = findLocalHost(config, res, me);
    const a = m.host?.address;
    if (m.host === undefined || a === undefined || m.host.kind === 'floating') continue;
    if (!me.addresses.includes(a.ip)) {
      out.push(`${a.pos.file}:${a.pos.line}: in resource ${res.name}, on ${me.hostname}:\n\tIP ${a.ip} not found on this host.`);
    }
  }
  return out;
}
