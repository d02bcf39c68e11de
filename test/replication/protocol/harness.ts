import { randomBytes } from 'node:crypto';
import { ReplicationEngine } from '../../../lib/replication/protocol/engine.js';
import type { MachineConfig } from '../../../lib/replication/protocol/machine.js';
import { MemoryBitmap, MemoryBlockStore, MemoryGenerationStore } from '../../../lib/replication/protocol/memory.js';
import type { Generation, Transport } from '../../../lib/replication/protocol/ports.js';
import type { DiskState } from '../../../lib/replication/protocol/states.js';

export const SIZE = 1 << 20;

export function testConfig(node: string, over: Partial<MachineConfig> = {}): MachineConfig {
  return {
    node,
    logPrefix: 'block drbd0: ',
    protocol: 'C',
    afterSb0: 'disconnect',
    afterSb1: 'disconnect',
    afterSb2: 'disconnect',
    rrConflict: 'disconnect',
    alwaysAsbp: false,
    allowTwoPrimaries: false,
    timeoutMs: 3000,
    connectIntMs: 50,
    pingIntMs: 1000,
    pingTimeoutMs: 1000,
    koCount: 7,
    resyncRateBytesPerSec: 200 << 20,
    maxBuffers: 2048,
    sizeBytes: SIZE,
    random: (n) => new Uint8Array(randomBytes(n)),
    ...over,
  };
}

/** A block store whose writes can be held back, to see when a protocol acknowledges. */
export class GatedStore extends MemoryBlockStore {
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
  }
  release(): void {
    this.open?.();
    this.gate = undefined;
  }
  override async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.gate) await this.gate;
    return super.write(offset, data);
  }
}

export interface TestNode {
  readonly name: string;
  readonly engine: ReplicationEngine;
  readonly store: GatedStore;
  readonly bitmap: MemoryBitmap;
  readonly gens: MemoryGenerationStore;
  readonly logs: string[];
  readonly handlers: string[];
}

export function makeNode(
  name: string,
  transport: Transport,
  opts: { config?: Partial<MachineConfig>; disk?: DiskState; generation?: Generation; store?: GatedStore; bitmap?: MemoryBitmap; size?: number } = {},
): TestNode {
  const size = opts.size ?? SIZE;
  const store = opts.store ?? new GatedStore(size);
  const bitmap = opts.bitmap ?? MemoryBitmap.forSize(size);
  const gens = new MemoryGenerationStore(opts.generation);
  const logs: string[] = [];
  const handlers: string[] = [];
  const engine = new ReplicationEngine({
    config: testConfig(name, { sizeBytes: size, ...opts.config }),
    store,
    bitmap,
    generations: gens,
    transport,
    log: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
    initialDisk: opts.disk ?? 'Inconsistent',
    onHandler: (h) => handlers.push(h),
  });
  return { name, engine, store, bitmap, gens, logs, handlers };
}

/** Bounded polling: resolves when `cond` holds, fails after `ms`. */
export async function waitFor(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const cs = (n: TestNode): string => n.engine.status().conn;
export const ds = (n: TestNode): string => `${n.engine.status().disk}/${n.engine.status().peerDisk}`;

export function fill(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
