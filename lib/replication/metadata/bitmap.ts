/**
 * The out-of-sync bitmap: one bit per 4 KiB block, bit set = "this block may differ
 * from the peer". Kept in memory; the pages (4 KiB of bitmap = 128 MiB of data)
 * changed since the last flush are tracked so the shell writes only those.
 */
import { AL_EXTENT_SIZE, BM_BLOCK_SIZE } from './layout.js';

export const BM_PAGE = 4096;
const BITS_PER_EXTENT = AL_EXTENT_SIZE / BM_BLOCK_SIZE;

const POP = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) t[i] = (i & 1) + t[i >> 1]!;
  return t;
})();

export class Bitmap {
  readonly bits: number;
  readonly bytes: Uint8Array;
  private readonly dirty = new Set<number>();
  private weight: number;

  /** `bits` blocks; `from` = bytes read from disk (extra bits beyond `bits` are ignored and cleared). */
  constructor(bits: number, from?: Uint8Array) {
    this.bits = bits;
    this.bytes = new Uint8Array(Math.ceil(Math.ceil(bits / 8) / BM_PAGE) * BM_PAGE);
    if (from !== undefined) this.bytes.set(from.subarray(0, Math.min(from.length, this.bytes.length)));
    // Bits past the end are not blocks; keep them clear so count() is exact.
    const whole = bits >> 3;
    if ((bits & 7) !== 0) {
      this.bytes[whole] = this.bytes[whole]! & ((1 << (bits & 7)) - 1);
      this.bytes.fill(0, whole + 1);
    } else this.bytes.fill(0, whole);
    this.weight = 0;
    for (const x of this.bytes) this.weight += POP[x]!;
  }

  /** Number of set bits (out-of-sync blocks). */
  count(): number {
    return this.weight;
  }

  test(bit: number): boolean {
    return (this.bytes[bit >> 3]! & (1 << (bit & 7))) !== 0;
  }

  private setBit(bit: number, on: boolean): void {
    const i = bit >> 3;
    const m = 1 << (bit & 7);
    const was = (this.bytes[i]! & m) !== 0;
    if (was === on) return;
    this.bytes[i] = on ? this.bytes[i]! | m : this.bytes[i]! & ~m;
    this.weight += on ? 1 : -1;
    this.dirty.add(Math.floor(i / BM_PAGE));
  }

  /** Blocks touched by `length` bytes at byte `offset` (first bit, last bit inclusive); undefined for length 0. */
  static blockRange(offset: number, length: number): [number, number] | undefined {
    if (length <= 0) return undefined;
    return [Math.floor(offset / BM_BLOCK_SIZE), Math.floor((offset + length - 1) / BM_BLOCK_SIZE)];
  }

  /** Marks the blocks a write of `length` bytes at `offset` touches; returns how many bits changed. */
  setRange(offset: number, length: number): number {
    return this.apply(offset, length, true, false);
  }

  /** Clears bits of blocks fully covered by the range (a resync of whole blocks). */
  clearRange(offset: number, length: number): number {
    return this.apply(offset, length, false, true);
  }

  private apply(offset: number, length: number, on: boolean, wholeOnly: boolean): number {
    const r = Bitmap.blockRange(offset, length);
    if (r === undefined) return 0;
    let [a, b] = r;
    if (wholeOnly) {
      if (offset % BM_BLOCK_SIZE !== 0) a++;
      if ((offset + length) % BM_BLOCK_SIZE !== 0) b--;
    }
    b = Math.min(b, this.bits - 1);
    const before = this.weight;
    for (let bit = a; bit <= b; bit++) this.setBit(bit, on);
    return Math.abs(this.weight - before);
  }

  setAll(): void {
    for (let bit = 0; bit < this.bits; bit++) this.setBit(bit, true);
  }

  clearAll(): void {
    for (let bit = 0; bit < this.bits; bit++) this.setBit(bit, false);
  }

  /** Marks every block of the 4 MiB activity-log extent `extent` (applying the AL after a crash). */
  setExtent(extent: number): number {
    const first = extent * BITS_PER_EXTENT;
    if (first >= this.bits) return 0;
    return this.apply(first * BM_BLOCK_SIZE, AL_EXTENT_SIZE, true, false);
  }

  /** The bitmap page index holding the bits of an AL extent. */
  static pageOfExtent(extent: number): number {
    return Math.floor((extent * BITS_PER_EXTENT) / 8 / BM_PAGE);
  }

  /** Pages changed since the last `takeDirty()`, in order, and forgets them. */
  takeDirty(): number[] {
    const out = [...this.dirty].sort((x, y) => x - y);
    this.dirty.clear();
    return out;
  }

  markAllDirty(): void {
    for (let p = 0; p < this.bytes.length / BM_PAGE; p++) this.dirty.add(p);
  }

  page(p: number): Uint8Array {
    return this.bytes.subarray(p * BM_PAGE, (p + 1) * BM_PAGE);
  }

  /** Set bits in order, for a resync walker. */
  *setBits(from = 0): Generator<number> {
    for (let i = from >> 3; i < this.bytes.length; i++) {
      const x = this.bytes[i]!;
      if (x === 0) continue;
      for (let k = 0; k < 8; k++) {
        const bit = i * 8 + k;
        if (bit >= from && bit < this.bits && x & (1 << k)) yield bit;
      }
    }
  }
}
