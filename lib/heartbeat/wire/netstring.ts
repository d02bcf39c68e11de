/**
 * The netstring format Heartbeat 3.0.6 (cluster-glue >= 1.0.10) sends over UDP:
 *
 *   ###\n  <L>:(<t>)<name>=<value>,  ...  %%%\n  [<A>:<index> <token>,]
 *
 * <L> counts the bytes of `(<t>)<name>=<value>`; values are raw bytes. The
 * optional last netstring is the auth trailer over `###\n` .. `%%%\n`.
 * Decoding is strict: only the canonical form our encoder (and the original)
 * writes is accepted, so every decoded packet re-encodes byte for byte.
 */
import { ByteWriter, hasAt, indexOfByte, isCutMarker, latin1 } from './bytes.js';
import { WireError, WireErrorCode } from './errors.js';
import { MAX_AUTH_TRAILER_BYTES, MAX_NESTING_DEPTH, MAX_WIRE_MESSAGE_BYTES } from './limits.js';
import { FIELD_TYPE_CODE, HaMessage, fieldNameProblem, nameBytes, type HaField } from './message.js';
import { formatSignature, parseSignature, type AuthSignature } from './signature.js';
import { packList, unpackList } from './string-list.js';

export const NETSTRING_START = '###\n';
export const NETSTRING_END = '%%%\n';

/** The auth trailer: `<index> <token>` (e.g. `1 <40 hex>` for sha1). */
export type AuthTrailer = AuthSignature;

export interface NetstringDecoded {
  readonly message: HaMessage;
  /** The bytes the trailer signs: `###\n` through `%%%\n` (a view into the input). */
  readonly signedBytes: Uint8Array;
  /** Absent when the input ends right after `%%%\n`. */
  readonly trailer: AuthTrailer | undefined;
}

// ---- encoding ----

function writeMessage(m: HaMessage, out: ByteWriter, depth: number): void {
  if (depth > MAX_NESTING_DEPTH) throw new WireError(WireErrorCode.Unencodable, `messages nested deeper than ${MAX_NESTING_DEPTH}`);
  out.ascii(NETSTRING_START);
  for (const f of m.fields) {
    const body = new ByteWriter();
    body.ascii(`(${FIELD_TYPE_CODE[f.kind]})`);
    body.bytes(nameBytes(f.name));
    body.ascii('=');
    if (f.kind === 'struct') writeMessage(f.value, body, depth + 1);
    else if (f.kind === 'list') packList(f.value, body);
    else body.bytes(f.value);
    out.ascii(`${body.length}:`);
    out.bytes(body.finish());
    out.ascii(',');
  }
  out.ascii(NETSTRING_END);
}

/** `###\n` .. `%%%\n`, no trailer: the bytes the trailer signs, and the form of nested messages. */
export function encodeNetstringBody(m: HaMessage): Uint8Array {
  const out = new ByteWriter();
  writeMessage(m, out, 0);
  if (out.length > MAX_WIRE_MESSAGE_BYTES) throw new WireError(WireErrorCode.TooLarge, `message of ${out.length} bytes exceeds ${MAX_WIRE_MESSAGE_BYTES}`);
  return out.finish();
}

export function encodeTrailer(t: AuthTrailer): Uint8Array {
  const text = formatSignature(t);
  if (parseSignature(text) === undefined || text.length > MAX_AUTH_TRAILER_BYTES) {
    throw new WireError(WireErrorCode.Unencodable, `bad auth trailer ${JSON.stringify(text)}`);
  }
  const out = new ByteWriter();
  out.ascii(`${text.length}:${text},`);
  return out.finish();
}

/** A whole netstring packet: body plus, when given, the trailer. */
export function encodeNetstring(m: HaMessage, trailer?: AuthTrailer): Uint8Array {
  const body = encodeNetstringBody(m);
  if (trailer === undefined) return body;
  const out = new ByteWriter();
  out.bytes(body);
  out.bytes(encodeTrailer(trailer));
  if (out.length > MAX_WIRE_MESSAGE_BYTES) throw new WireError(WireErrorCode.TooLarge, `packet of ${out.length} bytes exceeds ${MAX_WIRE_MESSAGE_BYTES}`);
  return out.finish();
}

// ---- decoding ----

interface Peeled {
  readonly start: number;
  readonly end: number;
  readonly next: number;
}

/** Reads one `<len>:<data>,` at `pos`, inside `[pos, limit)`. */
function peel(b: Uint8Array, pos: number, limit: number): Peeled {
  let len = 0;
  let digits = 0;
  while (pos + digits < limit && digits < 8) {
    const c = b[pos + digits]!;
    if (c < 0x30 || c > 0x39) break;
    len = len * 10 + (c - 0x30);
    digits++;
  }
  if (digits === 0) {
    if (pos >= limit) throw new WireError(WireErrorCode.Truncated, 'input ends where a netstring should start', pos);
    throw new WireError(WireErrorCode.BadNetstring, 'netstring length expected', pos);
  }
  if (digits > 1 && b[pos] === 0x30) throw new WireError(WireErrorCode.BadNetstring, 'netstring length with a leading zero', pos);
  const colon = pos + digits;
  if (colon >= limit) throw new WireError(WireErrorCode.Truncated, 'input ends inside a netstring length', colon);
  if (b[colon] !== 0x3a) throw new WireError(WireErrorCode.BadNetstring, '":" expected after the netstring length', colon);
  const start = colon + 1;
  const end = start + len;
  if (end >= limit) throw new WireError(WireErrorCode.Truncated, `netstring of ${len} bytes runs past the end`, pos);
  if (b[end] !== 0x2c) throw new WireError(WireErrorCode.BadNetstring, '"," expected where the netstring length ends', end);
  return { start, end, next: end + 1 };
}

function readField(b: Uint8Array, start: number, end: number, depth: number): HaField {
  if (end - start < 3 || b[start] !== 0x28 || b[start + 2] !== 0x29) {
    throw new WireError(WireErrorCode.BadField, 'field does not start with "(<type>)"', start);
  }
  const code = b[start + 1]! - 0x30;
  if (code < 0 || code > 9) throw new WireError(WireErrorCode.BadField, 'field type is not a digit', start + 1);
  if (code > 3) throw new WireError(WireErrorCode.BadFieldType, `field type ${code} is not decoded (only 0-3)`, start + 1);
  const nameStart = start + 3;
  const eq = indexOfByte(b, 0x3d, nameStart, end);
  if (eq < 0) throw new WireError(WireErrorCode.BadField, 'field has no "="', nameStart);
  const name = latin1(b, nameStart, eq);
  const problem = fieldNameProblem(name);
  if (problem !== undefined) throw new WireError(WireErrorCode.BadField, problem, nameStart);
  const vStart = eq + 1;
  switch (code) {
    case 0:
      return { name, kind: 'string', value: b.slice(vStart, end) };
    case 1:
      return { name, kind: 'binary', value: b.slice(vStart, end) };
    case 2: {
      const inner = readMessage(b, vStart, end, depth + 1);
      if (inner.next !== end) throw new WireError(WireErrorCode.BadField, 'bytes after a nested message', inner.next);
      return { name, kind: 'struct', value: inner.message };
    }
    default:
      return { name, kind: 'list', value: unpackList(b.subarray(vStart, end), vStart) };
  }
}

function readMessage(b: Uint8Array, pos: number, limit: number, depth: number): { message: HaMessage; next: number } {
  if (depth > MAX_NESTING_DEPTH) throw new WireError(WireErrorCode.TooDeep, `messages nested deeper than ${MAX_NESTING_DEPTH}`, pos);
  if (!hasAt(b, pos, NETSTRING_START, limit)) {
    if (isCutMarker(b, pos, NETSTRING_START, limit)) throw new WireError(WireErrorCode.Truncated, 'input ends inside "###\\n"', pos);
    throw new WireError(WireErrorCode.BadStart, 'message does not start with "###\\n"', pos);
  }
  const message = new HaMessage();
  pos += NETSTRING_START.length;
  for (;;) {
    if (hasAt(b, pos, NETSTRING_END, limit)) return { message, next: pos + NETSTRING_END.length };
    if (pos >= limit || isCutMarker(b, pos, NETSTRING_END, limit)) throw new WireError(WireErrorCode.Truncated, 'no "%%%\\n" end marker', pos);
    const p = peel(b, pos, limit);
    message.push(readField(b, p.start, p.end, depth));
    pos = p.next;
  }
}

/** Decodes a netstring packet; throws WireError for anything malformed. */
export function decodeNetstring(input: Uint8Array): NetstringDecoded {
  if (input.length > MAX_WIRE_MESSAGE_BYTES) throw new WireError(WireErrorCode.TooLarge, `packet of ${input.length} bytes exceeds ${MAX_WIRE_MESSAGE_BYTES}`);
  const { message, next } = readMessage(input, 0, input.length, 0);
  const signedBytes = input.subarray(0, next);
  if (next === input.length) return { message, signedBytes, trailer: undefined };
  let p: Peeled;
  try {
    p = peel(input, next, input.length);
  } catch (e) {
    if (e instanceof WireError && e.code !== WireErrorCode.Truncated) throw new WireError(WireErrorCode.BadTrailer, 'auth trailer is not a netstring', next);
    throw e;
  }
  const text = latin1(input, p.start, p.end);
  const trailer = p.end - p.start <= MAX_AUTH_TRAILER_BYTES ? parseSignature(text) : undefined;
  if (trailer === undefined) throw new WireError(WireErrorCode.BadTrailer, 'auth trailer is not "<index> <token>"', p.start);
  if (p.next !== input.length) throw new WireError(WireErrorCode.TrailingData, `${input.length - p.next} byte(s) after the auth trailer`, p.next);
  return { message, signedBytes, trailer };
}
