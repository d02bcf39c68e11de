/**
 * Where the meta data lives and how big it is (drbd-spec §6.3). Same sizes and
 * placement as DRBD 8.x v08 meta data, so "how much space do I lose" answers match:
 *
 * - internal (flexible), at the end of the backing device, 4 KiB aligned:
 *   `[ data ][ bitmap ][ activity log 32 KiB ][ super block 4 KiB ][ 0-7 sectors ]`,
 *   md_size_sect = 8 + 64 + bitmap sectors, bitmap = 1 bit per 4 KiB of the whole
 *   backing device, rounded up to 64-bit words and then to 4 KiB.
 * - external flexible (`meta-disk /dev/x`): `[ super 4 KiB ][ AL 32 KiB ][ bitmap ]` from 0.
 * - external indexed (`meta-disk /dev/x [N]`): the same in a 128 MiB slot at N x 128 MiB
 *   (so at most ~4 TiB of data).
 * Pure: sizes in, offsets out.
 */
import { HbError } from '../../shared/errors.js';

export const SECTOR = 512;
export const BM_BLOCK_SIZE = 4096;
export const AL_EXTENT_SIZE = 4 * 1024 * 1024;
export const SUPER_SIZE = 4096;
export const AL_RING_SIZE = 32 * 1024;
export const AL_TX_SIZE = 4096;
export const INDEXED_SLOT_SIZE = 128 * 1024 * 1024;

export type MetaPlacement =
  | { readonly kind: 'internal' }
  | { readonly kind: 'external' }
  | { readonly kind: 'indexed'; readonly index: number };

export interface MetaLayout {
  readonly placement: MetaPlacement;
  /** First byte of the meta-data area in the meta-data device (internal: in the backing device). */
  readonly mdOffset: number;
  /** md_size_sect as drbdmeta reports it. */
  readonly mdSizeSect: number;
  /** Absolute byte offsets in the meta-data device. */
  readonly superOffset: number;
  readonly alOffset: number;
  readonly bmOffset: number;
  /** Bytes reserved for the bitmap on disk (a multiple of 4 KiB). */
  readonly bmBytes: number;
  /** Usable data size in bytes (what the replicated device exposes); a multiple of 4 KiB. */
  readonly dataBytes: number;
}

const align = (n: number, a: number) => Math.ceil(n / a) * a;
const alignDown = (n: number, a: number) => Math.floor(n / a) * a;

/** Bitmap bytes on disk for `bytes` of data: bits per 4 KiB, 64-bit words, 4 KiB pages. */
export function bitmapBytesFor(bytes: number): number {
  const sectors = Math.floor(bytes / SECTOR);
  const bits = Math.ceil(sectors / 8);
  return align(align(Math.ceil(bits / 8), 8), BM_BLOCK_SIZE);
}

/** md_size_sect of internal (flexible) meta data for a backing device of `backingBytes`. */
export function internalMdSizeSect(backingBytes: number): number {
  return (SUPER_SIZE + AL_RING_SIZE + bitmapBytesFor(backingBytes)) / SECTOR;
}

/** Number of 4 KiB blocks (bitmap bits in use) for a data size. */
export function bitCount(dataBytes: number): number {
  return Math.ceil(dataBytes / BM_BLOCK_SIZE);
}

/**
 * The layout for a backing device of `backingBytes` and, for external meta data,
 * a meta-data device of `metaBytes`. Throws META_TOO_SMALL when it does not fit.
 */
export function computeLayout(placement: MetaPlacement, backingBytes: number, metaBytes?: number): MetaLayout {
  if (!Number.isSafeInteger(backingBytes) || backingBytes < 0) throw new HbError('META_BAD_SIZE', `bad backing size ${backingBytes}`);
  if (placement.kind === 'internal') {
    const b = alignDown(backingBytes, BM_BLOCK_SIZE);
    const bmBytes = bitmapBytesFor(backingBytes);
    const mdBytes = SUPER_SIZE + AL_RING_SIZE + bmBytes;
    if (b < mdBytes + BM_BLOCK_SIZE) throw new HbError('META_TOO_SMALL', `backing device of ${backingBytes} bytes is too small for internal meta data (${mdBytes} bytes)`);
    const superOffset = b - SUPER_SIZE;
    const alOffset = superOffset - AL_RING_SIZE;
    const bmOffset = alOffset - bmBytes;
    return { placement, mdOffset: bmOffset, mdSizeSect: mdBytes / SECTOR, superOffset, alOffset, bmOffset, bmBytes, dataBytes: bmOffset };
  }
  const dataBytes = alignDown(backingBytes, BM_BLOCK_SIZE);
  if (dataBytes === 0) throw new HbError('META_TOO_SMALL', 'backing device is empty');
  const need = bitmapBytesFor(dataBytes);
  if (placement.kind === 'indexed') {
    if (!Number.isInteger(placement.index) || placement.index < 0) throw new HbError('META_BAD_INDEX', `bad meta-disk index ${placement.index}`);
    const mdOffset = placement.index * INDEXED_SLOT_SIZE;
    const bmBytes = INDEXED_SLOT_SIZE - SUPER_SIZE - AL_RING_SIZE;
    if (need > bmBytes) throw new HbError('META_TOO_SMALL', `indexed meta data covers at most ${bmBytes * 8 * BM_BLOCK_SIZE} bytes of data; the backing device has ${dataBytes}`);
    if (metaBytes !== undefined && metaBytes < mdOffset + INDEXED_SLOT_SIZE) {
      throw new HbError('META_TOO_SMALL', `meta-data device of ${metaBytes} bytes has no room for index ${placement.index} (needs ${mdOffset + INDEXED_SLOT_SIZE})`);
    }
    return { placement, mdOffset, mdSizeSect: INDEXED_SLOT_SIZE / SECTOR, superOffset: mdOffset, alOffset: mdOffset + SUPER_SIZE, bmOffset: mdOffset + SUPER_SIZE + AL_RING_SIZE, bmBytes, dataBytes };
  }
  const mdBytes = SUPER_SIZE + AL_RING_SIZE + need;
  if (metaBytes !== undefined && metaBytes < mdBytes) {
    throw new HbError('META_TOO_SMALL', `meta-data device of ${metaBytes} bytes is too small: ${mdBytes} bytes needed`);
  }
  return { placement, mdOffset: 0, mdSizeSect: mdBytes / SECTOR, superOffset: 0, alOffset: SUPER_SIZE, bmOffset: SUPER_SIZE + AL_RING_SIZE, bmBytes: need, dataBytes };
}
