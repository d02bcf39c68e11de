/**
 * Our super block (docs/replication-format.md). Two 512-byte slots at the start of
 * the 4 KiB super-block area; each update goes to the slot holding the older
 * sequence number, so a torn write leaves the other slot intact. A slot is valid
 * when its magic, version and crc32c check. All integers big-endian.
 */
import { HbError } from '../../shared/errors.js';
import { crc32c } from '../../shared/crc32c.js';
import type { MetaPlacement } from './layout.js';

export const MD_MAGIC = 0x4842_4d44; // "HBMD"
export const MD_VERSION = 1;
export const SLOT_SIZE = 512;
/** DRBD's own magic (v06..v09 = +2..+6): foreign meta data we refuse to touch. */
export const DRBD_MAGIC = 0x83740267;

/** Meta-data flags, same bits and meaning as DRBD's MDF_*. */
export const MDF = {
  Consistent: 0x1,
  PrimaryInd: 0x2,
  ConnectedInd: 0x4,
  FullSync: 0x8,
  WasUpToDate: 0x10,
  PeerOutdated: 0x20,
  CrashedPrimary: 0x40,
  AlClean: 0x80,
  AlDisabled: 0x100,
} as const;

/** A fresh `create-md` current UUID (DRBD's UUID_JUST_CREATED). */
export const UUID_JUST_CREATED = 4n;

export interface SuperBlock {
  /** Increases by one on every write; the newer valid slot wins. */
  readonly seq: bigint;
  readonly flags: number;
  readonly current: bigint;
  readonly bitmap: bigint;
  readonly history: readonly [bigint, bigint];
  readonly deviceUuid: bigint;
  /** Last agreed data size in sectors. */
  readonly laSizeSect: bigint;
  readonly mdSizeSect: number;
  readonly placement: MetaPlacement;
  readonly alExtents: number;
  readonly bmBytesPerBit: number;
  readonly nodeId: number;
}

const PLACEMENT_CODE = { internal: 1, external: 2, indexed: 3 } as const;

export function encodeSuperBlock(sb: SuperBlock): Uint8Array {
  const buf = new Uint8Array(SLOT_SIZE);
  const v = new DataView(buf.buffer);
  v.setUint32(0, MD_MAGIC);
  v.setUint32(4, MD_VERSION);
  v.setBigUint64(8, sb.seq);
  v.setUint32(16, sb.flags >>> 0);
  v.setUint32(20, sb.alExtents >>> 0);
  v.setBigUint64(24, sb.current);
  v.setBigUint64(32, sb.bitmap);
  v.setBigUint64(40, sb.history[0]);
  v.setBigUint64(48, sb.history[1]);
  v.setBigUint64(56, sb.deviceUuid);
  v.setBigUint64(64, sb.laSizeSect);
  v.setUint32(72, sb.mdSizeSect >>> 0);
  v.setUint8(76, PLACEMENT_CODE[sb.placement.kind]);
  v.setUint32(80, sb.placement.kind === 'indexed' ? sb.placement.index : 0);
  v.setUint32(84, sb.bmBytesPerBit >>> 0);
  v.setInt32(88, sb.nodeId | 0);
  v.setUint32(SLOT_SIZE - 4, crc32c(buf.subarray(0, SLOT_SIZE - 4)));
  return buf;
}

export type SlotVerdict = { readonly ok: true; readonly sb: SuperBlock } | { readonly ok: false; readonly why: 'empty' | 'magic' | 'version' | 'crc' | 'field'; readonly foreign?: string };

/** Decodes one slot; never throws. */
export function decodeSuperBlock(buf: Uint8Array): SlotVerdict {
  if (buf.length < SLOT_SIZE) return { ok: false, why: 'field' };
  const v = new DataView(buf.buffer, buf.byteOffset, SLOT_SIZE);
  const magic = v.getUint32(0);
  if (magic !== MD_MAGIC) {
    if (buf.every((b) => b === 0)) return { ok: false, why: 'empty' };
    return { ok: false, why: 'magic' };
  }
  if (v.getUint32(4) !== MD_VERSION) return { ok: false, why: 'version' };
  if (v.getUint32(SLOT_SIZE - 4) !== crc32c(buf.subarray(0, SLOT_SIZE - 4))) return { ok: false, why: 'crc' };
  const kind = v.getUint8(76);
  let placement: MetaPlacement;
  if (kind === 1) placement = { kind: 'internal' };
  else if (kind === 2) placement = { kind: 'external' };
  else if (kind === 3) placement = { kind: 'indexed', index: v.getUint32(80) };
  else return { ok: false, why: 'field' };
  return {
    ok: true,
    sb: {
      seq: v.getBigUint64(8),
      flags: v.getUint32(16),
      alExtents: v.getUint32(20),
      current: v.getBigUint64(24),
      bitmap: v.getBigUint64(32),
      history: [v.getBigUint64(40), v.getBigUint64(48)],
      deviceUuid: v.getBigUint64(56),
      laSizeSect: v.getBigUint64(64),
      mdSizeSect: v.getUint32(72),
      placement,
      bmBytesPerBit: v.getUint32(84),
      nodeId: v.getInt32(88),
    },
  };
}

/** Names DRBD's own meta data if the 4 KiB super-block area holds a DRBD v06..v09 super block. */
export function foreignDrbdMagic(area: Uint8Array): string | undefined {
  if (area.length < 64) return undefined;
  const v = new DataView(area.buffer, area.byteOffset, area.length);
  // v08/v09 keep the magic at offset 60; v07 after la_kb (u64), gc[5] (u32 each) at 28.
  for (const off of [60, 28]) {
    const m = v.getUint32(off);
    const d = m - DRBD_MAGIC;
    if (d >= 2 && d <= 6) return ['v06', 'v07', 'v08', 'v08 (unclean)', 'v09'][d - 2];
  }
  return undefined;
}

/**
 * The super-block area (two slots) read from disk: the newest valid slot, and the
 * index of the slot the next write should go to.
 */
export interface SuperPick {
  readonly sb: SuperBlock;
  readonly nextSlot: 0 | 1;
}

export function pickSuperBlock(area: Uint8Array): SuperPick {
  const a = decodeSuperBlock(area.subarray(0, SLOT_SIZE));
  const b = decodeSuperBlock(area.subarray(SLOT_SIZE, 2 * SLOT_SIZE));
  if (a.ok && b.ok) return a.sb.seq >= b.sb.seq ? { sb: a.sb, nextSlot: 1 } : { sb: b.sb, nextSlot: 0 };
  if (a.ok) return { sb: a.sb, nextSlot: 1 };
  if (b.ok) return { sb: b.sb, nextSlot: 0 };
  const foreign = foreignDrbdMagic(area);
  if (foreign !== undefined) throw new HbError('META_FOREIGN', `found DRBD ${foreign} meta data, not ours; refusing to use it (create-md overwrites it)`);
  throw new HbError('META_NOT_FOUND', 'no valid meta data found');
}

/** The area bytes after writing `sb` into the slot `pick` says is next (a pure helper for tests and the shell). */
export function superBlockWrite(prev: SuperPick | undefined, sb: Omit<SuperBlock, 'seq'>): { slot: 0 | 1; bytes: Uint8Array; sb: SuperBlock } {
  const seq = prev === undefined ? 1n : prev.sb.seq + 1n;
  const full: SuperBlock = { ...sb, seq };
  return { slot: prev?.nextSlot ?? 0, bytes: encodeSuperBlock(full), sb: full };
}

/** `38BAC2CC396C0581`: DRBD prints UUIDs as 16 upper-case hex digits. */
export function uuidHex(u: bigint): string {
  return u.toString(16).toUpperCase().padStart(16, '0');
}
