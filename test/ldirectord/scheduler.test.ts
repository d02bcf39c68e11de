import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newSchedulerState, schedule, type Candidate } from '../../lib/ldirectord/balancer/scheduler.js';

const dest = (address: string, weight: number, active = 0): Candidate => ({ address, weight, active, inactive: 0 });

function spread(scheduler: string, dests: Candidate[], n: number, client = (i: number) => `10.0.0.${i % 250}`): Record<string, number> {
  const state = newSchedulerState();
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const d = schedule(scheduler, dests, state, client(i));
    if (d) out[d.address] = (out[d.address] ?? 0) + 1;
  }
  return out;
}

describe('user-space schedulers', () => {
  it('rr takes each live real in turn; weight 0 (quiescent) gets nothing new', () => {
    expect(spread('rr', [dest('a', 1), dest('b', 5), dest('q', 0)], 10)).toEqual({ a: 5, b: 5 });
  });

  it('wrr spreads exactly by weight over a full cycle, in the IPVS order', () => {
    expect(spread('wrr', [dest('a', 1), dest('b', 3)], 40)).toEqual({ a: 10, b: 30 });
    const state = newSchedulerState();
    const order = Array.from({ length: 6 }, () => schedule('wrr', [dest('a', 4), dest('b', 3), dest('c', 2)], state, '')!.address);
    expect(order).toEqual(['a', 'a', 'b', 'a', 'b', 'c']);
  });

  it('wrr property: over sum(weights) picks each real exactly weight times; never a weight-0 real', () => {
    fc.assert(fc.property(fc.array(fc.nat(6), { minLength: 1, maxLength: 6 }), (weights) => {
      const dests = weights.map((w, i) => dest(`r${i}`, w));
      const total = weights.reduce((a, b) => a + b, 0);
      const got = spread('wrr', dests, total);
      for (const d of dests) expect(got[d.address] ?? 0).toBe(d.weight);
    }));
  });

  it('lc and wlc pick the least loaded (per weight for wlc); none when every real is quiescent', () => {
    expect(schedule('lc', [dest('a', 1, 3), dest('b', 1, 1)], newSchedulerState(), '')!.address).toBe('b');
    expect(schedule('wlc', [dest('a', 4, 3), dest('b', 1, 1)], newSchedulerState(), '')!.address).toBe('a');
    expect(schedule('wlc', [dest('a', 0), dest('b', 0)], newSchedulerState(), '')).toBeUndefined();
  });

  it('sh keeps a client on one real and spreads clients by weight', () => {
    const dests = [dest('a', 1), dest('b', 1)];
    const state = newSchedulerState();
    const first = schedule('sh', dests, state, '192.0.2.7')!.address;
    for (let i = 0; i < 5; i++) expect(schedule('sh', dests, state, '192.0.2.7')!.address).toBe(first);
    const s = spread('sh', dests, 1000, (i) => `10.${i >> 8}.${i & 255}.1`);
    expect(s.a! + s.b!).toBe(1000);
    expect(Math.min(s.a!, s.b!)).toBeGreaterThan(300);
  });
});
