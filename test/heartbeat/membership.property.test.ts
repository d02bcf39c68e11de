import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_TIME_MS, MembershipMachine } from '../../lib/heartbeat/membership/index.js';
import type {
  MembershipAction,
  MembershipConfig,
  MembershipEvent,
  ReceivedPacket,
} from '../../lib/heartbeat/membership/index.js';

/** Valid timing configs: deadtime > 2 x keepalive, initdead >= deadtime, as ha.cf demands. */
const configWith = (minKeepalive: number): fc.Arbitrary<MembershipConfig> => fc
  .record({
    keepalive: fc.integer({ min: minKeepalive, max: 2000 }),
    deadFactor: fc.integer({ min: 2, max: 10 }),
    deadExtra: fc.integer({ min: 1, max: 999 }),
    warnPct: fc.integer({ min: 10, max: 100 }),
    initExtra: fc.integer({ min: 0, max: 20000 }),
    nodes: fc.constantFrom(['n1', 'n2'], ['n1', 'n2', 'n3']),
    media: fc.constantFrom(['eth0'], ['eth0', 'eth1']),
    ping: fc.boolean(),
  })
  .map((r) => {
    const deadtimeMs = r.keepalive * r.deadFactor + r.deadExtra;
    return {
      localNode: 'n1',
      nodes: r.nodes,
      media: r.media,
      ...(r.ping ? { pingNodes: ['gw'] } : {}),
      keepaliveMs: r.keepalive,
      deadtimeMs,
      warntimeMs: Math.max(1, Math.floor((deadtimeMs * r.warnPct) / 100)),
      initdeadMs: deadtimeMs + r.initExtra,
    };
  });
/** Any timing, down to 1 ms keepalives, for the hostile-input test. */
const configArb = configWith(1);
/** Scenario runs tick at every keepalive: keep them to a few thousand ticks. */
const scenarioConfigArb = configWith(200);

const anyNumber = fc.oneof(
  fc.integer({ min: -5, max: 100000 }),
  fc.constantFrom(NaN, Infinity, -Infinity, 0.5, Number.MAX_SAFE_INTEGER, 2 ** 60),
);

/** Hostile packets: unknown senders, odd types, bad numbers, missing fields. */
const wildPacketArb: fc.Arbitrary<ReceivedPacket> = fc.record(
  {
    from: fc.constantFrom('n1', 'n2', 'n3', 'gw', 'N2', '', 'stranger'),
    link: fc.constantFrom('eth0', 'eth1', 'gw', 'bogus'),
    type: fc.constantFrom('status', 'NS_st', 'shutdone', 'reqnodes', 'repnodes', 'resource', 'NS_ackmsg', '', 'x'),
    seq: anyNumber,
    generation: anyNumber,
    status: fc.constantFrom('up', 'active', 'init', 'dead', 'ping', 'ACTIVE', ''),
    advertisedDeadtimeMs: anyNumber,
    remoteTime: anyNumber,
    toUs: fc.boolean(),
    fields: fc.constantFrom<Record<string, string>>({}, { protocol: '1' }),
  },
  { requiredKeys: ['from', 'type'] },
);

const wildEventArb: fc.Arbitrary<MembershipEvent> = fc.oneof(
  fc.record({ kind: fc.constant('start' as const), now: anyNumber }),
  fc.record({ kind: fc.constant('tick' as const), now: anyNumber }),
  fc.record({ kind: fc.constant('shutdown' as const), now: anyNumber }),
  fc.record({ kind: fc.constant('packet' as const), now: anyNumber, packet: wildPacketArb }),
);

interface Timed {
  at: number;
  action: MembershipAction;
}

/**
 * A plausible run: peers send status packets on random links with rising seq,
 * sometimes change their dt or restart; the shell ticks at every deadline.
 */
const peerEventArb = fc.record({
  gap: fc.integer({ min: 0, max: 12000 }),
  from: fc.constantFrom('n2', 'n3', 'gw'),
  link: fc.constantFrom('eth0', 'eth1'),
  st: fc.constantFrom('up', 'active'),
  dt: fc.option(fc.integer({ min: 50, max: 20000 }), { nil: undefined }),
  restart: fc.boolean(),
  protocol: fc.boolean(),
  shutdown: fc.boolean(),
});
type PeerEvent = typeof peerEventArb extends fc.Arbitrary<infer T> ? T : never;

function packetFor(e: PeerEvent, seq: number, gen: number): ReceivedPacket {
  if (e.from === 'gw') return { from: 'gw', link: 'gw', type: 'NS_st', status: 'ping' };
  return {
    from: e.from,
    link: e.link,
    type: 'status',
    status: e.st,
    seq,
    generation: gen,
    ...(e.dt === undefined ? {} : { advertisedDeadtimeMs: e.dt }),
    fields: e.protocol ? { protocol: '1' } : {},
  };
}

/**
 * Runs the scenario through a shell that ticks at each deadline; `probes`
 * adds extra ticks at arbitrary moments. Returns every action with its time
 * and checks the deadline contract on the way.
 */
function runScenario(config: MembershipConfig, events: PeerEvent[], probes: number[], onStep?: (at: number, actions: readonly MembershipAction[], kind: string, p?: ReceivedPacket) => void): Timed[] {
  const m = new MembershipMachine(config);
  const out: Timed[] = [];
  let now = 0;
  let next: number | undefined;
  const feed = (ev: MembershipEvent, isProbe = false): void => {
    const step = m.handle(ev);
    now = Math.max(now, ev.now);
    if (isProbe) {
      // Nothing was due before `next`, so a tick in between must be a no-op.
      expect(step.actions).toEqual([]);
      expect(step.nextDeadline).toBe(next);
    }
    if (ev.kind === 'tick' && !isProbe && ev.now === next) {
      // Every deadline stands for something the machine actually does then.
      expect(step.actions.length).toBeGreaterThan(0);
    }
    if (step.nextDeadline !== undefined) expect(step.nextDeadline).toBeGreaterThan(now);
    for (const a of step.actions) out.push({ at: now, action: a });
    onStep?.(now, step.actions, ev.kind, ev.kind === 'packet' ? ev.packet : undefined);
    next = step.nextDeadline;
  };
  const probeQueue = [...probes].sort((a, b) => a - b);
  const advanceTo = (t: number, inclusive: boolean): void => {
    for (;;) {
      const probe = probeQueue[0];
      const due = next !== undefined && (inclusive ? next <= t : next < t) ? next : undefined;
      if (probe !== undefined && probe <= t && probe > now && (due === undefined || probe < due)) {
        probeQueue.shift();
        feed({ kind: 'tick', now: probe }, true);
      } else if (due !== undefined) feed({ kind: 'tick', now: due });
      else {
        while (probeQueue[0] !== undefined && probeQueue[0] <= t) probeQueue.shift();
        return;
      }
    }
  };
  feed({ kind: 'start', now: 0 });
  const seqs = new Map<string, number>();
  const gens = new Map<string, number>();
  for (const e of events) {
    const t = now + e.gap;
    advanceTo(t, false);
    if (e.restart) {
      gens.set(e.from, (gens.get(e.from) ?? 1) + 1);
      seqs.set(e.from, 0);
    }
    const seq = (seqs.get(e.from) ?? 0) + 1;
    seqs.set(e.from, seq);
    feed({ kind: 'packet', now: t, packet: packetFor(e, seq, gens.get(e.from) ?? 1) });
  }
  advanceTo(now + 2 * config.initdeadMs, true);
  return out;
}

describe('membership properties', () => {
  it('arbitrary event sequences never throw and never ask for a deadline in the past', () => {
    fc.assert(
      fc.property(configArb, fc.array(wildEventArb, { maxLength: 60 }), (config, events) => {
        const m = new MembershipMachine(config);
        let latest = -Infinity;
        for (const ev of events) {
          const step = m.handle(ev);
          if (Math.abs(ev.now) <= MAX_TIME_MS) latest = Math.max(latest, ev.now); // others are refused
          if (step.nextDeadline !== undefined) expect(step.nextDeadline).toBeGreaterThan(latest);
          m.nodeViews();
        }
      }),
      { numRuns: 500 },
    );
  });

  it('the next deadline is exact: extra ticks before it change nothing, and something happens at it', () => {
    fc.assert(
      fc.property(
        scenarioConfigArb,
        fc.array(peerEventArb, { maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 200000 }), { maxLength: 40 }),
        (config, events, probes) => {
          const plain = runScenario(config, events, []);
          const probed = runScenario(config, events, probes);
          expect(probed).toEqual(plain);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('no node is declared dead while a heartbeat was heard from it within its deadtime', () => {
    fc.assert(
      fc.property(scenarioConfigArb, fc.array(peerEventArb, { maxLength: 40 }), (config, events) => {
        const lastHeard = new Map<string, number>();
        const dtInForce = new Map<string, number>();
        const linkHeard = new Map<string, number>();
        const deadping = config.deadpingMs ?? config.deadtimeMs;
        const threshold = (node: string) => Math.min(config.deadtimeMs, dtInForce.get(node) ?? (node === 'gw' ? deadping : config.deadtimeMs));
        runScenario(config, events, [], (at, actions, kind, p) => {
          // A dt takes effect with the packet that carries it (it may kill a stale link at once)…
          if (kind === 'packet' && p?.advertisedDeadtimeMs !== undefined) dtInForce.set(p.from, p.advertisedDeadtimeMs);
          for (const a of actions) {
            if (a.kind === 'nodeStatus' && a.status === 'dead') {
              expect(at - (lastHeard.get(a.node) ?? 0)).toBeGreaterThanOrEqual(threshold(a.node));
            }
            if (a.kind === 'linkStatus' && a.status === 'dead') {
              expect(at - (linkHeard.get(`${a.node}:${a.link}`) ?? 0)).toBeGreaterThanOrEqual(threshold(a.node));
            }
          }
          // …but the packet itself only counts as heard after (a late one is judged on the previous).
          if (kind === 'packet' && p !== undefined) {
            lastHeard.set(p.from, at);
            linkHeard.set(`${p.from}:${p.link}`, at);
          }
        });
      }),
      { numRuns: 300 },
    );
  });

  it('reported node and link statuses form consistent chains (each change starts where the last ended)', () => {
    fc.assert(
      fc.property(scenarioConfigArb, fc.array(peerEventArb, { maxLength: 40 }), (config, events) => {
        const nodeStatus = new Map<string, string>();
        const linkStatus = new Map<string, string>();
        for (const { action: a } of runScenario(config, events, [])) {
          if (a.kind === 'nodeStatus') {
            expect(a.previous).toBe(nodeStatus.get(a.node) ?? 'init');
            expect(a.status).not.toBe(a.previous);
            nodeStatus.set(a.node, a.status);
          }
          if (a.kind === 'linkStatus') {
            const key = `${a.node}:${a.link}`;
            expect(a.status).not.toBe(linkStatus.get(key) ?? 'dead');
            linkStatus.set(key, a.status);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('while a peer keeps beating within min(deadtime, its dt), it is never declared dead', () => {
    fc.assert(
      fc.property(
        scenarioConfigArb,
        fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 5, maxLength: 60 }),
        fc.integer({ min: 0, max: 100 }),
        (config, linkChoice, jitterPct) => {
          const m = new MembershipMachine({ ...config, nodes: ['n1', 'n2'], pingNodes: [], media: ['eth0', 'eth1'] });
          // Intervals just under the dead time: late warnings are fine, death is not.
          const interval = Math.max(1, Math.floor(((config.deadtimeMs - 1) * jitterPct) / 100));
          let t = 0;
          let next = m.handle({ kind: 'start', now: 0 }).nextDeadline;
          const all: MembershipAction[] = [];
          let seq = 0;
          for (const c of linkChoice) {
            t += interval;
            while (next !== undefined && next < t) {
              const s = m.handle({ kind: 'tick', now: next });
              all.push(...s.actions);
              next = s.nextDeadline;
            }
            const s = m.handle({
              kind: 'packet',
              now: t,
              packet: { from: 'n2', link: c === 0 ? 'eth0' : 'eth1', type: 'status', status: 'active', seq: ++seq, generation: 7, advertisedDeadtimeMs: config.deadtimeMs, fields: { protocol: '1' } },
            });
            all.push(...s.actions);
            next = s.nextDeadline;
          }
          expect(all.filter((a) => a.kind === 'nodeStatus' && a.status === 'dead')).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('reconfigure (SIGHUP) properties', () => {
  /** Reload configs keep the ping node set of the running machine (ping nodes are not reloaded). */
  const reloadArb = (ping: boolean): fc.Arbitrary<MembershipConfig> =>
    configArb.map((c) => {
      const { pingNodes: _drop, ...rest } = c;
      return ping ? { ...rest, pingNodes: ['gw'] } : rest;
    });

  it('hostile events mixed with reloads: never throws, and the node and link table is the new config', () => {
    fc.assert(
      fc.property(
        configArb,
        fc.array(fc.oneof({ weight: 4, arbitrary: wildEventArb.map((e) => ({ event: e })) }, { weight: 1, arbitrary: fc.record({ reload: fc.boolean(), at: fc.integer({ min: 0, max: 100000 }) }) }), { maxLength: 60 }),
        fc.infiniteStream(reloadArb(false)),
        (config, steps, configs) => {
          const ping = (config.pingNodes ?? []).length > 0;
          const m = new MembershipMachine(config);
          let current = config;
          const next = configs[Symbol.iterator]();
          for (const s of steps) {
            if ('event' in s) {
              m.handle(s.event);
              continue;
            }
            const c = next.next().value as MembershipConfig;
            current = { ...c, ...(ping ? { pingNodes: ['gw'] } : {}) };
            const step = m.reconfigure(s.at, current);
            // Never in the past of the machine's own clock (a stale `at` counts as the latest time seen).
            if (step.nextDeadline !== undefined) expect(step.nextDeadline).toBeGreaterThan(0);
            const normal = m.nodeViews().filter((n) => n.kind === 'normal');
            expect(normal.map((n) => n.name)).toEqual([...current.nodes]);
            for (const n of normal) expect(n.links.map((l) => l.name)).toEqual([...current.media]);
            expect(m.nodeViews().filter((n) => n.kind === 'ping').map((n) => n.name)).toEqual(ping ? ['gw'] : []);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a running machine: a reload sends one status with the new dt (plus the start-up bonus while it lasts) and keeps every heard link up', () => {
    fc.assert(
      fc.property(scenarioConfigArb, reloadArb(false), fc.integer({ min: 1, max: 20000 }), (config, after, at) => {
        const { pingNodes: _p, ...c0 } = config;
        const m = new MembershipMachine(c0);
        m.handle({ kind: 'start', now: 0 });
        // n2 heard on every medium just before the reload.
        for (const link of c0.media) {
          m.handle({ kind: 'packet', now: at - 1 < 0 ? 0 : at - 1, packet: { from: 'n2', link, type: 'status', status: 'active', seq: 1, generation: 1, advertisedDeadtimeMs: c0.deadtimeMs } });
        }
        const before = m.nodeView('n2');
        const step = m.reconfigure(at, after);
        const sends = step.actions.filter((a) => a.kind === 'sendStatus');
        expect(sends.length).toBeGreaterThanOrEqual(1);
        const dt = (sends[0] as { deadtimeMs: number }).deadtimeMs;
        expect([after.deadtimeMs, after.deadtimeMs + 2000]).toContain(dt);
        if (after.nodes.includes('n2') && before?.status !== 'dead') {
          for (const l of m.nodeView('n2')!.links) {
            const was = before!.links.find((x) => x.name === l.name);
            if (was === undefined) expect(l.status).toBe('dead');
            else if (was.status === 'up' && m.nodeView('n2')!.status !== 'dead') expect(l.status).toBe('up');
          }
        }
        expect(step.nextDeadline === undefined || step.nextDeadline > at).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
