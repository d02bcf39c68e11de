/**
 * In-memory implementations of the ports (ports.ts): a block store, a dirty
 * bitmap, a generation store and a network of in-process transports with
 * partitions. For tests and for drbdd's own unit tests.
 */
import { BLOCK_BYTES, type BlockStore, type Channel, type ChannelHandlers, type DirtyBitmap, type Generation, type GenerationStore, type Transport } from './ports.js';
import { ReplError, ReplErrorCode } from './errors.js';
import { UUID_JUST_CREATED } from './sync-decision.js';

export class MemoryBlockStore implements BlockStore {
  readonly data: Uint8Array;
  writes = 0;
  flushes = 0;
  /** When set, every write fails (a broken disk). */
  failWrites = false;
  constructor(readonly sizeBytes: number) {
    if (sizeBytes % 512 !== 0) throw new RangeError('size must be a multiple of 512');
    this.data = new Uint8Array(sizeBytes);
  }
  private check(offset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this.sizeBytes) throw new ReplError(ReplErrorCode.OutOfRange, `I/O at ${offset}+${length} beyond ${this.sizeBytes}`);
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    this.check(offset, length);
    return this.data.slice(offset, offset + length);
  }
  async write(offset: number, data: Uint8Array): Promise<void> {
    this.check(offset, data.length);
    if (this.failWrites) throw new ReplError(ReplErrorCode.IoError, 'write failed');
    this.data.set(data, offset);
    this.writes++;
  }
  async flush(): Promise<void> {
    this.flushes++;
  }
}

/** 32 bits per word; `nextDirty`/`nextClean` skip whole words. */
export class MemoryBitmap implements DirtyBitmap {
  private readonly words: Uint32Array;
  private dirty = 0;
  constructor(readonly blocks: number) {
    this.words = new Uint32Array(Math.ceil(blocks / 32));
  }
  static forSize(sizeBytes: number): MemoryBitmap {
    return new MemoryBitmap(Math.ceil(sizeBytes / BLOCK_BYTES));
  }
  private setRange(first: number, count: number, on: boolean): void {
    const end = Math.min(this.blocks, first + count);
    for (let b = Math.max(0, first); b < end; ) {
      const w = b >>> 5;
      const bit = b & 31;
      if (bit === 0 && end - b >= 32) {
        const before = popcount(this.words[w]!);
        this.words[w] = on ? 0xffffffff : 0;
        this.dirty += (on ? 32 : 0) - before;
        b += 32;
        continue;
      }
      const mask = 1 << bit;
      const was = (this.words[w]! & mask) !== 0;
      if (on && !was) {
        this.words[w] = this.words[w]! | mask;
        this.dirty++;
      } else if (!on && was) {
        this.words[w] = this.words[w]! & ~mask;
        this.dirty--;
      }
      b++;
    }
  }
  mark(first: number, count: number): void {
    this.setRange(first, count, true);
  }
  clear(first: number, count: number): void {
    this.setRange(first, count, false);
  }
  isDirty(block: number): boolean {
    return block >= 0 && block < this.blocks && (this.words[block >>> 5]! & (1 << (block & 31))) !== 0;
  }
  nextDirty(from: number): number {
    for (let b = Math.max(0, from); b < this.blocks; ) {
      const word = this.words[b >>> 5]!;
      if ((b & 31) === 0 && word === 0) {
        b += 32;
        continue;
      }
      if ((word & (1 << (b & 31))) !== 0) return b;
      b++;
    }
    return -1;
  }
  nextClean(from: number): number {
    for (let b = Math.max(0, from); b < this.blocks; ) {
      const word = this.words[b >>> 5]!;
      if ((b & 31) === 0 && word === 0xffffffff) {
        b += 32;
        continue;
      }
      if ((word & (1 << (b & 31))) === 0) return b;
      b++;
    }
    return this.blocks;
  }
  countDirty(): number {
    return this.dirty;
  }
}

function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Fresh meta data, as create-md writes it: current = JUST_CREATED, nothing else. */
export function freshGeneration(): Generation {
  return {
    uuids: { current: UUID_JUST_CREATED, bitmap: 0n, history1: 0n, history2: 0n },
    flags: { consistent: false, wasUpToDate: false, primaryInd: false, connectedInd: false, peerOutdated: false, crashedPrimary: false },
  };
}

export class MemoryGenerationStore implements GenerationStore {
  saves = 0;
  constructor(private g: Generation = freshGeneration()) {}
  load(): Generation {
    return this.g;
  }
  async save(g: Generation): Promise<void> {
    this.g = g;
    this.saves++;
  }
}

interface Endpoint {
  onAccept: (ch: Channel) => void;
  handlers: ChannelHandlers;
}

class MemoryChannel implements Channel {
  peer!: MemoryChannel;
  closed = false;
  private queue: Uint8Array[] = [];
  private scheduled = false;
  queuedBytes = 0;
  constructor(
    readonly id: number,
    readonly outbound: boolean,
    readonly handlers: ChannelHandlers,
    private readonly net: MemoryNetwork,
  ) {}
  send(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    this.queue.push(bytes.slice());
    this.queuedBytes += bytes.length;
    this.net.bytesSent += bytes.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.deliver());
    }
    return true;
  }
  private deliver(): void {
    this.scheduled = false;
    const q = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    for (const b of q) {
      if (this.closed || this.peer.closed) return;
      this.peer.handlers.onData(this.peer, b);
    }
  }
  /** Closes after delivering what was already sent (a graceful TCP close); `abort` drops it. */
  close(reason = 'closed', abort = false): void {
    if (this.closed) return;
    if (!abort && this.queue.length > 0 && !this.peer.closed) this.deliver();
    this.closed = true;
    this.queue = [];
    this.net.forget(this);
    setImmediate(() => {
      this.handlers.onClose(this, reason);
      if (!this.peer.closed) {
        this.peer.closed = true;
        this.net.forget(this.peer);
        this.peer.handlers.onClose(this.peer, 'connection reset by peer');
      }
    });
  }
}

/**
 * Named endpoints connected by in-process channels. `partition` cuts the
 * link (open channels close, dials fail) until `heal`.
 */
export class MemoryNetwork {
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly open = new Set<MemoryChannel>();
  private readonly cut = new Set<string>();
  private nextId = 1;
  bytesSent = 0;

  transport(local: string, remote: string): Transport {
    return {
      listen: async (onAccept, handlers) => {
        this.endpoints.set(local, { onAccept, handlers });
      },
      dial: async (handlers) => {
        await new Promise((r) => setImmediate(r));
        const ep = this.endpoints.get(remote);
        if (ep === undefined || this.isCut(local, remote)) throw new Error(`connect ${remote}: connection refused`);
        const a = new MemoryChannel(this.nextId++, true, handlers, this);
        const b = new MemoryChannel(this.nextId++, false, ep.handlers, this);
        a.peer = b;
        b.peer = a;
        (a as unknown as { pair: string }).pair = pairKey(local, remote);
        (b as unknown as { pair: string }).pair = pairKey(local, remote);
        this.open.add(a);
        this.open.add(b);
        ep.onAccept(b);
        return a;
      },
      close: async () => {
        this.endpoints.delete(local);
        for (const ch of [...this.open]) if ((ch as unknown as { pair: string }).pair.split('|').includes(local)) ch.close('transport closed');
      },
    };
  }

  private isCut(a: string, b: string): boolean {
    return this.cut.has(pairKey(a, b));
  }

  forget(ch: MemoryChannel): void {
    this.open.delete(ch);
  }

  partition(a: string, b: string): void {
    const key = pairKey(a, b);
    this.cut.add(key);
    for (const ch of [...this.open]) if ((ch as unknown as { pair: string }).pair === key) ch.close('network partition', true);
  }

  heal(a: string, b: string): void {
    this.cut.delete(pairKey(a, b));
  }
}

const pairKey = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);
