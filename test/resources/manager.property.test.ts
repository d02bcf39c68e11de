/**
 * Properties of the resource manager over arbitrary event sequences, with two
 * machines joined by the simulated wire of manager-sim.ts:
 * - once the network is whole, every node is up and all messages and group
 *   operations are done, no group is held by both nodes;
 * - the stop calls of a group are its start calls reversed;
 * - no event sequence makes a machine throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ResourceMachine } from '../../lib/resources/index.js';
import type { ResourceEvent } from '../../lib/resources/index.js';
import { parseHaresources } from './manager-groups.js';
import { HARESOURCES, Sim, type SimNode } from './manager-sim.js';

type Name = 'node1' | 'node2';
type Cmd =
  | { k: 'step' }
  | { k: 'steps'; n: number }
  | { k: 'advance'; ms: number }
  | { k: 'cut' }
  | { k: 'detect'; n: Name }
  | { k: 'join' }
  | { k: 'crash'; n: Name }
  | { k: 'restart'; n: Name }
  | { k: 'shutdown'; n: Name }
  | { k: 'cmd'; n: Name; command: 'standby' | 'takeover'; set: 'all' | 'local' | 'foreign' | 'failback' }
  | { k: 'failStart'; n: Name };

const name = fc.constantFrom<Name>('node1', 'node2');
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Cmd>({ k: 'step' }) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 20 }).map<Cmd>((n) => ({ k: 'steps', n })) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 15_000 }).map<Cmd>((ms) => ({ k: 'advance', ms })) },
  { weight: 1, arbitrary: fc.constant<Cmd>({ k: 'cut' }) },
  { weight: 2, arbitrary: name.map<Cmd>((n) => ({ k: 'detect', n })) },
  { weight: 2, arbitrary: fc.constant<Cmd>({ k: 'join' }) },
  { weight: 1, arbitrary: name.map<Cmd>((n) => ({ k: 'crash', n })) },
  { weight: 2, arbitrary: name.map<Cmd>((n) => ({ k: 'restart', n })) },
  { weight: 1, arbitrary: name.map<Cmd>((n) => ({ k: 'shutdown', n })) },
  {
    weight: 3,
    arbitrary: fc
      .record({ n: name, command: fc.constantFrom<'standby' | 'takeover'>('standby', 'takeover'), set: fc.constantFrom<'all' | 'local' | 'foreign' | 'failback'>('all', 'local', 'foreign', 'failback') })
      .map<Cmd>((r) => ({ k: 'cmd', ...r })),
  },
  { weight: 1, arbitrary: name.map<Cmd>((n) => ({ k: 'failStart', n })) },
);

/** The sim plus what membership would tell each node. */
class World {
  readonly s: Sim;
  /** Whether each node currently counts its peer alive. */
  readonly sees: Record<Name, boolean> = { node1: true, node2: true };
  /** The peer restarted since this node last saw it (new generation → peer-alive, not a heal). */
  readonly restartedSince: Record<Name, boolean> = { node1: false, node2: false };
  readonly failNext: Record<Name, boolean> = { node1: false, node2: false };

  constructor(autoFailback: 'on' | 'off' | 'legacy') {
    this.s = new Sim({
      autoFailback,
      outcome: (n, op) => {
        if (op === 'start' && this.failNext[n as Name]) {
          this.failNext[n as Name] = false;
          return 'start-failed';
        }
        return op === 'start' ? 'started' : 'stopped';
      },
    });
    this.s.startBoth();
    // Messages are delivered once the link is back (retransmission); only a node's death loses them.
    this.s.dropWhileCut = false;
  }

  node(n: Name): SimNode {
    return this.s.nodes[n];
  }
  peer(n: Name): Name {
    return n === 'node1' ? 'node2' : 'node1';
  }
  up(n: Name): boolean {
    const x = this.node(n);
    return x.alive && !x.shutDown;
  }
  feed(n: Name, ev: ResourceEvent): void {
    if (this.up(n)) this.s.feed(this.node(n), ev);
  }
  /** A node goes away: the peer notices at its deadtime. */
  gone(n: Name): void {
    const p = this.peer(n);
    this.s.wire.splice(0, this.s.wire.length, ...this.s.wire.filter((w) => w.to !== n));
    if (this.sees[p]) {
      this.sees[p] = false;
      this.feed(p, { kind: 'peer-dead', now: this.s.now });
    }
  }

  apply(c: Cmd): void {
    const s = this.s;
    switch (c.k) {
      case 'step':
        s.stepOnce();
        break;
      case 'steps':
        for (let i = 0; i < c.n; i++) s.stepOnce();
        break;
      case 'advance':
        this.advance(s.now + c.ms);
        break;
      case 'cut':
        s.connected = false;
        break;
      case 'detect':
        if (!s.connected && this.sees[c.n] && this.up(c.n)) {
          this.sees[c.n] = false;
          this.feed(c.n, { kind: 'peer-dead', now: s.now });
        }
        break;
      case 'join':
        this.join();
        break;
      case 'crash':
        if (!this.up(c.n)) break;
        this.node(c.n).alive = false;
        this.node(c.n).pending.length = 0;
        this.gone(c.n);
        break;
      case 'restart': {
        if (this.up(c.n)) break;
        const p = this.peer(c.n);
        const peerReachable = s.connected && this.up(p);
        // Packets of its previous generation are dropped by the receiver's sequence layer.
        s.wire.splice(0, s.wire.length, ...s.wire.filter((w) => w.to !== c.n && w.message.src !== c.n));
        const fresh = (s as unknown as { mk: (a: Name, b: Name) => SimNode }).mk(c.n, p);
        s.nodes[c.n] = fresh;
        this.sees[c.n] = peerReachable;
        if (peerReachable) {
          this.sees[p] = true;
          this.feed(p, { kind: 'peer-alive', now: s.now });
        } else this.restartedSince[p] = true;
        this.feed(c.n, { kind: 'comm-up', now: s.now, peer: peerReachable ? 'active' : 'dead' });
        break;
      }
      case 'shutdown':
        this.feed(c.n, { kind: 'shutdown', now: s.now });
        break;
      case 'cmd':
        this.feed(c.n, { kind: 'command', now: s.now, command: c.command, set: c.set });
        break;
      case 'failStart':
        this.failNext[c.n] = true;
        break;
    }
    // A node that finished its shutdown leaves; its peer declares it dead later.
    for (const n of ['node1', 'node2'] as const) {
      const x = this.node(n);
      if (x.alive && x.shutDown) {
        x.alive = false;
        this.gone(n);
      }
    }
  }

  join(): void {
    const s = this.s;
    s.connected = true;
    for (const n of ['node1', 'node2'] as const) {
      const p = this.peer(n);
      if (!this.up(n) || !this.up(p) || this.sees[n]) continue;
      this.sees[n] = true;
      if (this.restartedSince[n]) this.feed(n, { kind: 'peer-alive', now: s.now });
      else this.feed(n, { kind: 'partition-healed', now: s.now });
      this.restartedSince[n] = false;
    }
  }

  advance(t: number): void {
    const s = this.s;
    for (let guard = 0; guard < 1000; guard++) {
      const due = (['node1', 'node2'] as const).filter((n) => this.up(n) && this.node(n).deadline !== undefined && this.node(n).deadline! <= t);
      if (due.length === 0) break;
      const next = Math.min(...due.map((n) => this.node(n).deadline!));
      s.now = Math.max(s.now, next);
      for (const n of due) if (this.node(n).deadline === next) this.feed(n, { kind: 'tick', now: s.now });
    }
    s.now = Math.max(s.now, t);
  }

  /** Whole network, both nodes up, everything delivered and every timer run. */
  quiesce(): void {
    const s = this.s;
    for (const n of ['node1', 'node2'] as const) if (!this.up(n)) this.apply({ k: 'restart', n });
    this.join();
    for (let round = 0; round < 50; round++) {
      s.settle();
      const before = s.now;
      this.advance(s.now + 4_000_000);
      s.settle();
      if (s.now === before + 4_000_000 && s.wire.length === 0) break;
    }
  }
}

describe('resource manager properties', () => {
  for (const mode of ['on', 'off', 'legacy'] as const) {
    it(`auto_failback ${mode}: after any events, once healed and settled, no group is held by both nodes`, () => {
      fc.assert(
        fc.property(fc.array(cmdArb, { maxLength: 60 }), (cmds) => {
          const w = new World(mode);
          for (const c of cmds) w.apply(c);
          w.quiesce();
          const a = new Set(w.s.held(w.node('node1')));
          const both = w.s.held(w.node('node2')).filter((k) => a.has(k));
          expect(both).toEqual([]);
        }),
        { numRuns: 500 },
      );
    });
  }

  it('every stop of a group runs the calls of its start in reverse order', () => {
    fc.assert(
      fc.property(fc.array(cmdArb, { maxLength: 40 }), (cmds) => {
        const w = new World('on');
        for (const c of cmds) w.apply(c);
        w.quiesce();
        w.apply({ k: 'shutdown', n: 'node1' });
        w.s.settle();
        for (const n of ['node1', 'node2'] as const) {
          const runsOf = w.node(n).trace.filter((a) => a.kind === 'run-group');
          const starts = new Map(runsOf.filter((r) => r.op === 'start').map((r) => [r.key, r.calls.map((c) => c.resource)]));
          for (const r of runsOf.filter((x) => x.op === 'stop')) {
            const st = starts.get(r.key);
            if (st !== undefined) expect(r.calls.map((c) => c.resource)).toEqual([...st].reverse());
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('never throws on arbitrary events, and deadlines always lie after the event time', () => {
    const groups = parseHaresources(HARESOURCES);
    const msg = fc.record({
      t: fc.constantFrom('starting', 'resource', 'ask_resources', 'hb_takeover', 'ip-request', 'ip-request-resp', 'shutdone', 'status', 'x'),
      src: fc.constantFrom('node1', 'node2', 'NODE2', 'other', ''),
      rsc_hold: fc.constantFrom('none', 'local', 'foreign', 'all', 'failback', 'bogus'),
      info: fc.constantFrom('me', 'other', 'done', 'standby', 'shutdown', 'partition', 'mach_down'),
      rtype: fc.constantFrom('full', ''),
      isstable: fc.constantFrom('0', '1', ''),
      ipaddr: fc.constantFrom('IPaddr::10.0.0.10/24', '10.0.0.20', 'nope'),
      dest: fc.constantFrom('node1', 'node2'),
      ok: fc.constantFrom('OK', 'no'),
      weown: fc.constantFrom('yes', 'no'),
    });
    const ev: fc.Arbitrary<(now: number) => ResourceEvent> = fc.oneof(
      fc.constantFrom<'active' | 'up' | 'dead'>('active', 'up', 'dead').map((peer) => (now: number) => ({ kind: 'comm-up' as const, now, peer })),
      fc.constantFrom('peer-alive', 'peer-dead', 'partition-healed', 'shutdown', 'tick').map((k) => (now: number) => ({ kind: k, now }) as ResourceEvent),
      msg.map((m) => (now: number) => ({ kind: 'message' as const, now, message: m })),
      fc
        .record({ command: fc.constantFrom<'standby' | 'takeover'>('standby', 'takeover'), set: fc.constantFrom<'all' | 'local' | 'foreign' | 'failback'>('all', 'local', 'foreign', 'failback') })
        .map((c) => (now: number) => ({ kind: 'command' as const, now, ...c })),
      fc
        .record({ id: fc.integer({ min: 0, max: 12 }), outcome: fc.constantFrom<'started' | 'start-failed' | 'stopped' | 'stop-failed'>('started', 'start-failed', 'stopped', 'stop-failed') })
        .map((r) => (now: number) => ({ kind: 'group-result' as const, now, ...r })),
      fc.record({ node: fc.constantFrom('node1', 'node2'), ok: fc.boolean() }).map((r) => (now: number) => ({ kind: 'fence-result' as const, now, ...r })),
    );
    fc.assert(
      fc.property(
        fc.constantFrom<'on' | 'off' | 'legacy'>('on', 'off', 'legacy'),
        fc.boolean(),
        fc.array(fc.tuple(ev, fc.integer({ min: -5, max: 20_000 })), { maxLength: 80 }),
        (mode, stonith, evs) => {
          const m = new ResourceMachine({ localNode: 'node1', peerNode: 'node2', groups, autoFailback: mode, ...(stonith ? { stonithDevice: 'x' } : {}) });
          let now = 0;
          for (const [mk, dt] of evs) {
            now += dt;
            const step = m.handle(mk(now));
            if (step.nextDeadline !== undefined) expect(step.nextDeadline).toBeGreaterThan(Math.max(0, now) - 1);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
