import { SECTION_ORDER, type DrbdConfig, type HostSection, type OptionSection, type Sections } from './model.js';

/**
 * What a config means, with spelling and order taken out: two configs mean the
 * same when their meanings are deep-equal. Used to compare our dump with
 * drbdadm's and a dump with the file it came from. Numbers are compared in
 * base units (30M = 30720), so `30M` and `30720` mean the same.
 */
export function configMeaning(config: DrbdConfig): unknown {
  return {
    global: options(config.global),
    common: sections(config.common.sections),
    resources: config.resources.map((r) => ({
      name: r.name,
      hosts: r.hosts.map(host),
      connections: r.connections.map((c) => ({
        name: c.name ?? null,
        paths: c.paths.map((p) => p.hosts.map((h) => ({
          name: h.name,
          address: h.address ? `${h.address.family}:${h.address.ip}:${h.address.port}` : null,
          port: h.port ?? null,
        }))),
        net: options(c.net),
        disk: options(c.disk),
        volumes: [...c.volumeDisk].map(([vnr, d]) => ({ vnr, disk: options(d) })),
      })),
      meshes: r.meshes.map((m) => ({ hosts: m.hosts, net: options(m.net) })),
      sections: sections(r.sections),
    })),
  };
}

function options(o: OptionSection): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of [...o.keys()].sort()) out[k] = o.get(k)!.value;
  return out;
}

function sections(s: Sections): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of SECTION_ORDER) if (s[name].size > 0) out[name] = options(s[name]);
  return out;
}

function host(h: HostSection): unknown {
  return {
    kind: h.kind,
    names: h.names,
    address: h.address ? `${h.address.family}:${h.address.ip}:${h.address.port}` : null,
    nodeId: h.nodeId ?? null,
    volumes: [...h.volumes.values()].map((v) => ({
      vnr: v.vnr,
      device: v.device ? { path: v.device.path ?? null, minor: v.device.minor } : null,
      disk: v.disk ?? null,
      metaDisk: v.metaDisk ?? null,
      diskOptions: options(v.diskOptions),
    })),
  };
}
