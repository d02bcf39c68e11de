import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attachState } from '../../../lib/replication/protocol/attach.js';
import { freshGeneration } from '../../../lib/replication/protocol/memory.js';
import { BLOCK_BYTES } from '../../../lib/replication/protocol/ports.js';
import { Sim, type SimNode } from './sim.js';

const SIZE = 256 * 1024; // 64 blocks: collisions are likely

type Op =
  | { kind: 'write'; block: number; blocks: number; sub: number; byte: number; fua: boolean }
  | { kind: 'cut' }
  | { kind: 'heal' }
  | { kind: 'wait'; ms: number }
  | { kind: 'reconnect' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('write' as const), block: fc.nat(63), blocks: fc.integer({ min: 1, max: 4 }), sub: fc.nat(7), byte: fc.integer({ min: 1, max: 255 }), fua: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'cut' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'heal' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 3000 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reconnect' as const }) },
);

const blockOf = (n: SimNode, b: number): Uint8Array => n.store.subarray(b * BLOCK_BYTES, (b + 1) * BLOCK_BYTES);
const sameBlock = (a: SimNode, b: SimNode, i: number): boolean => Buffer.compare(Buffer.from(blockOf(a, i)), Buffer.from(blockOf(b, i))) === 0;

describe('replication model check (virtual time)', () => {
  for (const protocol of ['A', 'B', 'C'] as const) {
    it(`protocol ${protocol}: every completed write is on the peer or marked out of sync, and after healing both disks are equal`, () => {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
          const sim = new Sim();
          const cfg = { protocol, sizeBytes: SIZE, resyncRateBytesPerSec: 1 << 20, pingIntMs: 1000, pingTimeoutMs: 500, timeoutMs: 2000, koCount: 4 };
          const a = sim.add('alpha', cfg);
          const b = sim.add('bravo', cfg);
          sim.apply(a, a.m.connect(0));
          sim.apply(b, b.m.connect(0));
          sim.run(100);
          sim.apply(a, a.m.setRole(sim.now, 'Primary', { force: true }).actions);
          sim.run(sim.now + 5000, () => a.m.status().conn === 'Connected' && b.m.status().disk === 'UpToDate');
          expect(b.m.status().disk).toBe('UpToDate');
          let req = 1;
          const written = new Map<number, { first: number; count: number }>();
          sim.onComplete = (n, r, err) => {
            if (n !== a || err !== undefined) return;
            const w = written.get(r)!;
            if (protocol !== 'C') return;
            // Protocol C: a completed write is on the peer's disk, or marked for resync.
            for (let i = w.first; i < w.first + w.count; i++) expect(sameBlock(a, b, i) || a.bitmap.isDirty(i)).toBe(true);
          };
          for (const o of ops) {
            switch (o.kind) {
              case 'write': {
                const first = Math.min(o.block, 64 - o.blocks);
                const offset = first * BLOCK_BYTES + o.sub * 512;
                const len = Math.min(o.blocks * BLOCK_BYTES, SIZE - offset);
                const r = req++;
                written.set(r, { first, count: Math.ceil((offset + len) / BLOCK_BYTES) - first });
                sim.write(a, r, offset, new Uint8Array(len).fill(o.byte), o.fua);
                sim.run(sim.now + 10_000, () => a.completed.has(r));
                expect(a.completed.get(r)).toBeUndefined();
                break;
              }
              case 'cut':
                sim.cut();
                break;
              case 'heal':
                sim.heal();
                break;
              case 'wait':
                sim.run(sim.now + o.ms);
                break;
              case 'reconnect':
                sim.apply(b, b.m.disconnect(sim.now));
                sim.apply(b, b.m.connect(sim.now));
                break;
            }
          }
          sim.heal();
          const settled = (): boolean =>
            a.m.status().conn === 'Connected' && b.m.status().conn === 'Connected' && a.m.status().peerDisk === 'UpToDate' && b.m.status().disk === 'UpToDate' && a.bitmap.countDirty() === 0;
          sim.run(sim.now + 120_000, settled);
          expect(settled()).toBe(true);
          sim.run(sim.now + 100);
          expect(Buffer.compare(Buffer.from(a.store), Buffer.from(b.store))).toBe(0);
          expect(b.gen.uuids).toEqual({ ...a.gen.uuids, current: a.gen.uuids.current });
        }),
        { numRuns: Number(process.env.REPL_MODEL_RUNS ?? 60), endOnFailure: true },
      );
    });
  }
});

describe('attach', () => {
  it('derives the disk state and the crashed-primary flag from the meta-data flags', () => {
    const g = freshGeneration();
    expect(attachState(g).disk).toBe('Inconsistent');
    const f = { ...g.flags, consistent: true, wasUpToDate: true };
    expect(attachState({ ...g, flags: f }).disk).toBe('Consistent');
    expect(attachState({ ...g, flags: { ...f, wasUpToDate: false } }).disk).toBe('Outdated');
    const crashed = attachState({ ...g, flags: { ...f, primaryInd: true } });
    expect(crashed.generation.flags.crashedPrimary).toBe(true);
    expect(crashed.generation.flags.primaryInd).toBe(false);
  });
});
