import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Uuids } from '../../../lib/replication/protocol/messages.js';
import { UUID_FLAG_DISCARD_MY_DATA } from '../../../lib/replication/protocol/messages.js';
import { AFTER_SB_0PRI, AFTER_SB_1PRI, AFTER_SB_2PRI, DISK_STATES, type DiskState, type Role } from '../../../lib/replication/protocol/states.js';
import { syncHandshake, uuidCompare, UUID_JUST_CREATED, type HandshakePolicy, type HandshakeSide } from '../../../lib/replication/protocol/sync-decision.js';

const U = (current: bigint, bitmap = 0n, history1 = 0n, history2 = 0n): Uuids => ({ current, bitmap, history1, history2 });
const side = (uuids: Uuids, role: Role = 'Secondary', crashedPrimary = false) => ({ uuids, role, crashedPrimary });
const A = 0xa0n, B = 0xb0n, C = 0xc0n, D = 0xd0n, E = 0xe0n;


/**
 * Realistic generation histories: both start in sync, then each step either
 * starts a new generation on one side (a Primary losing its peer) or
 * finishes a resync from one side to the other (drbd-spec 4.6 lifecycle).
 */
const histories = fc.array(fc.tuple(fc.constantFrom('newX', 'newY', 'syncXY', 'syncYX'), fc.boolean()), { maxLength: 5 }).map((ops) => {
  let next = 0x100n;
  const fresh = (): bigint => (next += 0x100n);
  let x: Uuids = U(0xa00n);
  let y: Uuids = U(0xa00n);
  const newCur = (u: Uuids, pri: boolean): Uuids => (u.bitmap !== 0n ? u : { current: fresh() | (pri ? 1n : 0n), bitmap: u.current, history1: u.history1, history2: u.history2 });
  const sync = (src: Uuids): Uuids => {
    const s = src.bitmap !== 0n ? src.bitmap + (1n << 48n) : fresh();
    return { current: src.current, bitmap: 0n, history1: s, history2: src.history1 };
  };
  for (const [op, pri] of ops) {
    if (op === 'newX') x = newCur(x, pri);
    else if (op === 'newY') y = newCur(y, pri);
    else if (op === 'syncXY') x = y = sync(x);
    else x = y = sync(y);
  }
  return [x, y] as const;
});

describe('uuid_compare rules (drbd-spec 4.6)', () => {
  const cases: [string, ReturnType<typeof side>, ReturnType<typeof side>, number, number][] = [
    ['both just created', side(U(UUID_JUST_CREATED)), side(U(UUID_JUST_CREATED)), 0, 10],
    ['mine just created', side(U(UUID_JUST_CREATED)), side(U(A)), -2, 20],
    ['peer just created', side(U(A)), side(U(UUID_JUST_CREATED)), 2, 30],
    ['I was source, peer finished', side(U(A, B)), side(U(A)), 1, 34],
    ['mirror', side(U(A)), side(U(A, B)), -1, 35],
    ['link hiccup', side(U(A)), side(U(A | 1n)), 0, 40],
    ['I crashed as primary', side(U(A), 'Secondary', true), side(U(A)), 1, 40],
    ['peer crashed as primary, I am Primary now', side(U(A), 'Primary'), side(U(A), 'Secondary', true), 1, 41],
    ['peer changed while apart', side(U(A)), side(U(B, A)), -1, 50],
    ['my current in peer history', side(U(A)), side(U(B, C, A)), -2, 60],
    ['I changed while apart', side(U(B, A)), side(U(A)), 1, 70],
    ['peer current in my history', side(U(B, C, A)), side(U(A)), 2, 80],
    ['split brain', side(U(B, A)), side(U(C, A)), 100, 90],
    ['split brain, unrelated ancestry', side(U(B, C, E)), side(U(D, A, E)), -100, 100],
    ['unrelated', side(U(A)), side(U(B)), -1000, 0],
  ];
  for (const [name, s, p, hg, rule] of cases) {
    it(`${name}: ${hg} by rule ${rule}`, () => {
      expect(uuidCompare(s, p, false)).toEqual({ hg, rule });
    });
  }
  it('is antisymmetric: the peer reaches the mirrored verdict', () => {
    fc.assert(
      fc.property(histories, fc.boolean(), fc.boolean(), fc.constantFrom<Role>('Primary', 'Secondary'), fc.constantFrom<Role>('Primary', 'Secondary'), ([x, y], cx, cy, rx, ry) => {
        const a = uuidCompare(side(x, rx, cx), side(y, ry, cy), true).hg;
        const b = uuidCompare(side(y, ry, cy), side(x, rx, cx), false).hg;
        // Split-brain (+-100) and unrelated (-1000) verdicts are not mirrored; the others are.
        if (Math.abs(a) <= 2 && Math.abs(b) <= 2) expect(a + b).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });
});

const policy = (over: Partial<HandshakePolicy> = {}): HandshakePolicy => ({
  afterSb0: 'disconnect',
  afterSb1: 'disconnect',
  afterSb2: 'disconnect',
  rrConflict: 'disconnect',
  alwaysAsbp: false,
  discardMyData: false,
  resolveConflicts: false,
  deviceInUse: false,
  ...over,
});
const hs = (uuids: Uuids, role: Role = 'Secondary', disk: DiskState = 'UpToDate', bitsSet = 0, uuidFlags = 0): HandshakeSide => ({ uuids, role, disk, bitsSet, uuidFlags });
// Split brain: both started a new generation from A.
const sbA = (wasPri = false) => U(B, A | (wasPri ? 1n : 0n));
const sbB = (wasPri = false) => U(C, A | (wasPri ? 1n : 0n));

describe('sync handshake and after-split-brain policies (drbd-spec 4.7)', () => {
  it('unresolved split brain drops the connection and runs the handlers', () => {
    const r = syncHandshake(hs(sbA(), 'Primary'), hs(sbB(), 'Primary'), policy());
    expect(r.outcome).toEqual({ kind: 'disconnect', reason: 'split-brain' });
    expect(r.handlers).toEqual(['initial-split-brain', 'split-brain']);
    expect(r.logs.map((l) => l.msg)).toContain('Split-Brain detected but unresolved, dropping connection!');
  });
  it('disk states override: an Inconsistent side becomes target', () => {
    const r = syncHandshake(hs(U(A), 'Secondary', 'Inconsistent'), hs(U(A)), policy());
    expect(r.outcome).toEqual({ kind: 'sync', source: false, full: false });
    expect(r.logs.map((l) => l.msg)).toContain('Becoming sync target due to disk states.');
  });
  const zero: [HandshakePolicy['afterSb0'], number, number, boolean, boolean, boolean | 'disconnect'][] = [
    // policy, my bits, peer bits, I was primary, peer was primary, expected "I am source"
    ['discard-least-changes', 5, 10, false, false, false],
    ['discard-least-changes', 10, 5, false, false, true],
    ['discard-zero-changes', 0, 10, false, false, false],
    ['discard-zero-changes', 3, 10, false, false, 'disconnect'],
    ['discard-younger-primary', 5, 5, true, false, true],
    ['discard-older-primary', 5, 5, true, false, false],
    ['discard-local', 1, 1, false, false, false],
    ['discard-remote', 1, 1, false, false, true],
    ['disconnect', 1, 1, false, false, 'disconnect'],
  ];
  for (const [p, mine, theirs, myPri, peerPri, want] of zero) {
    it(`after-sb-0pri ${p} (bits ${mine}/${theirs}, was-primary ${myPri}/${peerPri}) -> ${want === 'disconnect' ? 'disconnect' : want ? 'source' : 'target'}`, () => {
      const r = syncHandshake(hs(sbA(myPri), 'Secondary', 'UpToDate', mine), hs(sbB(peerPri), 'Secondary', 'UpToDate', theirs), policy({ afterSb0: p }));
      if (want === 'disconnect') expect(r.outcome.kind).toBe('disconnect');
      else {
        expect(r.outcome).toEqual({ kind: 'sync', source: want, full: false });
        expect(r.logs.map((l) => l.msg)).toContain(`Split-Brain detected, 0 primaries, automatically solved. Sync from ${want ? 'this' : 'peer'} node`);
      }
    });
  }
  it('after-sb-1pri discard-secondary: the Secondary is always the target', () => {
    expect(syncHandshake(hs(sbA(), 'Primary', 'UpToDate', 1), hs(sbB(), 'Secondary', 'UpToDate', 100), policy({ afterSb1: 'discard-secondary' })).outcome).toEqual({ kind: 'sync', source: true, full: false });
    expect(syncHandshake(hs(sbB(), 'Secondary', 'UpToDate', 100), hs(sbA(), 'Primary', 'UpToDate', 1), policy({ afterSb1: 'discard-secondary' })).outcome).toEqual({ kind: 'sync', source: false, full: false });
  });
  it('after-sb-1pri consensus only discards the Secondary', () => {
    const pol = policy({ afterSb0: 'discard-least-changes', afterSb1: 'consensus' });
    // The Secondary changed less: it is discarded.
    expect(syncHandshake(hs(sbA(), 'Primary', 'UpToDate', 10), hs(sbB(), 'Secondary', 'UpToDate', 1), pol).outcome).toEqual({ kind: 'sync', source: true, full: false });
    // The Primary changed less: no consensus.
    expect(syncHandshake(hs(sbA(), 'Primary', 'UpToDate', 1), hs(sbB(), 'Secondary', 'UpToDate', 10), pol).outcome.kind).toBe('disconnect');
  });
  it('call-pri-lost-after-sb: a losing Primary demotes, or runs its handler when in use', () => {
    const pol = policy({ afterSb0: 'discard-least-changes', afterSb2: 'call-pri-lost-after-sb' });
    const r = syncHandshake(hs(sbA(), 'Primary', 'UpToDate', 1), hs(sbB(), 'Primary', 'UpToDate', 10), pol);
    expect(r.demote).toBe(true);
    expect(r.outcome).toEqual({ kind: 'sync', source: false, full: false });
    const inUse = syncHandshake(hs(sbA(), 'Primary', 'UpToDate', 1), hs(sbB(), 'Primary', 'UpToDate', 10), { ...pol, deviceInUse: true });
    expect(inUse.handlers).toContain('pri-lost-after-sb');
    expect(inUse.outcome.kind).toBe('disconnect');
  });
  it('--discard-my-data resolves a split brain by hand', () => {
    const r = syncHandshake(hs(sbA()), hs(sbB()), policy({ discardMyData: true }));
    expect(r.outcome).toEqual({ kind: 'sync', source: false, full: false });
    const peer = syncHandshake(hs(sbB()), hs(sbA(), 'Secondary', 'UpToDate', 0, UUID_FLAG_DISCARD_MY_DATA), policy());
    expect(peer.outcome).toEqual({ kind: 'sync', source: true, full: false });
    expect(peer.logs.map((l) => l.msg)).toContain('Split-Brain detected, manually solved. Sync from this node');
  });
  it('rr-conflict: a Primary that would become target disconnects', () => {
    const r = syncHandshake(hs(U(A), 'Primary'), hs(U(B, A)), policy());
    expect(r.outcome).toEqual({ kind: 'disconnect', reason: 'rr-conflict' });
    expect(r.logs.map((l) => l.msg)).toContain('I shall become SyncTarget, but I am primary!');
    expect(syncHandshake(hs(U(A), 'Primary'), hs(U(B, A)), policy({ rrConflict: 'violently' })).outcome).toEqual({ kind: 'sync', source: false, full: false });
  });
  it('the two sides always reach mirrored decisions (with mirrored inputs and one tie-breaker)', () => {
    const sideArb = fc.record({
      role: fc.constantFrom<Role>('Primary', 'Secondary'),
      disk: fc.constantFrom<DiskState>(...DISK_STATES.filter((d) => d === 'UpToDate' || d === 'Inconsistent' || d === 'Consistent' || d === 'Outdated')),
      bitsSet: fc.nat(20),
      uuidFlags: fc.constantFrom(0, UUID_FLAG_DISCARD_MY_DATA),
    });
    fc.assert(
      fc.property(histories, sideArb, sideArb, fc.constantFrom(...AFTER_SB_0PRI), fc.constantFrom(...AFTER_SB_1PRI), fc.constantFrom(...AFTER_SB_2PRI), ([ux, uy], sx, sy, p0, p1, p2) => {
        const x = { ...sx, uuids: ux };
        const y = { ...sy, uuids: uy };
        if ((x.uuidFlags & y.uuidFlags & UUID_FLAG_DISCARD_MY_DATA) !== 0) return;
        const mirror = (p: typeof p0): typeof p0 => (p === 'discard-local' ? 'discard-remote' : p === 'discard-remote' ? 'discard-local' : p);
        const base = { afterSb1: p1, afterSb2: p2, rrConflict: 'violently' as const };
        const r1 = syncHandshake(x, y, policy({ ...base, afterSb0: p0, resolveConflicts: true, discardMyData: (x.uuidFlags & 1) !== 0 }));
        const r2 = syncHandshake(y, x, policy({ ...base, afterSb0: mirror(p0), resolveConflicts: false, discardMyData: (y.uuidFlags & 1) !== 0 }));
        if (r1.outcome.kind === 'sync' && r2.outcome.kind === 'sync') {
          expect(r1.outcome.source).toBe(!r2.outcome.source);
          expect(r1.outcome.full).toBe(r2.outcome.full);
        }
        if (r1.outcome.kind === 'connected') expect(['connected', 'disconnect']).toContain(r2.outcome.kind);
      }),
      { numRuns: 3000 },
    );
  });
});
