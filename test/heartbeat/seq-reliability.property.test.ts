/** fast-check properties of the retransmission and ACK bookkeeping. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HISTORY_SIZE, MAX_REXMIT_BATCH, RetransmitRequests, TransmitHistory, ackAfterGapFilled } from '../../lib/heartbeat/seq/index.js';

const NODES = ['n1', 'n2', 'n3'] as const;
const node = fc.constantFrom(...NODES);

type ReqEvent =
  | { kind: 'missing'; node: string; first: number; len: number }
  | { kind: 'arrived'; node: string; seq: number }
  | { kind: 'nak'; node: string; seq: number }
  | { kind: 'forget'; node: string }
  | { kind: 'down'; node: string; down: boolean }
  | { kind: 'wait'; ms: number };

const reqEvent: fc.Arbitrary<ReqEvent> = fc.oneof(
  fc.record({ kind: fc.constant('missing' as const), node, first: fc.integer({ min: 1, max: 40 }), len: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('arrived' as const), node, seq: fc.integer({ min: 1, max: 45 }) }),
  fc.record({ kind: fc.constant('nak' as const), node, seq: fc.integer({ min: 1, max: 45 }) }),
  fc.record({ kind: fc.constant('forget' as const), node }),
  fc.record({ kind: fc.constant('down' as const), node, down: fc.boolean() }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 600 }) }),
);

describe('retransmission requests', () => {
  it('asks only for missing packets of live peers, first within [50, max], then never more often than every max ms', () => {
    fc.assert(
      fc.property(fc.array(reqEvent, { maxLength: 60 }), fc.integer({ min: 100, max: 1000 }), fc.infiniteStream(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })), (events, max, rand) => {
        const it = rand[Symbol.iterator]();
        const r = new RetransmitRequests({ maxRexmitDelayMs: max, random: () => it.next().value as number });
        const missingSince = new Map<string, number>();
        const lastSent = new Map<string, number>();
        const down = new Set<string>();
        let now = 0;
        const key = (n: string, s: number) => `${n}/${s}`;
        const advance = (to: number) => {
          // Tick at every deadline on the way, as the shell's timer would.
          for (let d = r.nextDeadline; d !== undefined && d <= to; d = r.nextDeadline) {
            expect(d).toBeGreaterThanOrEqual(now);
            now = d;
            for (const a of r.tick(now, (n) => !down.has(n))) {
              if (a.kind !== 'send') continue;
              const k = key(a.node, a.seq);
              expect(missingSince.has(k)).toBe(true);
              expect(down.has(a.node)).toBe(false);
              const prev = lastSent.get(k);
              if (prev === undefined) {
                expect(now - missingSince.get(k)!).toBeGreaterThanOrEqual(50);
                expect(now - missingSince.get(k)!).toBeLessThanOrEqual(max);
              } else expect(now - prev).toBeGreaterThanOrEqual(max);
              lastSent.set(k, now);
              expect(a.message.decimal('firstseq')).toBe(a.seq);
            }
            expect(r.nextDeadline === undefined || r.nextDeadline > now).toBe(true);
          }
          now = to;
        };
        const drop = (pred: (k: string) => boolean) => {
          for (const k of [...missingSince.keys()]) if (pred(k)) missingSince.delete(k);
        };
        for (const e of events) {
          switch (e.kind) {
            case 'wait':
              advance(now + e.ms);
              break;
            case 'missing':
              r.missing(e.node, e.first, e.first + e.len - 1, now);
              for (let s = e.first; s < e.first + e.len; s++) if (!missingSince.has(key(e.node, s))) missingSince.set(key(e.node, s), now);
              break;
            case 'arrived':
              r.arrived(e.node, e.seq);
              drop((k) => k === key(e.node, e.seq));
              break;
            case 'nak':
              r.nak(e.node, e.seq, true);
              drop((k) => k === key(e.node, e.seq));
              break;
            case 'forget':
              r.forget(e.node);
              drop((k) => k.startsWith(`${e.node}/`));
              break;
            case 'down':
              if (e.down) down.add(e.node);
              else down.delete(e.node);
              break;
          }
          // A number asked of a down peer is given up: the model forgets it once a tick found it so.
          for (const k of [...missingSince.keys()]) {
            const [n, s] = k.split('/') as [string, string];
            if (!r.pending(n).includes(Number(s))) {
              missingSince.delete(k);
              lastSent.delete(k);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

type HistEvent =
  | { kind: 'send'; count: number }
  | { kind: 'ack'; node: string; seq: number }
  | { kind: 'rexmit'; node: string; first: number; len: number }
  | { kind: 'wait'; ms: number };

const histEvent: fc.Arbitrary<HistEvent> = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), count: fc.integer({ min: 1, max: 120 }) }),
  fc.record({ kind: fc.constant('ack' as const), node, seq: fc.integer({ min: 0, max: 1500 }) }),
  fc.record({ kind: fc.constant('rexmit' as const), node, first: fc.integer({ min: -5, max: 1500 }), len: fc.integer({ min: 0, max: 120 }) }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 400 }) }),
);

describe('transmit history', () => {
  it('resends only held, unacknowledged packets, at most 50 per request, never twice within 240 ms; stays bounded', () => {
    fc.assert(
      fc.property(fc.array(histEvent, { maxLength: 50 }), (events) => {
        const h = new TransmitHistory();
        const lastResent = new Map<number, number>();
        let now = 0;
        let seq = 0;
        for (const e of events) {
          if (e.kind === 'wait') now += e.ms;
          else if (e.kind === 'send') for (let i = 0; i < e.count; i++) h.record(++seq, Uint8Array.of(seq & 0xff), 3);
          else if (e.kind === 'ack') h.onAck(e.node, e.seq, ['me', ...NODES], 'me');
          else {
            const held = new Set(h.held());
            const actions = h.onRexmitRequest(e.node, e.first, e.first + e.len - 1, now);
            const resends = actions.filter((a) => a.kind === 'resend');
            expect(resends.length).toBeLessThanOrEqual(MAX_REXMIT_BATCH);
            for (const a of resends) {
              expect(held.has(a.seq)).toBe(true);
              expect(a.seq).toBeGreaterThan(h.peerAck(e.node));
              expect(a.seq).toBeGreaterThanOrEqual(e.first);
              const prev = lastResent.get(a.seq);
              if (prev !== undefined) expect(now - prev).toBeGreaterThanOrEqual(240);
              lastResent.set(a.seq, now);
            }
            for (const a of actions) if (a.kind === 'send') expect(held.has(a.message.hex('firstseq')!)).toBe(false);
          }
          const held = h.held();
          expect(held.length).toBeLessThanOrEqual(HISTORY_SIZE);
          if (held.length > 0) expect(held[0]!).toBeGreaterThan(h.lowSeq);
          expect(h.ackSeq).toBeLessThanOrEqual(h.hiSeq);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('ACK after a filled gap', () => {
  it('names a complete seq ending in the trigger digit, not below the filled one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 300 }), fc.option(fc.integer({ min: 1, max: 300 })), fc.integer({ min: 0, max: 9 }), (filled, extra, gap, trigger) => {
        const lastSeq = filled + extra;
        const nextMissing = gap === null ? undefined : Math.min(filled + gap, lastSeq + 1);
        const ack = ackAfterGapFilled(filled, nextMissing === lastSeq + 1 ? undefined : nextMissing, lastSeq, trigger);
        if (ack === undefined) return;
        expect(ack % 10).toBe(trigger);
        expect(ack).toBeGreaterThanOrEqual(filled);
        expect(ack).toBeLessThanOrEqual(lastSeq);
        if (nextMissing !== undefined && nextMissing <= lastSeq) expect(ack).toBeLessThan(nextMissing);
      }),
    );
  });
});
