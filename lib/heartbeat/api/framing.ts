/**
 * clplumbing's IPC stream framing (glue lib/clplumbing/ipcsocket.c): every
 * message is an 8-byte header, `int32 length` and `uint32 magic = 0xABCD`,
 * in the host's byte order (little-endian on every platform Debian ships
 * heartbeat for that we care about), then `length` bytes of body. Bodies are
 * ha_msg wire text: classic with a trailing NUL (what glue sends), or
 * netstring. Pure: no sockets here.
 */
import { decodeClassic, encodeClassic } from '../wire/classic.js';
import { WireError } from '../wire/errors.js';
import type { HaMessage } from '../wire/message.js';
import { decodeNetstring } from '../wire/netstring.js';
import { ApiError, ApiErrorCode } from './errors.js';

export const IPC_HEADER_BYTES = 8;
export const IPC_MAGIC = 0xabcd;
/** glue's MAXMSG: neither side sends or accepts a larger body. */
export const MAX_IPC_BODY_BYTES = 256 * 1024;

/** Header plus body. */
export function encodeIpcFrame(body: Uint8Array): Uint8Array {
  if (body.length > MAX_IPC_BODY_BYTES) throw new ApiError(ApiErrorCode.BadLength, `IPC body of ${body.length} bytes exceeds ${MAX_IPC_BODY_BYTES}`);
  const out = new Uint8Array(IPC_HEADER_BYTES + body.length);
  const view = new DataView(out.buffer);
  view.setInt32(0, body.length, true);
  view.setUint32(4, IPC_MAGIC, true);
  out.set(body, IPC_HEADER_BYTES);
  return out;
}

/** A message as glue puts it on an IPC channel: classic text plus one NUL, framed. */
export function encodeApiMessage(m: HaMessage): Uint8Array {
  return encodeIpcFrame(encodeClassic(m, { trailingNul: true }));
}

/** A frame body back to a message; ApiError API_BAD_BODY (cause: the WireError) otherwise. */
export function decodeApiBody(body: Uint8Array): HaMessage {
  try {
    if (body.length >= 3 && body[0] === 0x23 && body[1] === 0x23 && body[2] === 0x23) {
      // Netstring bodies may carry glue's NUL too; it is not part of the message.
      const text = body[body.length - 1] === 0 ? body.subarray(0, body.length - 1) : body;
      return decodeNetstring(text).message;
    }
    return decodeClassic(body).message;
  } catch (e) {
    if (e instanceof WireError) throw new ApiError(ApiErrorCode.BadBody, `bad API message: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * Splits a byte stream into frame bodies. Chunks may cut headers and bodies
 * anywhere; memory stays bounded by one maximal frame. After an error the
 * stream is out of step and the reader refuses everything (close the channel).
 */
export class IpcFrameReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private failed: ApiError | undefined;

  /** Bytes received but not yet returned as a body. */
  get pending(): number {
    return this.buffered;
  }

  /** Adds bytes; returns every body completed by them, in order. Throws ApiError. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw this.failed;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const bodies: Uint8Array[] = [];
    for (;;) {
      if (this.buffered < IPC_HEADER_BYTES) return bodies;
      const header = this.peek(IPC_HEADER_BYTES);
      const view = new DataView(header.buffer, header.byteOffset, IPC_HEADER_BYTES);
      const length = view.getInt32(0, true);
      const magic = view.getUint32(4, true);
      if (magic !== IPC_MAGIC) return this.fail(ApiErrorCode.BadMagic, `IPC header magic 0x${magic.toString(16)} is not 0xabcd`);
      if (length < 0 || length > MAX_IPC_BODY_BYTES) return this.fail(ApiErrorCode.BadLength, `IPC header announces ${length} bytes (at most ${MAX_IPC_BODY_BYTES})`);
      if (this.buffered < IPC_HEADER_BYTES + length) return bodies;
      const frame = this.take(IPC_HEADER_BYTES + length);
      bodies.push(frame.subarray(IPC_HEADER_BYTES));
    }
  }

  /** The stream ended: an ApiError API_TRUNCATED when a frame was cut, else nothing. */
  end(): void {
    if (this.failed) return;
    if (this.buffered > 0) this.fail(ApiErrorCode.Truncated, `connection closed inside a frame (${this.buffered} bytes pending)`);
  }

  private fail(code: ApiErrorCode, message: string): never {
    this.failed = new ApiError(code, message);
    this.chunks = [];
    this.buffered = 0;
    throw this.failed;
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return this.flatten().subarray(0, n);
  }

  private take(n: number): Uint8Array {
    if (this.chunks[0]!.length < n) this.flatten();
    const [first, ...others] = this.chunks;
    const out = first!.slice(0, n);
    const rest = first!.subarray(n);
    this.chunks = rest.length > 0 ? [rest, ...others] : others;
    this.buffered -= n;
    return out;
  }

  private flatten(): Uint8Array {
    const all = new Uint8Array(this.buffered);
    let off = 0;
    for (const c of this.chunks) {
      all.set(c, off);
      off += c.length;
    }
    this.chunks = [all];
    return all;
  }
}
