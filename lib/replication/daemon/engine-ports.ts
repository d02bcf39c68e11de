/**
 * Adapters from an attached disk (our meta data and backing file) to the
 * replication engine's ports (protocol/ports.ts): BlockStore, DirtyBitmap and
 * GenerationStore.
 */
import type { BlockStore, DirtyBitmap, Generation, GenerationFlags, GenerationStore } from '../protocol/ports.js';
import { BM_BLOCK_SIZE } from '../metadata/layout.js';
import { MDF } from '../metadata/superblock.js';
import type { AttachedDisk } from '../metadata/store.js';

/** Reads, writes (activity log first) and flushes on the backing device. */
export function blockStoreOf(d: AttachedDisk): BlockStore {
  return {
    get sizeBytes() {
      return d.sizeBytes;
    },
    read: (o, l) => d.read(o, l),
    write: (o, data) => d.write(o, data, false),
    flush: () => d.flush(),
  };
}

/** The in-memory bitmap; `sync` writes its changed pages. */
export function dirtyBitmapOf(d: AttachedDisk): DirtyBitmap {
  const bm = d.bitmap;
  return {
    get blocks() {
      return bm.bits;
    },
    mark: (first, count) => void bm.setRange(first * BM_BLOCK_SIZE, count * BM_BLOCK_SIZE),
    clear: (first, count) => void bm.clearRange(first * BM_BLOCK_SIZE, count * BM_BLOCK_SIZE),
    isDirty: (b) => b < bm.bits && bm.test(b),
    nextDirty(from) {
      for (const b of bm.setBits(Math.max(0, from))) return b;
      return -1;
    },
    nextClean(from) {
      for (let b = Math.max(0, from); b < bm.bits; b++) if (!bm.test(b)) return b;
      return bm.bits;
    },
    countDirty: () => bm.count(),
    sync: () => d.flushBitmap(),
  };
}

const FLAG_BITS: readonly [keyof GenerationFlags, number][] = [
  ['consistent', MDF.Consistent],
  ['wasUpToDate', MDF.WasUpToDate],
  ['primaryInd', MDF.PrimaryInd],
  ['connectedInd', MDF.ConnectedInd],
  ['peerOutdated', MDF.PeerOutdated],
  ['crashedPrimary', MDF.CrashedPrimary],
];

export function generationOf(flags: number, sb: AttachedDisk['sb']): Generation {
  const f = Object.fromEntries(FLAG_BITS.map(([k, bit]) => [k, (flags & bit) !== 0])) as unknown as GenerationFlags;
  return { uuids: { current: sb.current, bitmap: sb.bitmap, history1: sb.history[0], history2: sb.history[1] }, flags: f };
}

/** UUIDs and MDF flags in the super block; `save` resolves once the slot is synced. */
export function generationStoreOf(d: AttachedDisk): GenerationStore {
  return {
    load: () => generationOf(d.sb.flags, d.sb),
    async save(g) {
      let flags = d.sb.flags;
      for (const [k, bit] of FLAG_BITS) flags = g.flags[k] ? flags | bit : flags & ~bit;
      await d.writeSuper({ flags, current: g.uuids.current, bitmap: g.uuids.bitmap, history: [g.uuids.history1, g.uuids.history2] });
    },
  };
}
