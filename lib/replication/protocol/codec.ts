/**
 * Encoding and decoding of our replication messages (framing apart from
 * transport, the mqtt-packet model). Pure: bytes in, messages or typed
 * ReplErrors out. Every size is bounded before anything is allocated, and
 * any input ends in a message or a ReplError, never another exception.
 */
import { ReplError, ReplErrorCode } from './errors.js';
import {
  CHALLENGE_BYTES,
  DATA_FLAG_FUA,
  FRAME_MAGIC,
  HEADER_BYTES,
  MAX_BITMAP_CHUNK,
  MAX_DATA_BYTES,
  MAX_DIGEST_BYTES,
  MAX_FRAME_BODY,
  MAX_STRING_BYTES,
  MSG_TYPES,
  SECTOR,
  type Message,
  type MsgType,
  type Uuids,
} from './messages.js';
import { AFTER_SB_0PRI, AFTER_SB_1PRI, AFTER_SB_2PRI, DISK_STATES, ROLES } from './states.js';

const TYPE_BY_CODE = new Map<number, MsgType>(Object.entries(MSG_TYPES).map(([k, v]) => [v, k as MsgType]));
const PROTOCOLS = ['A', 'B', 'C'] as const;
const MAX_U53 = Number.MAX_SAFE_INTEGER;
const U64_MASK = (1n << 64n) - 1n;

const bad = (msg: string): ReplError => new ReplError(ReplErrorCode.BadField, msg);

class Writer {
  private buf: Uint8Array;
  private view: DataView;
  len = 0;
  constructor(size = 256) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.room(1);
    this.view.setUint8(this.len, v);
    this.len += 1;
  }
  u16(v: number): void {
    this.room(2);
    this.view.setUint16(this.len, v);
    this.len += 2;
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.len, v >>> 0);
    this.len += 4;
  }
  u64(v: bigint): void {
    this.room(8);
    this.view.setBigUint64(this.len, v & U64_MASK);
    this.len += 8;
  }
  /** A non-negative safe integer, as u64. */
  u53(v: number, what: string): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new ReplError(ReplErrorCode.Unencodable, `${what} ${v} is not a non-negative integer`);
    this.u64(BigInt(v));
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  /** u8 length + bytes. */
  shortBytes(b: Uint8Array, max: number, what: string): void {
    if (b.length > max) throw new ReplError(ReplErrorCode.Unencodable, `${what} is ${b.length} bytes, at most ${max}`);
    this.u8(b.length);
    this.bytes(b);
  }
  str(s: string, what: string): void {
    this.shortBytes(new TextEncoder().encode(s), MAX_STRING_BYTES, what);
  }
  done(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

class Reader {
  private pos = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new ReplError(ReplErrorCode.Truncated, `message body ends at byte ${this.buf.length}, needed ${this.pos + n}`);
  }
  u8(): number {
    this.need(1);
    return this.view.getUint8(this.pos++);
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }
  u53(what: string): number {
    const v = this.u64();
    if (v > BigInt(MAX_U53)) throw bad(`${what} ${v} is too large`);
    return Number(v);
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  shortBytes(max: number, what: string): Uint8Array {
    const n = this.u8();
    if (n > max) throw bad(`${what} is ${n} bytes, at most ${max}`);
    return this.bytes(n);
  }
  str(what: string): string {
    const b = this.shortBytes(MAX_STRING_BYTES, what);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      throw bad(`${what} is not UTF-8`);
    }
  }
  rest(): Uint8Array {
    return this.bytes(this.buf.length - this.pos);
  }
  end(): void {
    if (this.pos !== this.buf.length) throw new ReplError(ReplErrorCode.TrailingData, `${this.buf.length - this.pos} bytes after the message`);
  }
}

function enumCode<T extends string>(list: readonly T[], v: T, what: string): number {
  const i = list.indexOf(v);
  if (i < 0) throw new ReplError(ReplErrorCode.Unencodable, `${what} '${v}' is not one of ${list.join(', ')}`);
  return i;
}

function enumValue<T extends string>(list: readonly T[], code: number, what: string): T {
  const v = list[code];
  if (v === undefined) throw bad(`${what} code ${code} is unknown`);
  return v;
}

function checkRange(offset: number, length: number, what: string, maxLen: number): void {
  if (offset % SECTOR !== 0) throw bad(`${what} offset ${offset} is not a multiple of ${SECTOR}`);
  if (length <= 0 || length % SECTOR !== 0 || length > maxLen) throw bad(`${what} length ${length} must be a positive multiple of ${SECTOR}, at most ${maxLen}`);
  if (offset + length > MAX_U53) throw bad(`${what} range ends beyond 2^53`);
}

function writeUuids(w: Writer, u: Uuids): void {
  w.u64(u.current);
  w.u64(u.bitmap);
  w.u64(u.history1);
  w.u64(u.history2);
}

function readUuids(r: Reader): Uuids {
  return { current: r.u64(), bitmap: r.u64(), history1: r.u64(), history2: r.u64() };
}

/** The body of one message (no header). */
export function encodeBody(m: Message): Uint8Array {
  const w = new Writer(m.type === 'data' || m.type === 'rsReply' ? m.payload.length + 64 : 128);
  writeBody(w, m);
  return w.done();
}

function writeBody(w: Writer, m: Message): void {
  switch (m.type) {
    case 'hello':
      w.u16(m.versionMin);
      w.u16(m.versionMax);
      w.str(m.node, 'node name');
      w.str(m.authAlg, 'cram-hmac-alg');
      break;
    case 'authChallenge':
      w.shortBytes(m.challenge, CHALLENGE_BYTES, 'challenge');
      break;
    case 'authResponse':
      w.shortBytes(m.response, MAX_DIGEST_BYTES, 'response');
      break;
    case 'reportParams':
      w.u8(enumCode(PROTOCOLS, m.protocol, 'protocol'));
      w.u8(enumCode(AFTER_SB_0PRI, m.afterSb0, 'after-sb-0pri'));
      w.u8(enumCode(AFTER_SB_1PRI, m.afterSb1, 'after-sb-1pri'));
      w.u8(enumCode(AFTER_SB_2PRI, m.afterSb2, 'after-sb-2pri'));
      w.u8(m.allowTwoPrimaries ? 1 : 0);
      w.str(m.dataIntegrityAlg, 'data-integrity-alg');
      w.str(m.verifyAlg, 'verify-alg');
      if (m.sizeBytes % SECTOR !== 0) throw new ReplError(ReplErrorCode.Unencodable, `size ${m.sizeBytes} is not a multiple of ${SECTOR}`);
      w.u53(m.sizeBytes, 'size');
      writeUuids(w, m.uuids);
      w.u32(m.uuidFlags);
      w.u53(m.bitsSet, 'bits set');
      w.u8(enumCode(ROLES, m.role, 'role'));
      w.u8(enumCode(DISK_STATES, m.disk, 'disk state'));
      break;
    case 'state':
      w.u8(enumCode(ROLES, m.role, 'role'));
      w.u8(enumCode(DISK_STATES, m.disk, 'disk state'));
      w.u8(m.userPause ? 1 : 0);
      writeUuids(w, m.uuids);
      w.u32(m.uuidFlags);
      break;
    case 'syncUuid':
      writeUuids(w, m.uuids);
      break;
    case 'bitmap':
      w.u53(m.startBit, 'start bit');
      w.u32(m.bits);
      w.u8(m.last ? 1 : 0);
      if (m.rle.length > MAX_BITMAP_CHUNK) throw new ReplError(ReplErrorCode.Unencodable, `bitmap chunk of ${m.rle.length} bytes`);
      w.u32(m.rle.length);
      w.bytes(m.rle);
      break;
    case 'data':
      if (m.payload.length > MAX_DATA_BYTES) throw new ReplError(ReplErrorCode.Unencodable, `data payload of ${m.payload.length} bytes`);
      checkRange(m.offset, m.payload.length, 'data', MAX_DATA_BYTES);
      w.u53(m.seq, 'sequence number');
      w.u53(m.offset, 'offset');
      w.u8(m.fua ? DATA_FLAG_FUA : 0);
      w.shortBytes(m.digest, MAX_DIGEST_BYTES, 'digest');
      w.bytes(m.payload);
      break;
    case 'recvAck':
    case 'writeAck':
    case 'negAck':
      w.u53(m.seq, 'sequence number');
      break;
    case 'barrier':
    case 'barrierAck':
      w.u32(m.nr);
      break;
    case 'ping':
    case 'pingAck':
    case 'resyncDone':
    case 'verifyDone':
      break;
    case 'rsRequest':
    case 'rsWriteAck':
    case 'rsNegAck':
    case 'ovRequest':
      checkRange(m.offset, m.length, m.type, MAX_DATA_BYTES);
      w.u32(m.id);
      w.u53(m.offset, 'offset');
      w.u32(m.length);
      break;
    case 'rsReply':
      checkRange(m.offset, m.payload.length, 'rsReply', MAX_DATA_BYTES);
      w.u32(m.id);
      w.u53(m.offset, 'offset');
      w.shortBytes(m.digest, MAX_DIGEST_BYTES, 'digest');
      w.bytes(m.payload);
      break;
    case 'ovReply':
      checkRange(m.offset, m.length, 'ovReply', MAX_DATA_BYTES);
      w.u32(m.id);
      w.u53(m.offset, 'offset');
      w.u32(m.length);
      w.shortBytes(m.digest, MAX_DIGEST_BYTES, 'digest');
      break;
    case 'startSync':
      w.u8((m.senderIsSource ? 1 : 0) | (m.full ? 2 : 0));
      break;
    case 'verifyStart':
      w.u53(m.start, 'verify start');
      w.u53(m.stop, 'verify stop');
      break;
    case 'disconnect':
      w.str(m.reason, 'reason');
      break;
  }
}

/** One whole frame: header and body, built in one buffer (a data payload is copied once). */
export function encodeFrame(m: Message): Uint8Array {
  const w = new Writer(m.type === 'data' || m.type === 'rsReply' ? m.payload.length + 128 : 128);
  w.u32(FRAME_MAGIC);
  w.u16(MSG_TYPES[m.type]);
  w.u16(0);
  w.u32(0);
  writeBody(w, m);
  const out = w.done();
  new DataView(out.buffer, out.byteOffset).setUint32(8, out.length - HEADER_BYTES);
  return out;
}

function decodeBodyUnchecked(type: MsgType, r: Reader): Message {
  switch (type) {
    case 'hello': {
      const versionMin = r.u16();
      const versionMax = r.u16();
      if (versionMin > versionMax || versionMin === 0) throw bad(`version range ${versionMin}..${versionMax}`);
      return { type, versionMin, versionMax, node: r.str('node name'), authAlg: r.str('cram-hmac-alg') };
    }
    case 'authChallenge': {
      const challenge = r.shortBytes(CHALLENGE_BYTES, 'challenge');
      if (challenge.length !== CHALLENGE_BYTES) throw bad(`challenge is ${challenge.length} bytes, not ${CHALLENGE_BYTES}`);
      return { type, challenge: challenge.slice() };
    }
    case 'authResponse':
      return { type, response: r.shortBytes(MAX_DIGEST_BYTES, 'response').slice() };
    case 'reportParams': {
      const protocol = enumValue(PROTOCOLS, r.u8(), 'protocol');
      const afterSb0 = enumValue(AFTER_SB_0PRI, r.u8(), 'after-sb-0pri');
      const afterSb1 = enumValue(AFTER_SB_1PRI, r.u8(), 'after-sb-1pri');
      const afterSb2 = enumValue(AFTER_SB_2PRI, r.u8(), 'after-sb-2pri');
      const two = r.u8();
      if (two > 1) throw bad(`allow-two-primaries ${two}`);
      const dataIntegrityAlg = r.str('data-integrity-alg');
      const verifyAlg = r.str('verify-alg');
      const sizeBytes = r.u53('size');
      if (sizeBytes % SECTOR !== 0) throw bad(`size ${sizeBytes} is not a multiple of ${SECTOR}`);
      const uuids = readUuids(r);
      const uuidFlags = r.u32();
      const bitsSet = r.u53('bits set');
      const role = enumValue(ROLES, r.u8(), 'role');
      const disk = enumValue(DISK_STATES, r.u8(), 'disk state');
      return { type, protocol, afterSb0, afterSb1, afterSb2, allowTwoPrimaries: two === 1, dataIntegrityAlg, verifyAlg, sizeBytes, uuids, uuidFlags, bitsSet, role, disk };
    }
    case 'state': {
      const role = enumValue(ROLES, r.u8(), 'role');
      const disk = enumValue(DISK_STATES, r.u8(), 'disk state');
      const p = r.u8();
      if (p > 1) throw bad(`user pause ${p}`);
      return { type, role, disk, userPause: p === 1, uuids: readUuids(r), uuidFlags: r.u32() };
    }
    case 'syncUuid':
      return { type, uuids: readUuids(r) };
    case 'bitmap': {
      const startBit = r.u53('start bit');
      const bits = r.u32();
      const last = r.u8();
      if (last > 1) throw bad(`bitmap last flag ${last}`);
      const n = r.u32();
      if (n > MAX_BITMAP_CHUNK) throw bad(`bitmap chunk of ${n} bytes`);
      return { type, startBit, bits, last: last === 1, rle: r.bytes(n).slice() };
    }
    case 'data': {
      const seq = r.u53('sequence number');
      const offset = r.u53('offset');
      const flags = r.u8();
      if ((flags & ~DATA_FLAG_FUA) !== 0) throw bad(`data flags ${flags}`);
      const digest = r.shortBytes(MAX_DIGEST_BYTES, 'digest').slice();
      const payload = r.rest().slice();
      checkRange(offset, payload.length, 'data', MAX_DATA_BYTES);
      return { type, seq, offset, fua: (flags & DATA_FLAG_FUA) !== 0, digest, payload };
    }
    case 'recvAck':
    case 'writeAck':
    case 'negAck':
      return { type, seq: r.u53('sequence number') };
    case 'barrier':
    case 'barrierAck':
      return { type, nr: r.u32() };
    case 'ping':
    case 'pingAck':
    case 'resyncDone':
    case 'verifyDone':
      return { type };
    case 'rsRequest':
    case 'rsWriteAck':
    case 'rsNegAck':
    case 'ovRequest': {
      const id = r.u32();
      const offset = r.u53('offset');
      const length = r.u32();
      checkRange(offset, length, type, MAX_DATA_BYTES);
      return { type, id, offset, length };
    }
    case 'rsReply': {
      const id = r.u32();
      const offset = r.u53('offset');
      const digest = r.shortBytes(MAX_DIGEST_BYTES, 'digest').slice();
      const payload = r.rest().slice();
      checkRange(offset, payload.length, 'rsReply', MAX_DATA_BYTES);
      return { type, id, offset, digest, payload };
    }
    case 'ovReply': {
      const id = r.u32();
      const offset = r.u53('offset');
      const length = r.u32();
      checkRange(offset, length, 'ovReply', MAX_DATA_BYTES);
      return { type, id, offset, length, digest: r.shortBytes(MAX_DIGEST_BYTES, 'digest').slice() };
    }
    case 'startSync': {
      const f = r.u8();
      if (f > 3) throw bad(`startSync flags ${f}`);
      return { type, senderIsSource: (f & 1) !== 0, full: (f & 2) !== 0 };
    }
    case 'verifyStart': {
      const start = r.u53('verify start');
      const stop = r.u53('verify stop');
      return { type, start, stop };
    }
    case 'disconnect':
      return { type, reason: r.str('reason') };
  }
}

/** Decodes one body of the given type code; throws ReplError only. */
export function decodeBody(typeCode: number, body: Uint8Array): Message {
  const type = TYPE_BY_CODE.get(typeCode);
  if (type === undefined) throw new ReplError(ReplErrorCode.UnknownType, `unknown message type ${typeCode}`);
  const r = new Reader(body);
  let m: Message;
  try {
    m = decodeBodyUnchecked(type, r);
  } catch (e) {
    if (e instanceof ReplError) throw e;
    throw new ReplError(ReplErrorCode.BadField, `undecodable ${type}: ${(e as Error).message}`);
  }
  r.end();
  return m;
}

export interface FrameHeader {
  readonly typeCode: number;
  readonly length: number;
}

export function decodeHeader(h: Uint8Array): FrameHeader {
  if (h.length < HEADER_BYTES) throw new ReplError(ReplErrorCode.Truncated, `frame header is ${h.length} bytes`);
  const v = new DataView(h.buffer, h.byteOffset, HEADER_BYTES);
  const magic = v.getUint32(0);
  if (magic !== FRAME_MAGIC) throw new ReplError(ReplErrorCode.BadMagic, `bad magic 0x${magic.toString(16).padStart(8, '0')}`);
  const flags = v.getUint16(6);
  if (flags !== 0) throw new ReplError(ReplErrorCode.BadFlags, `reserved header flags 0x${flags.toString(16)}`);
  const length = v.getUint32(8);
  if (length > MAX_FRAME_BODY) throw new ReplError(ReplErrorCode.TooLarge, `frame body of ${length} bytes, at most ${MAX_FRAME_BODY}`);
  return { typeCode: v.getUint16(4), length };
}

/** Decodes exactly one whole frame. */
export function decodeFrame(frame: Uint8Array): Message {
  const h = decodeHeader(frame);
  if (frame.length < HEADER_BYTES + h.length) throw new ReplError(ReplErrorCode.Truncated, `frame of ${frame.length} bytes, header says ${HEADER_BYTES + h.length}`);
  if (frame.length > HEADER_BYTES + h.length) throw new ReplError(ReplErrorCode.TrailingData, `${frame.length - HEADER_BYTES - h.length} bytes after the frame`);
  return decodeBody(h.typeCode, frame.subarray(HEADER_BYTES));
}

export type DecodeResult = { readonly ok: true; readonly message: Message } | { readonly ok: false; readonly error: ReplError };

/**
 * Splits a byte stream into frames. After the first error the stream has
 * lost sync and every later push returns nothing: the connection must go.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private failed = false;

  /** Bytes waiting for the rest of their frame. */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): DecodeResult[] {
    if (this.failed) return [];
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: DecodeResult[] = [];
    for (;;) {
      if (this.buffered < HEADER_BYTES) break;
      let header: FrameHeader;
      try {
        header = decodeHeader(this.peek(HEADER_BYTES));
      } catch (e) {
        this.failed = true;
        out.push({ ok: false, error: e as ReplError });
        break;
      }
      if (this.buffered < HEADER_BYTES + header.length) break;
      const frame = this.take(HEADER_BYTES + header.length);
      try {
        out.push({ ok: true, message: decodeBody(header.typeCode, frame.subarray(HEADER_BYTES)) });
      } catch (e) {
        this.failed = true;
        out.push({ ok: false, error: e instanceof ReplError ? e : new ReplError(ReplErrorCode.BadField, String(e)) });
        break;
      }
    }
    return out;
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    this.coalesce();
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length < n) this.coalesce();
    const head = this.chunks[0]!;
    const out = head.subarray(0, n);
    if (head.length === n) this.chunks.shift();
    else this.chunks[0] = head.subarray(n);
    this.buffered -= n;
    return out;
  }

  private coalesce(): void {
    const all = new Uint8Array(this.buffered);
    let o = 0;
    for (const c of this.chunks) {
      all.set(c, o);
      o += c.length;
    }
    this.chunks = [all];
  }
}
