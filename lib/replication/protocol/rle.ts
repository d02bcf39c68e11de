/**
 * Run-length encoding of the dirty bitmap for the bitmap exchange (DRBD's
 * P_COMPRESSED_BITMAP idea, our own bytes): unsigned LEB128 run lengths,
 * alternating clear and set, starting with a clear run (0 when the chunk
 * starts dirty). A chunk holds at most MAX_BITMAP_CHUNK bytes of runs.
 */
import { ReplError, ReplErrorCode } from './errors.js';
import { MAX_BITMAP_CHUNK, type BitmapMsg } from './messages.js';
import type { DirtyBitmap } from './ports.js';

function putVarint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** Splits the whole bitmap into chunk messages (at least one, the last flagged). */
export function encodeBitmap(bm: DirtyBitmap, maxChunk = MAX_BITMAP_CHUNK): BitmapMsg[] {
  const msgs: BitmapMsg[] = [];
  let pos = 0;
  const total = bm.blocks;
  do {
    const start = pos;
    const bytes: number[] = [];
    let dirty = false;
    let runs = 0;
    // Each run costs at most 8 bytes; stop early enough to stay under maxChunk,
    // but always take a clear and a dirty run so that every chunk advances.
    while (pos < total && (runs < 2 || bytes.length + 16 <= maxChunk)) {
      runs++;
      const end = dirty ? bm.nextClean(pos) : (() => {
        const d = bm.nextDirty(pos);
        return d < 0 ? total : d;
      })();
      putVarint(bytes, end - pos);
      pos = end;
      dirty = !dirty;
    }
    msgs.push({ type: 'bitmap', startBit: start, bits: pos - start, last: pos >= total, rle: Uint8Array.from(bytes) });
  } while (pos < total);
  return msgs;
}

/**
 * Calls `onDirty(first, count)` for every dirty run in a chunk; checks the
 * runs add up to `bits` and stay within `totalBits`.
 */
export function decodeBitmapChunk(m: BitmapMsg, totalBits: number, onDirty: (first: number, count: number) => void): void {
  if (m.startBit + m.bits > totalBits) throw new ReplError(ReplErrorCode.BadBitmap, `bitmap chunk ${m.startBit}+${m.bits} beyond ${totalBits} bits`);
  let pos = m.startBit;
  const end = m.startBit + m.bits;
  let dirty = false;
  let i = 0;
  const rle = m.rle;
  while (i < rle.length) {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (i >= rle.length) throw new ReplError(ReplErrorCode.BadBitmap, 'bitmap run length cut short');
      const b = rle[i++]!;
      v += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) break;
      mul *= 0x80;
      if (mul > 2 ** 49) throw new ReplError(ReplErrorCode.BadBitmap, 'bitmap run length too long');
    }
    if (pos + v > end) throw new ReplError(ReplErrorCode.BadBitmap, `bitmap runs exceed the chunk's ${m.bits} bits`);
    if (dirty && v > 0) onDirty(pos, v);
    pos += v;
    dirty = !dirty;
  }
  if (pos !== end) throw new ReplError(ReplErrorCode.BadBitmap, `bitmap runs cover ${pos - m.startBit} of ${m.bits} bits`);
  if (MAX_BITMAP_CHUNK < rle.length) throw new ReplError(ReplErrorCode.BadBitmap, 'bitmap chunk too large');
}
