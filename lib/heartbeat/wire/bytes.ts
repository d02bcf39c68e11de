/**
 * Byte helpers. The wire carries C strings, i.e. bytes: field names are held as
 * latin1 JS strings (one char per byte, lossless), values as Uint8Array.
 */

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

export const utf8 = (s: string): Uint8Array => utf8Encoder.encode(s);
export const fromUtf8 = (b: Uint8Array): string => utf8Decoder.decode(b);

/** Bytes to a latin1 string: byte n becomes char code n, so nothing is lost. */
export function latin1(b: Uint8Array, start = 0, end = b.length): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}

/** A latin1 string back to bytes; the caller has checked every char is <= 0xFF. */
export const fromLatin1 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

export const isLatin1 = (s: string): boolean => !/[^\x00-\xff]/.test(s);

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when `marker` (ASCII) occurs in `b[pos, limit)` at `pos`. */
export function hasAt(b: Uint8Array, pos: number, marker: string, limit = b.length): boolean {
  if (pos < 0 || pos + marker.length > limit) return false;
  for (let i = 0; i < marker.length; i++) if (b[pos + i] !== marker.charCodeAt(i)) return false;
  return true;
}

/** True when `b[pos, limit)` is a proper prefix of `marker`: the input was cut inside it. */
export function isCutMarker(b: Uint8Array, pos: number, marker: string, limit = b.length): boolean {
  const n = limit - pos;
  if (n < 0 || n >= marker.length) return false;
  for (let i = 0; i < n; i++) if (b[pos + i] !== marker.charCodeAt(i)) return false;
  return true;
}

/** Index of `byte` in `b[from, limit)`, or -1. */
export function indexOfByte(b: Uint8Array, byte: number, from: number, limit = b.length): number {
  return b.subarray(0, limit).indexOf(byte, from);
}

/** Accumulates output bytes without repeated copying. */
export class ByteWriter {
  private readonly parts: Uint8Array[] = [];
  length = 0;
  bytes(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.length;
  }
  ascii(s: string): void {
    this.bytes(fromLatin1(s));
  }
  finish(): Uint8Array {
    return concatBytes(this.parts);
  }
}
