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

type RoleOp =
  | { kind: 'write'; node: 0 | 1; block: number; blocks: number; byte: number }
  | { kind: 'cut' }
  | { kind: 'heal' }
  | { kind: 'wait'; ms: number }
  | { kind: 'switch' }
  | { kind: 'promote'; node: 0 | 1 }
  | { kind: 'demote'; node: 0 | 1 };

const roleOp: fc.Arbitrary<RoleOp> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('write' as const), node: fc.constantFrom(0 as const, 1 as const), block: fc.nat(63), blocks: fc.integer({ min: 1, max: 3 }), byte: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'cut' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'heal' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 3000 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'switch' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('promote' as const), node: fc.constantFrom(0 as const, 1 as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('demote' as const), node: fc.constantFrom(0 as const, 1 as const) }) },
);

describe('replication model check with role changes and split brains (virtual time)', () => {
  for (const policy of ['disconnect', 'discard-least-changes'] as const) {
    it(`after-sb-0pri ${policy}: switch-overs, promotions during cuts and split brains end, after recovery, with equal disks`, () => {
      fc.assert(
        fc.property(fc.array(roleOp, { maxLength: 30 }), (ops) => {
          const sim = new Sim();
          const cfg = { protocol: 'C' as const, sizeBytes: SIZE, resyncRateBytesPerSec: 1 << 20, pingIntMs: 1000, pingTimeoutMs: 500, timeoutMs: 2000, koCount: 4, afterSb0: policy, afterSb1: 'discard-secondary' as const };
          const n = [sim.add('alpha', cfg), sim.add('bravo', cfg)] as const;
          for (const x of n) sim.apply(x, x.m.connect(0));
          sim.run(100);
          sim.apply(n[0], n[0].m.setRole(sim.now, 'Primary', { force: true }).actions);
          sim.run(sim.now + 5000, () => n[0].m.status().conn === 'Connected' && n[1].m.status().disk === 'UpToDate');
          let req = 1;
          for (const o of ops) {
            switch (o.kind) {
              case 'write': {
                const x = n[o.node].m.status().role === 'Primary' ? n[o.node] : n[1 - o.node]!;
                if (x.m.status().role !== 'Primary') break;
                const first = Math.min(o.block, 64 - o.blocks);
                const r = req++;
                sim.write(x, r, first * BLOCK_BYTES, new Uint8Array(o.blocks * BLOCK_BYTES).fill(o.byte));
                sim.run(sim.now + 10_000, () => x.completed.has(r));
                break;
              }
              case 'cut':
                sim.cut();
                sim.run(sim.now + 5);
                break;
              case 'heal':
                sim.heal();
                break;
              case 'wait':
                sim.run(sim.now + o.ms);
                break;
              case 'switch': {
                const [p, s] = n[0].m.status().role === 'Primary' ? [n[0], n[1]] : [n[1], n[0]];
                if (p.m.status().role !== 'Primary' || p.m.status().conn !== 'Connected' || s.m.status().disk !== 'UpToDate') break;
                sim.apply(p, p.m.setRole(sim.now, 'Secondary').actions);
                sim.run(sim.now + 5);
                sim.apply(s, s.m.setRole(sim.now, 'Primary').actions);
                sim.run(sim.now + 5);
                break;
              }
              case 'promote':
                sim.apply(n[o.node], n[o.node].m.setRole(sim.now, 'Primary').actions);
                break;
              case 'demote':
                sim.apply(n[o.node], n[o.node].m.setRole(sim.now, 'Secondary').actions);
                break;
            }
          }
          // Recovery as an admin does it: heal, one Primary at most, and for an
          // unresolved split brain, `connect --discard-my-data` on the victim.
          sim.heal();
          const settled = (): boolean =>
            n.every((x) => x.m.status().conn === 'Connected' && x.m.status().disk === 'UpToDate' && x.m.status().peerDisk === 'UpToDate' && x.bitmap.countDirty() === 0);
          for (let round = 0; round < 3 && !settled(); round++) {
            sim.run(sim.now + 3000, settled);
            if (settled()) break;
            if (n[0].m.status().role === 'Primary' && n[1].m.status().role === 'Primary') sim.apply(n[1], n[1].m.setRole(sim.now, 'Secondary').actions);
            sim.run(sim.now + 100);
            const victim = n[0].m.status().role === 'Primary' ? n[1] : n[0];
            const survivor = victim === n[0] ? n[1] : n[0];
            if (n.some((x) => x.m.status().conn === 'StandAlone')) {
              // An unresolved split brain, or two promotions that crossed on the wire.
              const why = ['block drbd0: Split-Brain detected but unresolved, dropping connection!', 'block drbd0: Multiple primaries not allowed by config; dropping connection'];
              expect(n.some((x) => x.logs.some((l) => why.includes(l)))).toBe(true);
              sim.apply(victim, victim.m.disconnect(sim.now));
              sim.apply(survivor, survivor.m.disconnect(sim.now));
              sim.apply(victim, victim.m.connect(sim.now, { discardMyData: true }));
              sim.apply(survivor, survivor.m.connect(sim.now));
            }
          }
          sim.run(sim.now + 120_000, settled);
          expect(settled()).toBe(true);
          sim.run(sim.now + 100);
          expect(Buffer.compare(Buffer.from(n[0].store), Buffer.from(n[1].store))).toBe(0);
          expect({ ...n[1].gen.uuids, current: n[1].gen.uuids.current & ~1n }).toEqual({ ...n[0].gen.uuids, current: n[0].gen.uuids.current & ~1n });
        }),
        { numRuns: Number(process.env.REPL_MODEL_RUNS ?? 60), endOnFailure: true },
      );
    });
  }
});
