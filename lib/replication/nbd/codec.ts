/**
 * NBD wire format, server side (the protocol as documented by the NBD project,
 * doc/proto.md): fixed newstyle handshake, options, transmission requests and
 * simple replies. Pure: bytes in, events or bytes out. Structured replies are not
 * offered (clients fall back to simple replies).
 */
export const NBDMAGIC = 0x4e42444d41474943n;
export const IHAVEOPT = 0x49484156454f5054n;
export const OPT_REPLY_MAGIC = 0x3e889045565a9n;
export const REQUEST_MAGIC = 0x25609513;
export const SIMPLE_REPLY_MAGIC = 0x67446698;

export const HS_FLAG = { FIXED_NEWSTYLE: 1, NO_ZEROES: 2 } as const;

export const OPT = {
  EXPORT_NAME: 1,
  ABORT: 2,
  LIST: 3,
  STARTTLS: 5,
  INFO: 6,
  GO: 7,
  STRUCTURED_REPLY: 8,
  LIST_META_CONTEXT: 9,
  SET_META_CONTEXT: 10,
} as const;

export const REP = {
  ACK: 1,
  SERVER: 2,
  INFO: 3,
  ERR_UNSUP: 0x8000_0001,
  ERR_POLICY: 0x8000_0002,
  ERR_INVALID: 0x8000_0003,
  ERR_PLATFORM: 0x8000_0004,
  ERR_TLS_REQD: 0x8000_0005,
  ERR_UNKNOWN: 0x8000_0006,
  ERR_SHUTDOWN: 0x8000_0007,
} as const;

export const INFO = { EXPORT: 0, NAME: 1, DESCRIPTION: 2, BLOCK_SIZE: 3 } as const;

export const TF = {
  HAS_FLAGS: 1,
  READ_ONLY: 2,
  SEND_FLUSH: 4,
  SEND_FUA: 8,
  ROTATIONAL: 16,
  SEND_TRIM: 32,
  SEND_WRITE_ZEROES: 64,
  SEND_DF: 128,
  CAN_MULTI_CONN: 256,
} as const;

export const CMD = { READ: 0, WRITE: 1, DISC: 2, FLUSH: 3, TRIM: 4, CACHE: 5, WRITE_ZEROES: 6, BLOCK_STATUS: 7 } as const;
export const CMD_FLAG = { FUA: 1, NO_HOLE: 2, DF: 4, REQ_ONE: 8, FAST_ZERO: 16 } as const;

export const ERRNO = { EPERM: 1, EIO: 5, ENOMEM: 12, EINVAL: 22, ENOSPC: 28, EOVERFLOW: 75, ENOTSUP: 95, ESHUTDOWN: 108 } as const;

/** Largest request payload we accept (32 MiB, the limit the reference server uses). */
export const MAX_PAYLOAD = 32 * 1024 * 1024;

export function encodeServerGreeting(): Uint8Array {
  const b = Buffer.alloc(18);
  b.writeBigUInt64BE(NBDMAGIC, 0);
  b.writeBigUInt64BE(IHAVEOPT, 8);
  b.writeUInt16BE(HS_FLAG.FIXED_NEWSTYLE | HS_FLAG.NO_ZEROES, 16);
  return b;
}

export function encodeOptionReply(option: number, type: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const b = Buffer.alloc(20 + data.length);
  b.writeBigUInt64BE(OPT_REPLY_MAGIC, 0);
  b.writeUInt32BE(option >>> 0, 8);
  b.writeUInt32BE(type >>> 0, 12);
  b.writeUInt32BE(data.length, 16);
  b.set(data, 20);
  return b;
}

/** An error reply with a human-readable message (the spec allows UTF-8 text as data). */
export function encodeOptionError(option: number, type: number, message: string): Uint8Array {
  return encodeOptionReply(option, type, Buffer.from(message, 'utf8'));
}

export function encodeInfoExport(size: bigint, flags: number): Uint8Array {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(INFO.EXPORT, 0);
  b.writeBigUInt64BE(size, 2);
  b.writeUInt16BE(flags, 10);
  return b;
}

export function encodeInfoBlockSize(min: number, preferred: number, max: number): Uint8Array {
  const b = Buffer.alloc(14);
  b.writeUInt16BE(INFO.BLOCK_SIZE, 0);
  b.writeUInt32BE(min, 2);
  b.writeUInt32BE(preferred, 6);
  b.writeUInt32BE(max, 10);
  return b;
}

export function encodeInfoText(kind: typeof INFO.NAME | typeof INFO.DESCRIPTION, text: string): Uint8Array {
  const t = Buffer.from(text, 'utf8');
  const b = Buffer.alloc(2 + t.length);
  b.writeUInt16BE(kind, 0);
  b.set(t, 2);
  return b;
}

/** Reply to NBD_OPT_EXPORT_NAME: size, flags and (without NO_ZEROES) 124 zero bytes. */
export function encodeExportNameReply(size: bigint, flags: number, noZeroes: boolean): Uint8Array {
  const b = Buffer.alloc(10 + (noZeroes ? 0 : 124));
  b.writeBigUInt64BE(size, 0);
  b.writeUInt16BE(flags, 8);
  return b;
}

export function encodeSimpleReply(error: number, handle: bigint, data?: Uint8Array): Uint8Array {
  const b = Buffer.alloc(16 + (data?.length ?? 0));
  b.writeUInt32BE(SIMPLE_REPLY_MAGIC, 0);
  b.writeUInt32BE(error >>> 0, 4);
  b.writeBigUInt64BE(handle, 8);
  if (data !== undefined) b.set(data, 16);
  return b;
}

export interface NbdRequest {
  readonly flags: number;
  readonly type: number;
  readonly handle: bigint;
  readonly offset: bigint;
  readonly length: number;
  /** WRITE payload. */
  readonly data?: Uint8Array;
}

export type ServerEvent =
  | { readonly kind: 'client-flags'; readonly flags: number }
  | { readonly kind: 'option'; readonly option: number; readonly data: Uint8Array }
  | { readonly kind: 'request'; readonly request: NbdRequest }
  /** The peer broke the protocol; the connection must be closed. */
  | { readonly kind: 'protocol-error'; readonly message: string };

/**
 * Splits the client's byte stream into events. Phases: client flags (4 bytes),
 * then options until the server calls `startTransmission()`, then requests.
 */
export class NbdServerDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private phase: 'flags' | 'options' | 'transmission' | 'dead' = 'flags';

  startTransmission(): void {
    if (this.phase !== 'dead') this.phase = 'transmission';
  }

  get dead(): boolean {
    return this.phase === 'dead';
  }

  push(chunk: Uint8Array): ServerEvent[] {
    if (this.phase === 'dead') return [];
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: ServerEvent[] = [];
    for (;;) {
      const ev = this.next();
      if (ev === undefined) break;
      out.push(ev);
      if (ev.kind === 'protocol-error') {
        this.phase = 'dead';
        this.buf = Buffer.alloc(0);
        break;
      }
      // Options are answered before the next one is read: stop after an option that may switch phase.
      if (ev.kind === 'option' && (ev.option === OPT.GO || ev.option === OPT.EXPORT_NAME)) break;
    }
    return out;
  }

  /** More events from bytes already buffered (after startTransmission()). */
  drain(): ServerEvent[] {
    return this.push(new Uint8Array(0));
  }

  private next(): ServerEvent | undefined {
    const b = this.buf;
    if (this.phase === 'flags') {
      if (b.length < 4) return undefined;
      const flags = b.readUInt32BE(0);
      this.buf = b.subarray(4);
      this.phase = 'options';
      if ((flags & HS_FLAG.FIXED_NEWSTYLE) === 0) return { kind: 'protocol-error', message: 'client does not support fixed newstyle negotiation' };
      if ((flags & ~(HS_FLAG.FIXED_NEWSTYLE | HS_FLAG.NO_ZEROES)) !== 0) return { kind: 'protocol-error', message: `unknown client flags 0x${flags.toString(16)}` };
      return { kind: 'client-flags', flags };
    }
    if (this.phase === 'options') {
      if (b.length < 16) return undefined;
      if (b.readBigUInt64BE(0) !== IHAVEOPT) return { kind: 'protocol-error', message: 'bad option magic' };
      const option = b.readUInt32BE(8);
      const len = b.readUInt32BE(12);
      if (len > 65536) return { kind: 'protocol-error', message: `option data too long (${len} bytes)` };
      if (b.length < 16 + len) return undefined;
      const data = Uint8Array.prototype.slice.call(b, 16, 16 + len);
      this.buf = b.subarray(16 + len);
      return { kind: 'option', option, data };
    }
    if (this.phase === 'transmission') {
      if (b.length < 28) return undefined;
      if (b.readUInt32BE(0) !== REQUEST_MAGIC) return { kind: 'protocol-error', message: 'bad request magic' };
      const flags = b.readUInt16BE(4);
      const type = b.readUInt16BE(6);
      const handle = b.readBigUInt64BE(8);
      const offset = b.readBigUInt64BE(16);
      const length = b.readUInt32BE(24);
      if (type === CMD.WRITE) {
        if (length > MAX_PAYLOAD) return { kind: 'protocol-error', message: `write payload too large (${length} bytes)` };
        if (b.length < 28 + length) return undefined;
        const data = Uint8Array.prototype.slice.call(b, 28, 28 + length);
        this.buf = b.subarray(28 + length);
        return { kind: 'request', request: { flags, type, handle, offset, length, data } };
      }
      this.buf = b.subarray(28);
      return { kind: 'request', request: { flags, type, handle, offset, length } };
    }
    return undefined;
  }
}

/** Client-side encoders, used by our tests and by anything that talks NBD to a peer. */
export function encodeOption(option: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const b = Buffer.alloc(16 + data.length);
  b.writeBigUInt64BE(IHAVEOPT, 0);
  b.writeUInt32BE(option, 8);
  b.writeUInt32BE(data.length, 12);
  b.set(data, 16);
  return b;
}

export function encodeRequest(r: NbdRequest): Uint8Array {
  const b = Buffer.alloc(28 + (r.data?.length ?? 0));
  b.writeUInt32BE(REQUEST_MAGIC, 0);
  b.writeUInt16BE(r.flags, 4);
  b.writeUInt16BE(r.type, 6);
  b.writeBigUInt64BE(r.handle, 8);
  b.writeBigUInt64BE(r.offset, 16);
  b.writeUInt32BE(r.length, 24);
  if (r.data !== undefined) b.set(r.data, 28);
  return b;
}

/** NBD_OPT_GO / NBD_OPT_INFO data: name length, name, info requests. */
export function encodeGoData(name: string, infos: readonly number[] = []): Uint8Array {
  const n = Buffer.from(name, 'utf8');
  const b = Buffer.alloc(4 + n.length + 2 + 2 * infos.length);
  b.writeUInt32BE(n.length, 0);
  b.set(n, 4);
  b.writeUInt16BE(infos.length, 4 + n.length);
  infos.forEach((i, k) => b.writeUInt16BE(i, 6 + n.length + 2 * k));
  return b;
}

export function decodeGoData(data: Uint8Array): { name: string; infos: number[] } | undefined {
  const b = Buffer.from(data.buffer, data.byteOffset, data.length);
  if (b.length < 6) return undefined;
  const nl = b.readUInt32BE(0);
  if (4 + nl + 2 > b.length) return undefined;
  const name = b.subarray(4, 4 + nl).toString('utf8');
  const n = b.readUInt16BE(4 + nl);
  if (6 + nl + 2 * n !== b.length) return undefined;
  const infos: number[] = [];
  for (let k = 0; k < n; k++) infos.push(b.readUInt16BE(6 + nl + 2 * k));
  return { name, infos };
}
