/**
 * ha.cf + authkeys (the parsed models) -> what the cores and the media need:
 * the membership config, the media specs, the auth keys. Kept apart from the
 * runtime so the mapping is testable without sockets.
 */
import type { Authkeys } from '../../config/authkeys/parse.js';
import type { HaCf } from '../../config/hacf/model.js';
import type { MediumSpec } from '../media/index.js';
import type { MembershipConfig } from '../membership/index.js';
import type { AuthKey } from '../wire/index.js';
import { DaemonError, DaemonErrorCode } from './errors.js';

export interface DaemonSettings {
  readonly membership: MembershipConfig;
  readonly media: readonly MediumSpec[];
  readonly udpPort: number;
  readonly baud: number;
  /** Every configured key; incoming packets may use any. */
  readonly keys: readonly AuthKey[];
  /** The `auth N` key, signs what we send. */
  readonly activeKey: AuthKey;
  /** hopfudge + node count, sent as `ttl`. */
  readonly ttl: number;
  readonly maxRexmitDelayMs: number;
  /** `msgfmt netstring` leaves out the inner auth field. */
  readonly innerAuth: boolean;
  /** Things in ha.cf we do not do; the daemon logs each at start. */
  readonly ignored: readonly string[];
}

export function wireKeys(a: Authkeys): { keys: AuthKey[]; activeKey: AuthKey } {
  const keys = a.entries.map((e): AuthKey => (e.key === undefined ? { index: e.index, method: e.method } : { index: e.index, method: e.method, key: e.key.reveal() }));
  const activeKey = keys.find((k) => k.index === a.activeIndex);
  // The authkeys parser refuses an `auth N` without its line; this is a guard, not a path.
  if (activeKey === undefined) throw new DaemonError(DaemonErrorCode.Unsupported, `authkeys: no key for auth ${a.activeIndex}`);
  return { keys, activeKey };
}

/** The link name the original gives a medium: the device, or the tty path as written. */
export function linkName(spec: MediumSpec): string {
  return spec.kind === 'serial' ? spec.device : spec.interface;
}

/** `file` names ha.cf in the refusal (FILE:LINE: ...). */
export function mediumSpecs(hacf: HaCf, file = 'ha.cf'): MediumSpec[] {
  return hacf.media.map((m): MediumSpec => {
    switch (m.type) {
      case 'ucast':
        return { kind: 'ucast', interface: m.device, peer: m.peer };
      case 'bcast':
        return { kind: 'bcast', interface: m.device };
      case 'mcast':
        return { kind: 'mcast', interface: m.device, group: m.group, port: m.port, ttl: m.ttl, loop: m.loop };
      case 'ucast6':
        return { kind: 'ucast6', interface: m.device, peer: m.peer };
      case 'mcast6':
        return { kind: 'mcast6', interface: m.device, group: m.group, port: m.port, hops: m.ttl, loop: m.loop };
      case 'serial':
        return { kind: 'serial', device: m.device };
    }
  });
}

export function daemonSettings(hacf: HaCf, authkeys: Authkeys, localNode: string, haCfFile = 'ha.cf'): DaemonSettings {
  const media = mediumSpecs(hacf, haCfFile);
  // Several ucast lines on one device are one link, as in the original.
  const links = [...new Set(media.map(linkName))];
  const ignored: string[] = [];
  const { keys, activeKey } = wireKeys(authkeys);
  return {
    membership: {
      localNode,
      nodes: hacf.nodes,
      // ping / ping6 / ping_group pseudo-nodes: their heartbeats are echo replies (lib/heartbeat/ping).
      pingNodes: hacf.pingNodes.map((p) => p.name),
      media: links,
      keepaliveMs: hacf.timings.keepaliveMs,
      warntimeMs: hacf.timings.warntimeMs,
      deadtimeMs: hacf.timings.deadtimeMs,
      initdeadMs: hacf.timings.initdeadMs,
      deadpingMs: hacf.timings.deadpingMs,
    },
    media,
    udpPort: hacf.udpport,
    baud: hacf.baud,
    keys,
    activeKey,
    // The original's node count includes ping nodes.
    ttl: hacf.hopfudge + hacf.nodes.length + hacf.pingNodes.length,
    maxRexmitDelayMs: hacf.maxRexmitDelayMs,
    innerAuth: hacf.msgfmt !== 'netstring',
    ignored,
  };
}
