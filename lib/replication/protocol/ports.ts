/**
 * What the replication engine needs from the rest of drbdd: a backing block
 * store, the dirty bitmap, the generation identifiers with their flags, a
 * transport to the peer, a clock with timers, and a log. drbdd adapts its
 * metadata and backing file to these; memory.ts has in-memory versions.
 */
import type { Uuids } from './messages.js';

/** 4 KiB: one bitmap bit (DRBD's BM_BLOCK_SIZE). */
export const BLOCK_BYTES = 4096;

/** The local backing store; offsets and lengths are bytes, multiples of 512. */
export interface BlockStore {
  /** Usable size in bytes (a multiple of 512). */
  readonly sizeBytes: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Makes every completed write durable (fdatasync). */
  flush(): Promise<void>;
}

/**
 * One bit per 4 KiB block: set = may differ from the peer. Synchronous: it is
 * in memory; the implementation persists it as it sees fit (drbdd writes its
 * pages lazily and on `sync`).
 */
export interface DirtyBitmap {
  readonly blocks: number;
  mark(firstBlock: number, count: number): void;
  clear(firstBlock: number, count: number): void;
  isDirty(block: number): boolean;
  /** The first dirty block at or after `from`, or -1. */
  nextDirty(from: number): number;
  /** The first clean block at or after `from`, or `blocks`. */
  nextClean(from: number): number;
  countDirty(): number;
  /** Persist now (called when a resync ends and when the engine stops). */
  sync?(): Promise<void>;
}

/** The meta-data flags DRBD keeps with the UUIDs (MDF_*), the ones the protocol uses. */
export interface GenerationFlags {
  readonly consistent: boolean;
  readonly wasUpToDate: boolean;
  readonly primaryInd: boolean;
  readonly connectedInd: boolean;
  readonly peerOutdated: boolean;
  readonly crashedPrimary: boolean;
}

export interface Generation {
  readonly uuids: Uuids;
  readonly flags: GenerationFlags;
}

/** The generation identifiers as persisted in the meta data; `save` must be durable when it resolves. */
export interface GenerationStore {
  load(): Generation;
  save(g: Generation): Promise<void>;
}

export interface Channel {
  readonly id: number;
  /** True when we dialed this connection, false when we accepted it. */
  readonly outbound: boolean;
  /** Queues bytes; false when the send buffer is above its high-water mark. */
  send(bytes: Uint8Array): boolean;
  /** Bytes queued and not yet handed to the network. */
  readonly queuedBytes: number;
  close(): void;
}

export interface ChannelHandlers {
  onData(ch: Channel, bytes: Uint8Array): void;
  onClose(ch: Channel, reason: string): void;
  /** Called when a full send buffer drained. */
  onDrain?(ch: Channel): void;
}

/** Both sides listen and dial, as DRBD does; the engine picks one connection. */
export interface Transport {
  listen(onAccept: (ch: Channel) => void, handlers: ChannelHandlers): Promise<void>;
  /** One connection attempt; resolves with the channel or rejects (refused, unreachable). */
  dial(handlers: ChannelHandlers): Promise<Channel>;
  close(): Promise<void>;
}

export interface Timers {
  /** Monotonic milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ProtocolLog {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const realTimers: Timers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};
