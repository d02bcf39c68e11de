import type { SourcePos } from '../../shared/errors.js';
import { fail } from './errors.js';
import type { Resource, Volume } from './model.js';

/** Pushes resource-level volumes into every host, then checks what every host needs. */
export function finishResource(res: Resource): void {
  for (const host of res.hosts) {
    for (const [vnr, rv] of res.volumes) {
      const hv = host.volumes.get(vnr);
      if (hv === undefined) {
        host.volumes.set(vnr, { ...rv, diskOptions: new Map(rv.diskOptions) });
        continue;
      }
      const merged: Volume = {
        vnr,
        implicit: hv.implicit && rv.implicit,
        diskOptions: new Map([...rv.diskOptions, ...hv.diskOptions]),
        pos: hv.pos,
      };
      const device = hv.device ?? rv.device;
      const disk = hv.disk ?? rv.disk;
      const metaDisk = hv.metaDisk ?? rv.metaDisk;
      if (device) merged.device = device;
      if (disk !== undefined) merged.disk = disk;
      if (metaDisk) merged.metaDisk = metaDisk;
      host.volumes.set(vnr, merged);
    }
    // Sort volumes by number, as drbdadm prints them.
    const sorted = [...host.volumes.entries()].sort((a, b) => a[0] - b[0]);
    host.volumes.clear();
    for (const [k, v] of sorted) host.volumes.set(k, v);
    const where = host.kind === 'floating' ? `floating ${host.address?.ip}:${host.address?.port}` : `${host.kind} ${host.names.join(' ')}`;
    if (host.volumes.size === 0 && host.kind !== 'stacked-on-top-of') {
      fail('DRBD_MISSING', host.pos.file, host.pos.line, `in resource ${res.name}, ${where} { ... }: 'device' keyword missing`, 'device');
    }
    for (const v of host.volumes.values()) {
      if (v.device === undefined) {
        fail('DRBD_MISSING', host.pos.file, host.pos.line, `in resource ${res.name}, ${where} { ... }: 'device' keyword missing${v.implicit ? '' : ` (volume ${v.vnr})`}`, 'device');
      }
    }
  }
  if (res.hosts.length === 0) {
    fail('DRBD_MISSING', res.pos.file, res.pos.line, `in resource ${res.name}: missing section 'on <PEER> { ... }'`, res.name);
  }
  // DRBD 9: more than two hosts need explicit node-ids (the two-host hash trick no longer works).
  const on = res.hosts.filter((h) => h.kind !== 'stacked-on-top-of' || h.nodeId !== undefined);
  if (on.length > 2) {
    const missing = on.slice(2).find((h) => h.nodeId === undefined) ?? on.find((h) => h.nodeId === undefined);
    if (missing !== undefined) {
      const where = missing.kind === 'floating' ? `floating ${missing.address?.ip}:${missing.address?.port}` : `${missing.kind} ${missing.names.join(' ')}`;
      fail('DRBD_MISSING', missing.pos.file, missing.pos.line, `in resource ${res.name}, ${where} { ... }: 'node-id' keyword missing`, 'node-id');
    }
  }
}

/**
 * DRBD 0.7 `syncer { group N; }`: groups resync one after another. The modern
 * form is a chain of resync-after; each resource of group N waits for the last
 * resource (in file order) of the closest lower group.
 */
export function applySyncGroups(
  resources: readonly Resource[],
  hasOwnResyncAfter: (r: Resource) => boolean,
  warn: (at: SourcePos, message: string) => void,
): void {
  const grouped = resources.filter((r) => r.syncGroup !== undefined);
  for (const r of grouped) {
    if (hasOwnResyncAfter(r)) continue;
    const lower = grouped.filter((o) => o.syncGroup! < r.syncGroup!);
    if (lower.length === 0) continue;
    const best = Math.max(...lower.map((o) => o.syncGroup!));
    const after = lower.filter((o) => o.syncGroup === best).pop()!;
    r.sections.disk.set('resync-after', { name: 'resync-after', text: after.name, value: after.name, free: true, pos: r.pos });
    warn(r.pos, `resource ${r.name}: group ${r.syncGroup} read as resync-after ${after.name}`);
  }
}

/** The same IP:port or the same minor on one host, anywhere in the config, is an error. */
export function checkConflicts(resources: readonly Resource[]): void {
  const ips = new Map<string, SourcePos>();
  const minors = new Map<string, SourcePos>();
  for (const r of resources) {
    for (const h of r.hosts) {
      if (h.address !== undefined) {
        const key = `${h.address.ip}:${h.address.port}`;
        const first = ips.get(key);
        if (first !== undefined) {
          fail('DRBD_CONFLICT', h.address.pos.file, h.address.pos.line, `conflicting use of IP '${key}' (first used at ${first.file}:${first.line})`, key);
        }
        ips.set(key, h.address.pos);
      }
      if (h.kind !== 'on') continue;
      for (const name of h.names) {
        for (const v of h.volumes.values()) {
          if (v.device === undefined) continue;
          const key = `device-minor:${name}:${v.device.minor}`;
          const first = minors.get(key);
          if (first !== undefined) {
            fail('DRBD_CONFLICT', h.pos.file, h.pos.line, `conflicting use of device-minor '${key}' (first used at ${first.file}:${first.line})`, String(v.device.minor));
          }
          minors.set(key, h.pos);
        }
      }
    }
  }
}
