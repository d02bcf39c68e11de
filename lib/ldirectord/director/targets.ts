/**
 * From the configuration to what the director manages: the IPVS service of
 * each virtual, the destination spec of each real and of the fallback, and
 * the check targets (identical reals in several virtuals share one check, as
 * the original's real ids do, spec §6.3).
 */
import type { Fallback, LdirectordConfig, RealServer, VirtualService } from '../../config/ldirectord/model.js';
import type { RealSpec } from '../ipvs/command.js';
import type { IpvsServiceOptions, IpvsServiceRef } from '../ipvs/model.js';

export function hostPort(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

export function serviceRef(v: VirtualService): IpvsServiceRef {
  if (v.protocol === 'fwm') return { protocol: 'FWM', address: String(v.fwmark ?? 0), ...(v.family === 'ipv6' ? { ipv6Fwmark: true } : {}) };
  return { protocol: v.protocol === 'udp' ? 'UDP' : 'TCP', address: hostPort(v.address ?? '', v.port) };
}

export function serviceOptions(v: VirtualService): IpvsServiceOptions {
  return {
    scheduler: v.scheduler,
    ...(v.persistentSec !== undefined ? { persistentSec: v.persistentSec } : {}),
    ...(v.persistentSec !== undefined && v.netmask !== undefined ? { netmask: v.netmask } : {}),
    ops: v.protocol === 'udp' && v.ops,
    ...(v.schedFlags !== undefined ? { schedFlags: v.schedFlags } : {}),
  };
}

/** How the original names a virtual in log lines' parentheses: `IP:PORT`, or the mark. */
export function virtualLabel(v: VirtualService): string {
  return v.protocol === 'fwm' ? String(v.fwmark ?? 0) : hostPort(v.address ?? '', v.port);
}

export function realAddress(r: RealServer): string {
  return hostPort(r.address, r.port);
}

export function realSpec(r: RealServer, weight: number): RealSpec {
  return { address: realAddress(r), forward: r.forward, weight, thresholds: { upper: r.upperThreshold, lower: r.lowerThreshold } };
}

export function fallbackSpec(f: Fallback): RealSpec {
  return { address: hostPort(f.address, f.port), forward: f.forward, weight: 1, thresholds: { upper: 0, lower: 0 } };
}

/** The key of a real within its virtual: state survives a reload under it. */
export function realKey(v: VirtualService, r: RealServer): string {
  return `${v.id}|${realAddress(r)}`;
}

/** The original's real id (spec §6.3): reals with equal ids are checked once per round. */
export function checkId(v: VirtualService, r: RealServer): string {
  const kind = v.checkType === 'negotiate' || v.checkType === 'combined'
    ? `${v.checkType}:${v.service}`
    : v.checkType === 'external' || v.checkType === 'external-perl' ? `${v.checkType}:${v.checkCommand}` : v.checkType;
  const proto = v.protocol === 'fwm' ? 'fwm' : v.protocol;
  return [kind, proto, r.address, r.port, v.virtualHost ?? '', v.checkPort ?? '', r.weight, r.forward, r.request, r.receive].join(':');
}

export interface CheckTarget {
  readonly id: string;
  /** Every (virtual, real) that takes this check's result. */
  readonly members: ReadonlyArray<{ readonly virtual: VirtualService; readonly real: RealServer }>;
}

/** One target per distinct check id, in config order; `on`/`off` virtuals need no checks. */
export function checkTargets(config: LdirectordConfig): CheckTarget[] {
  const byId = new Map<string, { virtual: VirtualService; real: RealServer }[]>();
  for (const v of config.virtuals) {
    if (v.checkType === 'on' || v.checkType === 'off') continue;
    for (const r of v.reals) {
      const id = checkId(v, r);
      const list = byId.get(id) ?? [];
      list.push({ virtual: v, real: r });
      byId.set(id, list);
    }
  }
  return [...byId].map(([id, members]) => ({ id, members }));
}
