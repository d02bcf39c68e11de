/**
 * The activity log (drbd-spec §5.3, §6.4): the set of 4 MiB extents that may have
 * writes in flight, persisted *before* a write to an extent outside the set is
 * issued. After a crash every extent in the log is marked out of sync, so only
 * hot areas are resynced.
 *
 * On disk: a ring of 8 transactions of 4 KiB (32 KiB). A transaction carries up to
 * 64 (slot, extent) updates plus a window of the full slot table (context), rotated
 * over consecutive transactions, and a crc32c; replaying the valid transactions in
 * sequence order rebuilds the table (see docs/replication-format.md for why).
 * Pure: the shell writes the bytes this class returns at `alOffset + index * 4096`.
 */
import { HbError } from '../../shared/errors.js';
import { crc32c } from '../../shared/crc32c.js';
import { AL_EXTENT_SIZE, AL_RING_SIZE, AL_TX_SIZE } from './layout.js';

export const AL_TX_MAGIC = 0x4842_414c; // "HBAL"
export const AL_RING_TXS = AL_RING_SIZE / AL_TX_SIZE;
export const AL_UPDATES_PER_TX = 64;
const HEADER = 32;
const UPDATES_AT = HEADER;
const CONTEXT_AT = UPDATES_AT + AL_UPDATES_PER_TX * 8;
export const AL_CONTEXT_PER_TX = Math.floor((AL_TX_SIZE - 4 - CONTEXT_AT) / 4);
/** Largest al-extents whose whole table fits in the ring's context windows (one transaction spare). */
export const AL_MAX_EXTENTS = AL_CONTEXT_PER_TX * (AL_RING_TXS - 1);
export const AL_MIN_EXTENTS = 7;
const EMPTY = 0xffff_ffff;

export interface AlTransaction {
  readonly seq: bigint;
  readonly alExtents: number;
  readonly updates: readonly (readonly [slot: number, extent: number])[];
  readonly contextStart: number;
  readonly context: readonly number[];
}

export function encodeAlTransaction(tx: AlTransaction): Uint8Array {
  if (tx.updates.length > AL_UPDATES_PER_TX || tx.context.length > AL_CONTEXT_PER_TX) throw new HbError('AL_TX_TOO_BIG', 'too many entries for one AL transaction');
  const buf = new Uint8Array(AL_TX_SIZE);
  const v = new DataView(buf.buffer);
  v.setUint32(0, AL_TX_MAGIC);
  v.setBigUint64(8, tx.seq);
  v.setUint32(16, tx.alExtents);
  v.setUint16(20, tx.updates.length);
  v.setUint16(22, tx.context.length);
  v.setUint32(24, tx.contextStart);
  tx.updates.forEach(([slot, ext], i) => {
    v.setUint32(UPDATES_AT + i * 8, slot);
    v.setUint32(UPDATES_AT + i * 8 + 4, ext);
  });
  tx.context.forEach((ext, i) => v.setUint32(CONTEXT_AT + i * 4, ext));
  v.setUint32(AL_TX_SIZE - 4, crc32c(buf.subarray(0, AL_TX_SIZE - 4)));
  return buf;
}

/** One 4 KiB transaction, or undefined when it is empty, torn or not ours. */
export function decodeAlTransaction(buf: Uint8Array): AlTransaction | undefined {
  if (buf.length < AL_TX_SIZE) return undefined;
  const v = new DataView(buf.buffer, buf.byteOffset, AL_TX_SIZE);
  if (v.getUint32(0) !== AL_TX_MAGIC) return undefined;
  if (v.getUint32(AL_TX_SIZE - 4) !== crc32c(buf.subarray(0, AL_TX_SIZE - 4))) return undefined;
  const nu = v.getUint16(20);
  const nc = v.getUint16(22);
  if (nu > AL_UPDATES_PER_TX || nc > AL_CONTEXT_PER_TX) return undefined;
  const updates: [number, number][] = [];
  for (let i = 0; i < nu; i++) updates.push([v.getUint32(UPDATES_AT + i * 8), v.getUint32(UPDATES_AT + i * 8 + 4)]);
  const context: number[] = [];
  for (let i = 0; i < nc; i++) context.push(v.getUint32(CONTEXT_AT + i * 4));
  return { seq: v.getBigUint64(8), alExtents: v.getUint32(16), updates, contextStart: v.getUint32(24), context };
}

/** The slot table after replaying the valid transactions of a 32 KiB ring, and the newest sequence number. */
export function replayAlRing(ring: Uint8Array, alExtents: number): { extents: number[]; lastSeq: bigint } {
  const txs: AlTransaction[] = [];
  for (let i = 0; i < AL_RING_TXS; i++) {
    const tx = decodeAlTransaction(ring.subarray(i * AL_TX_SIZE, (i + 1) * AL_TX_SIZE));
    if (tx !== undefined) txs.push(tx);
  }
  txs.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  const slots = new Array<number>(alExtents).fill(EMPTY);
  for (const tx of txs) {
    tx.context.forEach((ext, i) => {
      const s = tx.contextStart + i;
      if (s < alExtents) slots[s] = ext;
    });
    for (const [s, ext] of tx.updates) if (s < alExtents) slots[s] = ext;
  }
  const extents = [...new Set(slots.filter((e) => e !== EMPTY))].sort((a, b) => a - b);
  return { extents, lastSeq: txs.length > 0 ? txs[txs.length - 1]!.seq : 0n };
}

export interface AlWrite {
  /** Ring index (0..7) and bytes of each transaction to write, in order, before the data write. */
  readonly txs: readonly { readonly index: number; readonly bytes: Uint8Array }[];
  /** Extents that left the log: their bitmap pages must be on disk before the transactions. */
  readonly evicted: readonly number[];
}

/** The in-memory activity log: which extents are active (LRU) and how many writes each has in flight. */
export class ActivityLog {
  readonly alExtents: number;
  private readonly slots: number[];
  private readonly slotOf = new Map<number, number>();
  /** LRU order: first = least recently used. */
  private readonly lru = new Map<number, true>();
  private readonly refs = new Map<number, number>();
  private seq: bigint;
  private contextStart = 0;
  /** AL transactions written so far (the `al:` counter). */
  transactions = 0;

  constructor(alExtents: number, lastSeq = 0n) {
    if (!Number.isInteger(alExtents) || alExtents < AL_MIN_EXTENTS || alExtents > AL_MAX_EXTENTS) {
      throw new HbError('AL_BAD_SIZE', `al-extents ${alExtents} out of range [${AL_MIN_EXTENTS}..${AL_MAX_EXTENTS}]`);
    }
    this.alExtents = alExtents;
    this.slots = new Array<number>(alExtents).fill(EMPTY);
    this.seq = lastSeq;
  }

  static extentsOf(offset: number, length: number): number[] {
    if (length <= 0) return [];
    const out: number[] = [];
    for (let e = Math.floor(offset / AL_EXTENT_SIZE); e <= Math.floor((offset + length - 1) / AL_EXTENT_SIZE); e++) out.push(e);
    return out;
  }

  active(): number[] {
    return [...this.slotOf.keys()].sort((a, b) => a - b);
  }

  /**
   * Transactions that write the whole (empty or current) table: used after create-md
   * and after applying the log at attach, so stale transactions never resurface.
   */
  resetTransactions(): AlWrite {
    const txs: { index: number; bytes: Uint8Array }[] = [];
    for (let start = 0; start < this.alExtents || txs.length === 0; start += AL_CONTEXT_PER_TX) {
      txs.push(this.makeTx([], start));
    }
    this.contextStart = 0;
    return { txs, evicted: [] };
  }

  private makeTx(updates: [number, number][], contextStart: number): { index: number; bytes: Uint8Array } {
    this.seq += 1n;
    const n = Math.min(AL_CONTEXT_PER_TX, this.alExtents - contextStart);
    const context = this.slots.slice(contextStart, contextStart + n);
    this.transactions++;
    return { index: Number(this.seq % BigInt(AL_RING_TXS)), bytes: encodeAlTransaction({ seq: this.seq, alExtents: this.alExtents, updates, contextStart, context }) };
  }

  /**
   * Begin a write to `extents`: the transactions to persist first, or 'busy' when the
   * log is full of extents with writes in flight (retry after a `release`).
   */
  begin(extents: readonly number[]): AlWrite | 'busy' {
    const missing = extents.filter((e) => !this.slotOf.has(e));
    const free = this.alExtents - this.slotOf.size;
    const victims: number[] = [];
    if (missing.length > free) {
      for (const e of this.lru.keys()) {
        if (victims.length === missing.length - free) break;
        if ((this.refs.get(e) ?? 0) === 0 && !extents.includes(e)) victims.push(e);
      }
      if (victims.length < missing.length - free) return 'busy';
    }
    const updates: [number, number][] = [];
    for (const v of victims) {
      const s = this.slotOf.get(v)!;
      this.slotOf.delete(v);
      this.lru.delete(v);
      this.slots[s] = EMPTY;
    }
    let scan = 0;
    for (const e of missing) {
      while (this.slots[scan] !== EMPTY) scan++;
      this.slots[scan] = e;
      this.slotOf.set(e, scan);
      updates.push([scan, e]);
    }
    for (const e of extents) {
      this.refs.set(e, (this.refs.get(e) ?? 0) + 1);
      this.lru.delete(e);
      this.lru.set(e, true);
    }
    if (updates.length === 0) return { txs: [], evicted: [] };
    const txs: { index: number; bytes: Uint8Array }[] = [];
    for (let i = 0; i < updates.length; i += AL_UPDATES_PER_TX) {
      txs.push(this.makeTx(updates.slice(i, i + AL_UPDATES_PER_TX), this.contextStart));
      this.contextStart += AL_CONTEXT_PER_TX;
      if (this.contextStart >= this.alExtents) this.contextStart = 0;
    }
    return { txs, evicted: victims };
  }

  /** A write to `extents` completed. */
  release(extents: readonly number[]): void {
    for (const e of extents) {
      const n = (this.refs.get(e) ?? 0) - 1;
      if (n <= 0) this.refs.delete(e);
      else this.refs.set(e, n);
    }
  }

  inFlight(): number {
    let n = 0;
    for (const v of this.refs.values()) n += v;
    return n;
  }
}
