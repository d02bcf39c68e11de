/**
 * The classic text format (glue's MSGFMT_NVPAIR), used on serial links, by
 * older peers over UDP, on the client API socket and in the FIFO:
 *
 *   >>>\n  name=value\n  (1)name=<base64>\n  ...  <<<\n
 *
 * String values carry `\n` as byte 0x13; nested messages are the child's own
 * classic text with its newlines turned into a per-depth symbol (0x14 at
 * depth 0, 0x15 at depth 1, ...). The same rendering without the markers and
 * without `auth` fields is what the inner `auth` signature covers.
 * Decoding is strict (no blank lines, no junk after `<<<\n` except one NUL,
 * which glue appends on IPC and old UDP packets), so what decodes re-encodes
 * byte for byte.
 */
import { fromBase64, toBase64 } from './base64.js';
import { ByteWriter, hasAt, indexOfByte, isCutMarker, latin1 } from './bytes.js';
import { WireError, WireErrorCode } from './errors.js';
import { MAX_NESTING_DEPTH, MAX_WIRE_MESSAGE_BYTES } from './limits.js';
import { F, FIELD_TYPE_CODE, HaMessage, fieldNameProblem, nameBytes, type HaField } from './message.js';
import { packList, unpackList } from './string-list.js';

export const CLASSIC_START = '>>>\n';
export const CLASSIC_END = '<<<\n';

const NL = 0x0a;
/** What a newline inside a string value becomes. */
const STRING_NL = 0x13;
/** What the newlines of a nested message become, by the depth of the message holding the field. */
const NESTED_NL = [20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 15, 16, 17, 18] as const;

function nestedSymbol(depth: number): number {
  const sym = NESTED_NL[depth];
  if (sym === undefined) throw new WireError(WireErrorCode.Unencodable, `messages nested deeper than ${MAX_NESTING_DEPTH}`);
  return sym;
}

const unencodable = (f: HaField, why: string): never => {
  throw new WireError(WireErrorCode.Unencodable, `field ${JSON.stringify(f.name)} cannot be sent in classic format: ${why}`);
};

function writeField(f: HaField, out: ByteWriter, depth: number): void {
  if (f.kind !== 'string') out.ascii(`(${FIELD_TYPE_CODE[f.kind]})`);
  out.bytes(nameBytes(f.name));
  out.ascii('=');
  switch (f.kind) {
    case 'string': {
      // The original turns 0x13 back into a newline and stops at NUL: both would be lost.
      if (f.value.includes(0)) unencodable(f, 'NUL in the value');
      if (f.value.includes(STRING_NL)) unencodable(f, 'byte 0x13 in the value');
      out.bytes(f.value.map((c) => (c === NL ? STRING_NL : c)));
      break;
    }
    case 'binary':
      out.ascii(toBase64(f.value));
      break;
    case 'list':
      if (f.value.some((i) => i.includes(NL))) unencodable(f, 'newline in a list element');
      packList(f.value, out);
      break;
    case 'struct': {
      const sym = nestedSymbol(depth);
      const child = new ByteWriter();
      writeMessage(f.value, child, depth + 1, true);
      const text = child.finish();
      if (text.includes(sym)) unencodable(f, `byte 0x${sym.toString(16)} in the nested message`);
      out.bytes(text.map((c) => (c === NL ? sym : c)));
      break;
    }
  }
  out.ascii('\n');
}

function writeMessage(m: HaMessage, out: ByteWriter, depth: number, withMarkers: boolean, skipAuth = false): void {
  if (depth > MAX_NESTING_DEPTH) throw new WireError(WireErrorCode.Unencodable, `messages nested deeper than ${MAX_NESTING_DEPTH}`);
  if (withMarkers) out.ascii(CLASSIC_START);
  for (const f of m.fields) if (!(skipAuth && f.name === F.auth)) writeField(f, out, depth);
  if (withMarkers) out.ascii(CLASSIC_END);
}

/** `>>>\n` .. `<<<\n`, plus a NUL when asked (IPC bodies). */
export function encodeClassic(m: HaMessage, opts: { trailingNul?: boolean } = {}): Uint8Array {
  const out = new ByteWriter();
  writeMessage(m, out, 0, true);
  if (opts.trailingNul === true) out.bytes(new Uint8Array(1));
  if (out.length > MAX_WIRE_MESSAGE_BYTES) throw new WireError(WireErrorCode.TooLarge, `message of ${out.length} bytes exceeds ${MAX_WIRE_MESSAGE_BYTES}`);
  return out.finish();
}

/**
 * What the inner `auth` field signs: every field except those named `auth`, as
 * classic lines, in order, without the `>>>`/`<<<` markers.
 */
export function classicAuthInput(m: HaMessage): Uint8Array {
  const out = new ByteWriter();
  writeMessage(m, out, 0, false, true);
  return out.finish();
}

// ---- decoding ----

/** One `name=value` line `b[start, end)`; `base` shifts error offsets to the outer input. */
function readLine(b: Uint8Array, start: number, end: number, depth: number, base: number): HaField {
  if (start === end) throw new WireError(WireErrorCode.BadLine, 'empty line', base + start);
  const eq = indexOfByte(b, 0x3d, start, end);
  if (eq < 0) throw new WireError(WireErrorCode.BadLine, 'line has no "="', base + start);
  let nameStart = start;
  let code = 0;
  if (b[start] === 0x28) {
    const digit = b[start + 1]! - 0x30;
    if (eq - start < 4 || b[start + 2] !== 0x29 || digit < 0 || digit > 9) {
      throw new WireError(WireErrorCode.BadField, 'type prefix is not "(<digit>)"', base + start);
    }
    if (digit === 0) throw new WireError(WireErrorCode.BadField, '"(0)" prefix is not allowed in classic format', base + start);
    if (digit > 3) throw new WireError(WireErrorCode.BadFieldType, `field type ${digit} is not decoded (only 0-3)`, base + start + 1);
    code = digit;
    nameStart = start + 3;
  }
  const name = latin1(b, nameStart, eq);
  const problem = fieldNameProblem(name);
  if (problem !== undefined) throw new WireError(WireErrorCode.BadField, problem, base + nameStart);
  const vStart = eq + 1;
  const raw = b.subarray(vStart, end);
  switch (code) {
    case 0:
      return { name, kind: 'string', value: raw.map((c) => (c === STRING_NL ? NL : c)) };
    case 1:
      return { name, kind: 'binary', value: fromBase64(latin1(b, vStart, end), base + vStart) };
    case 2: {
      const sym = NESTED_NL[depth];
      if (sym === undefined) throw new WireError(WireErrorCode.TooDeep, `messages nested deeper than ${MAX_NESTING_DEPTH}`, base + vStart);
      const text = raw.map((c) => (c === sym ? NL : c));
      const inner = readMessage(text, 0, depth + 1, base + vStart);
      if (inner.next !== text.length) throw new WireError(WireErrorCode.BadField, 'bytes after a nested message', base + vStart + inner.next);
      return { name, kind: 'struct', value: inner.message };
    }
    default:
      return { name, kind: 'list', value: unpackList(raw, base + vStart) };
  }
}

/** `base` maps offsets in `b` back to the outer input for error messages. */
function readMessage(b: Uint8Array, pos: number, depth: number, base: number): { message: HaMessage; next: number } {
  if (depth > MAX_NESTING_DEPTH) throw new WireError(WireErrorCode.TooDeep, `messages nested deeper than ${MAX_NESTING_DEPTH}`, base + pos);
  if (!hasAt(b, pos, CLASSIC_START)) {
    if (isCutMarker(b, pos, CLASSIC_START)) throw new WireError(WireErrorCode.Truncated, 'input ends inside ">>>\\n"', base + pos);
    throw new WireError(WireErrorCode.BadStart, 'message does not start with ">>>\\n"', base + pos);
  }
  const message = new HaMessage();
  pos += CLASSIC_START.length;
  for (;;) {
    if (hasAt(b, pos, CLASSIC_END)) return { message, next: pos + CLASSIC_END.length };
    const nl = indexOfByte(b, NL, pos);
    if (nl < 0) throw new WireError(WireErrorCode.Truncated, 'no "<<<\\n" end marker', base + pos);
    const nul = indexOfByte(b, 0, pos, nl);
    if (nul >= 0) throw new WireError(WireErrorCode.BadLine, 'NUL inside a line', base + nul);
    message.push(readLine(b, pos, nl, depth, base));
    pos = nl + 1;
  }
}

export interface ClassicDecoded {
  readonly message: HaMessage;
  /** The input ended with one NUL after `<<<\n` (glue's IPC and old UDP senders add it). */
  readonly trailingNul: boolean;
}

/** Decodes one classic message; throws WireError for anything malformed. */
export function decodeClassic(input: Uint8Array): ClassicDecoded {
  if (input.length > MAX_WIRE_MESSAGE_BYTES) throw new WireError(WireErrorCode.TooLarge, `packet of ${input.length} bytes exceeds ${MAX_WIRE_MESSAGE_BYTES}`);
  const { message, next } = readMessage(input, 0, 0, 0);
  if (next === input.length) return { message, trailingNul: false };
  if (next + 1 === input.length && input[next] === 0) return { message, trailingNul: true };
  throw new WireError(WireErrorCode.TrailingData, `${input.length - next} byte(s) after "<<<\\n"`, next);
}
