/**
 * The meta-data I/O shell: opens the backing device (block device or regular file)
 * and the meta-data device, reads and writes the super block, bitmap and activity
 * log at the offsets `computeLayout` gives, and carries out data writes in the
 * order crash safety needs: evicted extents' bitmap pages, then the AL transaction
 * (synced), then the data.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { HbError } from '../../shared/errors.js';
import { ActivityLog, replayAlRing } from './activity-log.js';
import { Bitmap } from './bitmap.js';
import { AL_RING_SIZE, AL_TX_SIZE, BM_BLOCK_SIZE, SUPER_SIZE, bitCount, bitmapBytesFor, computeLayout, type MetaLayout, type MetaPlacement } from './layout.js';
import { MDF, SLOT_SIZE, UUID_JUST_CREATED, pickSuperBlock, superBlockWrite, type SuperBlock, type SuperPick } from './superblock.js';

/** Size in bytes of a regular file or block device. */
export function deviceSize(path: string): number {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (e) {
    throw new HbError('META_NO_DEVICE', `${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`);
  }
  if (st.isFile()) return st.size;
  if (st.isBlockDevice()) {
    try {
      return Number(execFileSync('blockdev', ['--getsize64', path], { encoding: 'utf8' }).trim());
    } catch (e) {
      throw new HbError('META_NO_DEVICE', `${path}: cannot read the device size (${(e as Error).message})`);
    }
  }
  throw new HbError('META_NO_DEVICE', `${path}: not a block device or regular file`);
}

export interface MetaTarget {
  /** The backing device (data). */
  readonly disk: string;
  /** The meta-data device; the backing device itself for internal meta data. */
  readonly metaDisk: string;
  readonly placement: MetaPlacement;
}

export function layoutFor(t: MetaTarget): MetaLayout {
  const backing = deviceSize(t.disk);
  return computeLayout(t.placement, backing, t.placement.kind === 'internal' ? undefined : deviceSize(t.metaDisk));
}

function randomUuid(): bigint {
  return randomBytes(8).readBigUInt64BE() & ~1n;
}

export interface CreateOptions {
  readonly alExtents: number;
  readonly nodeId?: number;
}

async function writeAll(fh: fsp.FileHandle, buf: Uint8Array, pos: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, pos + done);
    if (bytesWritten <= 0) throw new HbError('IO_SHORT_WRITE', 'short write');
    done += bytesWritten;
  }
}

async function readAll(fh: fsp.FileHandle, len: number, pos: number): Promise<Uint8Array> {
  const buf = new Uint8Array(len);
  let done = 0;
  while (done < len) {
    const { bytesRead } = await fh.read(buf, done, len - done, pos + done);
    if (bytesRead <= 0) break;
    done += bytesRead;
  }
  return buf;
}

/** Reads the super-block area; throws META_NOT_FOUND / META_FOREIGN. */
export async function readSuper(t: MetaTarget): Promise<{ layout: MetaLayout; pick: SuperPick }> {
  const layout = layoutFor(t);
  const fh = await fsp.open(t.metaDisk, 'r');
  try {
    const area = await readAll(fh, SUPER_SIZE, layout.superOffset);
    return { layout, pick: pickSuperBlock(area) };
  } finally {
    await fh.close();
  }
}

/** Whether valid meta data of ours (or DRBD's) is already there, for create-md's question. */
export async function existingMeta(t: MetaTarget): Promise<'ours' | 'foreign' | 'none'> {
  try {
    await readSuper(t);
    return 'ours';
  } catch (e) {
    if (e instanceof HbError && e.code === 'META_FOREIGN') return 'foreign';
    if (e instanceof HbError && e.code === 'META_NOT_FOUND') return 'none';
    throw e;
  }
}

/** create-md: a fresh super block (current UUID "just created"), an empty AL and a clear bitmap. */
export async function createMd(t: MetaTarget, o: CreateOptions): Promise<{ layout: MetaLayout; sb: SuperBlock }> {
  const layout = layoutFor(t);
  const al = new ActivityLog(o.alExtents);
  const w = superBlockWrite(undefined, {
    flags: MDF.AlClean,
    current: UUID_JUST_CREATED,
    bitmap: 0n,
    history: [0n, 0n],
    deviceUuid: randomUuid(),
    laSizeSect: 0n,
    mdSizeSect: layout.mdSizeSect,
    placement: t.placement,
    alExtents: o.alExtents,
    bmBytesPerBit: BM_BLOCK_SIZE,
    nodeId: o.nodeId ?? -1,
  });
  const fh = await fsp.open(t.metaDisk, 'r+');
  try {
    const area = new Uint8Array(SUPER_SIZE);
    area.set(w.bytes, 0);
    const ring = new Uint8Array(AL_RING_SIZE);
    for (const tx of al.resetTransactions().txs) ring.set(tx.bytes, tx.index * AL_TX_SIZE);
    // Only the part of the bitmap that covers data (an indexed slot reserves ~128 MiB).
    await writeAll(fh, new Uint8Array(Math.min(layout.bmBytes, bitmapBytesFor(layout.dataBytes))), layout.bmOffset);
    await writeAll(fh, ring, layout.alOffset);
    await writeAll(fh, area, layout.superOffset);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  return { layout, sb: w.sb };
}

/** What dump-md and attach read: super block, bitmap and AL contents. */
export async function readAllMeta(t: MetaTarget): Promise<{ layout: MetaLayout; pick: SuperPick; bitmap: Bitmap; alExtents: number[]; alLastSeq: bigint }> {
  const { layout, pick } = await readSuper(t);
  const fh = await fsp.open(t.metaDisk, 'r');
  try {
    const bytes = await readAll(fh, Math.min(layout.bmBytes, bitmapBytesFor(layout.dataBytes)), layout.bmOffset);
    const ring = await readAll(fh, AL_RING_SIZE, layout.alOffset);
    const r = replayAlRing(ring, pick.sb.alExtents);
    return { layout, pick, bitmap: new Bitmap(bitCount(layout.dataBytes), bytes), alExtents: r.extents, alLastSeq: r.lastSeq };
  } finally {
    await fh.close();
  }
}

/**
 * An attached backing device: data I/O plus the meta data kept in step. Writes go
 * through `write()` so the activity log is persisted before the data.
 */
export class AttachedDisk {
  private constructor(
    readonly target: MetaTarget,
    readonly layout: MetaLayout,
    private pick: SuperPick,
    readonly bitmap: Bitmap,
    readonly al: ActivityLog,
    private readonly data: fsp.FileHandle,
    private readonly meta: fsp.FileHandle,
    /** Extents the AL held at attach (applied to the bitmap when the last detach was not clean). */
    readonly appliedAl: readonly number[],
  ) {}

  /** Counters for /proc/drbd: KiB written/read, AL and bitmap writes. */
  readonly counters = { dw: 0, dr: 0, al: 0, bm: 0, lo: 0 };
  private waiters: (() => void)[] = [];
  private metaChain: Promise<void> = Promise.resolve();

  static async open(t: MetaTarget): Promise<AttachedDisk> {
    const m = await readAllMeta(t);
    const sb = m.pick.sb;
    if (sb.placement.kind !== t.placement.kind || (sb.placement.kind === 'indexed' && t.placement.kind === 'indexed' && sb.placement.index !== t.placement.index)) {
      throw new HbError('META_MISMATCH', `meta data was created for ${sb.placement.kind} placement, the config says ${t.placement.kind}`);
    }
    const data = await fsp.open(t.disk, 'r+');
    const meta = t.metaDisk === t.disk ? data : await fsp.open(t.metaDisk, 'r+');
    const clean = (sb.flags & MDF.AlClean) !== 0;
    const al = new ActivityLog(sb.alExtents, m.alLastSeq);
    const disk = new AttachedDisk(t, m.layout, m.pick, m.bitmap, al, data, meta, clean ? [] : m.alExtents);
    if (!clean) for (const e of m.alExtents) disk.bitmap.setExtent(e);
    // Fresh AL, bitmap on disk, then the super block says "attached" (AlClean off).
    const ring = new Uint8Array(AL_RING_SIZE);
    for (const tx of al.resetTransactions().txs) ring.set(tx.bytes, tx.index * AL_TX_SIZE);
    await writeAll(meta, ring, m.layout.alOffset);
    disk.bitmap.markAllDirty();
    await disk.flushBitmap();
    let flags = sb.flags & ~MDF.AlClean;
    if (sb.flags & MDF.PrimaryInd) flags |= MDF.CrashedPrimary;
    await disk.writeSuper({ flags, laSizeSect: BigInt(m.layout.dataBytes / 512) });
    return disk;
  }

  get sb(): SuperBlock {
    return this.pick.sb;
  }

  get sizeBytes(): number {
    return this.layout.dataBytes;
  }

  /** Writes a new super block (the other slot) with `change` applied, synced. Serialized. */
  writeSuper(change: Partial<Omit<SuperBlock, 'seq'>>): Promise<void> {
    const run = async () => {
      const { seq: _seq, ...rest } = this.pick.sb;
      const w = superBlockWrite(this.pick, { ...rest, ...change });
      await writeAll(this.meta, w.bytes, this.layout.superOffset + w.slot * SLOT_SIZE);
      await this.meta.datasync();
      this.pick = { sb: w.sb, nextSlot: w.slot === 0 ? 1 : 0 };
    };
    const p = this.metaChain.then(run);
    this.metaChain = p.catch(() => {});
    return p;
  }

  /** Writes the bitmap pages changed since the last flush. */
  async flushBitmap(): Promise<void> {
    const pages = this.bitmap.takeDirty();
    for (const p of pages) {
      const off = p * 4096;
      if (off >= this.layout.bmBytes) continue;
      await writeAll(this.meta, this.bitmap.page(p), this.layout.bmOffset + off);
      this.counters.bm++;
    }
    if (pages.length > 0) await this.meta.datasync();
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.check(offset, length);
    this.counters.lo++;
    try {
      const buf = await readAll(this.data, length, offset);
      this.counters.dr += length / 1024;
      return buf;
    } finally {
      this.counters.lo--;
    }
  }

  private check(offset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this.layout.dataBytes) throw new HbError('IO_RANGE', `request beyond the end of the device (${offset}+${length} > ${this.layout.dataBytes})`);
  }

  /** Reserves the write's AL extents, persisting the AL first when the set changes. Returns the extents to release. */
  async beginWrite(offset: number, length: number): Promise<number[]> {
    this.check(offset, length);
    const extents = ActivityLog.extentsOf(offset, length);
    for (;;) {
      const r = this.al.begin(extents);
      if (r === 'busy') {
        await new Promise<void>((res) => this.waiters.push(res));
        continue;
      }
      if (r.txs.length > 0 || r.evicted.length > 0) {
        await (this.metaChain = this.metaChain.then(async () => {
          if (r.evicted.length > 0) await this.flushBitmap();
          for (const tx of r.txs) {
            await writeAll(this.meta, tx.bytes, this.layout.alOffset + tx.index * AL_TX_SIZE);
            this.counters.al++;
          }
          await this.meta.datasync();
        }));
      }
      return extents;
    }
  }

  endWrite(extents: readonly number[]): void {
    this.al.release(extents);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** A local write with the AL protocol around it; `fua` syncs the data before returning. */
  async write(offset: number, data: Uint8Array, fua = false): Promise<void> {
    const ext = await this.beginWrite(offset, data.length);
    this.counters.lo++;
    try {
      await writeAll(this.data, data, offset);
      if (fua) await this.data.datasync();
      this.counters.dw += data.length / 1024;
    } finally {
      this.counters.lo--;
      this.endWrite(ext);
    }
  }

  async flush(): Promise<void> {
    await this.data.datasync();
  }

  /** Discard / write-zeroes: we write zeros (holes are not punched). */
  async writeZeroes(offset: number, length: number, fua = false): Promise<void> {
    const chunk = new Uint8Array(Math.min(length, 1 << 20));
    for (let done = 0; done < length; ) {
      const n = Math.min(chunk.length, length - done);
      await this.write(offset + done, n === chunk.length ? chunk : chunk.subarray(0, n), false);
      done += n;
    }
    if (fua) await this.flush();
  }

  /** Clean detach: bitmap on disk, AlClean set, files closed. */
  async close(): Promise<void> {
    await this.metaChain;
    this.bitmap.markAllDirty();
    await this.flushBitmap();
    await this.writeSuper({ flags: (this.sb.flags | MDF.AlClean) & ~MDF.CrashedPrimary });
    await this.data.datasync();
    await this.data.close();
    if (this.meta !== this.data) await this.meta.close();
  }

  /** For crash tests: close the files without the clean-detach writes. */
  async abandon(): Promise<void> {
    await this.data.close().catch(() => {});
    if (this.meta !== this.data) await this.meta.close().catch(() => {});
  }
}
