/**
 * The fields every cluster message gets on its way out (ha_msg_internal.c
 * add_control_msg_fields, heartbeat-wire.md §3.1), in the original's order, so
 * our packets are byte-for-byte what a 3.0.6 node would send: `destuuid` when
 * the destination's UUID is known, then `src`, `srcuuid`, `seq`, `hg`, `ts`,
 * `ld`, `ttl`. `NS_*` messages get no `seq`/`ld` and keep any control field
 * they already have. The inner `auth` field comes last (auth.ts signInner).
 */
import { WireError, WireErrorCode } from './errors.js';
import { F, type HaMessage } from './message.js';

export interface ControlFields {
  /** Our node name, lowercase. */
  readonly src: string;
  /** Our 16-byte UUID (hb_uuid). */
  readonly srcUuid: Uint8Array;
  /** Our sequence number for this message; required unless the type starts with `NS_`. */
  readonly seq?: number;
  /** Our generation (hg). */
  readonly generation: number;
  /** Wall clock in seconds (time(NULL)); must not be 0. */
  readonly timestamp: number;
  /** /proc/loadavg line (or `n/a`). */
  readonly load: string;
  /** hopfudge + number of nodes. */
  readonly ttl: number;
  /** The UUID of `dest`, when we learnt it from that node's own `srcuuid`. */
  readonly destUuid?: Uint8Array;
}

export const isUnsequencedType = (type: string): boolean => type.startsWith('NS_');

export function addControlFields(m: HaMessage, c: ControlFields): HaMessage {
  const type = m.type;
  if (type === undefined) throw new WireError(WireErrorCode.Unencodable, 'message has no type (t)');
  if (m.dest !== undefined && c.destUuid !== undefined) m.set({ name: F.toUuid, kind: 'binary', value: c.destUuid });
  const unsequenced = isUnsequencedType(type);
  if (!unsequenced && c.seq === undefined) throw new WireError(WireErrorCode.Unencodable, `a ${type} message needs a seq`);
  if (c.timestamp <= 0) throw new WireError(WireErrorCode.Unencodable, 'ts must not be 0');
  const steps: [name: string, sequencedOnly: boolean, apply: () => void][] = [
    [F.orig, false, () => m.setString(F.orig, c.src)],
    [F.origUuid, false, () => m.set({ name: F.origUuid, kind: 'binary', value: c.srcUuid })],
    [F.seq, true, () => m.setHex(F.seq, c.seq!)],
    [F.generation, false, () => m.setHex(F.generation, c.generation)],
    [F.time, false, () => m.setHex(F.time, c.timestamp)],
    [F.load, true, () => m.setString(F.load, c.load)],
    [F.ttl, false, () => m.setDecimal(F.ttl, c.ttl)],
  ];
  for (const [name, sequencedOnly, apply] of steps) {
    if (unsequenced && (sequencedOnly || m.has(name))) continue;
    apply();
  }
  return m;
}
