/** fast-check: whatever a client sends, the framing and the handler answer with typed errors or replies, never another exception. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError, ApiSession, IpcFrameReader, decodeApiBody, encodeApiMessage, type ApiEnv } from '../../lib/heartbeat/api/index.js';
import { HaMessage } from '../../lib/heartbeat/wire/index.js';
import { VIEW } from './api-fixture.js';

const RUNS = 300 * Number(process.env.API_PROPERTY_SCALE ?? 1);
const env: ApiEnv = { view: VIEW, pidExists: () => true, clientSignedOn: () => false };

const REQ_TYPES = ['signon', 'signoff', 'nodelist', 'nodestatus', 'nodetype', 'nodeweight', 'nodesite', 'numnodes', 'iflist', 'ifstatus', 'getparm', 'getrsc', 'clientstatus', 'setfilter', 'setsignal', 'set_sendqlen', 'getuuid', 'getnodename', 'bogus'];
const FIELD_NAMES = ['t', 'reqtype', 'pid', 'from_id', 'uid', 'gid', 'node', 'ifname', 'pname', 'cn', 'fmask', 'signal', 'queryname', 'dest', 'x'];

const value = fc.oneof(fc.constantFrom('hbapi-req', '4242', '0', 'node1', 'node2', 'NODE2', 'eth0', 'ipfail', 'crm', ''), ...REQ_TYPES.map((r) => fc.constant(r)), fc.string({ maxLength: 12 }));
const message = fc.array(fc.tuple(fc.constantFrom(...FIELD_NAMES), value), { maxLength: 10 }).map((pairs) => HaMessage.of(pairs));
const signon = HaMessage.of([['t', 'hbapi-req'], ['reqtype', 'signon'], ['pid', '4242'], ['from_id', '4242'], ['uid', '0'], ['gid', '0']]);

/** Runs input through framing, decoding and a session; fails on any exception but ApiError. */
function feed(chunks: Uint8Array[]): void {
  const reader = new IpcFrameReader();
  const session = new ApiSession();
  try {
    for (const c of chunks) for (const body of reader.push(c)) session.handle(decodeApiBody(body), env);
    reader.end();
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
  }
}

describe('API input fuzzing', () => {
  it('random messages after a sign-on: replies are well-formed API responses', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 8 }), (msgs) => {
        const s = new ApiSession();
        s.handle(signon, env);
        for (const m of msgs) {
          const out = s.handle(m, env);
          for (const r of out.replies) {
            expect(r.get('t')).toBe('hbapi-resp');
            expect(['OK', 'ok/more', 'badreq']).toContain(r.get('result'));
            encodeApiMessage(r);
          }
          if (out.close !== undefined) break;
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('random bytes, and valid frames with flipped bits, cut anywhere: only ApiError', () => {
    const frames = fc.array(message, { minLength: 1, maxLength: 4 }).map((ms) => Buffer.concat([encodeApiMessage(signon), ...ms.map((m) => encodeApiMessage(m))]));
    const mutated = fc.tuple(frames, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { maxLength: 6 })).map(([b, flips]) => {
      const out = new Uint8Array(b);
      for (const [at, bit] of flips) out[at % out.length]! ^= 1 << bit;
      return out;
    });
    const input = fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated);
    fc.assert(
      fc.property(input, fc.array(fc.nat(), { maxLength: 5 }), (bytes, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let prev = 0;
        for (const p of [...points, bytes.length]) {
          chunks.push(bytes.subarray(prev, p));
          prev = p;
        }
        feed(chunks);
      }),
      { numRuns: RUNS },
    );
  });

  it('framing round trip: any chunking yields the same bodies', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 5 }), fc.integer({ min: 1, max: 17 }), (bodies, size) => {
        const wire = Buffer.concat(bodies.map(frame));
        const r = new IpcFrameReader();
        const got: Uint8Array[] = [];
        for (let i = 0; i < wire.length; i += size) got.push(...r.push(wire.subarray(i, i + size)));
        expect(got.map((b) => Buffer.from(b).toString('hex'))).toEqual(bodies.map((b) => Buffer.from(b).toString('hex')));
      }),
      { numRuns: RUNS },
    );
  });
});

/** Written independently of encodeIpcFrame, as a cross-check. */
function frame(body: Uint8Array): Uint8Array {
  const out = Buffer.alloc(8 + body.length);
  out.writeInt32LE(body.length, 0);
  out.writeUInt32LE(0xabcd, 4);
  out.set(body, 8);
  return out;
}
