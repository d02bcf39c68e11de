/**
 * Bytes from a medium -> an authenticated message -> the membership's
 * ReceivedPacket. Whatever a peer sends, the result is either a packet or a
 * counted drop: a malformed or forged datagram never throws into the daemon.
 */
import type { ReceivedPacket } from '../membership/index.js';
import { WireError, decodePacket, verifyPacket, type AuthKey, type HaMessage } from '../wire/index.js';

export type Intake =
  | { readonly ok: true; readonly message: HaMessage; readonly packet: ReceivedPacket }
  | { readonly ok: false; readonly code: string; readonly reason: string };

/** Fields the membership reads by name besides the typed ones (`protocol`, `firstseq`, ...): every string field, first of each name. */
function stringFields(m: HaMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of m.fields) {
    if (f.kind !== 'string' || Object.prototype.hasOwnProperty.call(out, f.name)) continue;
    const v = m.get(f.name);
    if (v !== undefined) out[f.name] = v;
  }
  return out;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** The original's "not for me": a `dest` naming another node, or a `destuuid` that is not ours. */
export function addressedToUs(m: HaMessage, localNode: string, localUuid: Uint8Array): boolean {
  const dest = m.dest;
  if (dest !== undefined) return dest === localNode;
  const du = m.destUuid;
  return du === undefined || sameBytes(du, localUuid);
}

export interface IntakeContext {
  readonly keys: readonly AuthKey[];
  readonly localNode: string;
  readonly localUuid: Uint8Array;
}

export function takeIn(bytes: Uint8Array, link: string, ctx: IntakeContext): Intake {
  let message: HaMessage;
  try {
    const p = decodePacket(bytes);
    const verdict = verifyPacket(p, ctx.keys);
    if (!verdict.ok) return { ok: false, code: verdict.code, reason: verdict.reason };
    message = p.message;
  } catch (e) {
    if (e instanceof WireError) return { ok: false, code: e.code, reason: e.message };
    return { ok: false, code: 'WIRE_INTERNAL', reason: e instanceof Error ? e.message : String(e) };
  }
  const type = message.type;
  const from = message.src;
  if (type === undefined || from === undefined) return { ok: false, code: 'HB_NO_SRC', reason: 'message without t or src' };
  const seq = message.seq;
  const generation = message.generation;
  const status = message.status;
  const dt = message.deadtimeMs;
  const ts = message.timestamp;
  const packet: ReceivedPacket = {
    from,
    link,
    type,
    toUs: addressedToUs(message, ctx.localNode, ctx.localUuid),
    fields: stringFields(message),
    ref: message,
    ...(seq !== undefined ? { seq } : {}),
    ...(generation !== undefined ? { generation } : {}),
    ...(status !== undefined ? { status } : {}),
    ...(dt !== undefined ? { advertisedDeadtimeMs: dt } : {}),
    ...(ts !== undefined ? { remoteTime: ts } : {}),
  };
  return { ok: true, message, packet };
}
