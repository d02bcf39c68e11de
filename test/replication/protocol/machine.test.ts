import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplicationMachine } from '../../../lib/replication/protocol/machine.js';
import { freshGeneration, MemoryBitmap } from '../../../lib/replication/protocol/memory.js';
import { TokenBucket } from '../../../lib/replication/protocol/token-bucket.js';
import { arbMessage } from './arbitraries.js';
import { testConfig } from './harness.js';
import { Sim, type SimNode } from './sim.js';

const st = (n: SimNode): string => {
  const s = n.m.status();
  return `${s.conn} ${s.role}/${s.peerRole} ${s.disk}/${s.peerDisk}`;
};

function connectedPair(cfg: Parameters<Sim['add']>[1] = {}) {
  const sim = new Sim();
  const a = sim.add('alpha', cfg);
  const b = sim.add('bravo', cfg);
  sim.apply(a, a.m.connect(0));
  sim.apply(b, b.m.connect(0));
  sim.run(100);
  return { sim, a, b };
}

describe('replication state machine (virtual time)', () => {
  it('connects with the kernel-style log lines', () => {
    const { a, b } = connectedPair();
    expect(st(a)).toBe('Connected Secondary/Secondary Inconsistent/Inconsistent');
    expect(st(b)).toBe('Connected Secondary/Secondary Inconsistent/Inconsistent');
    expect(a.logs.slice(0, 4)).toEqual([
      'block drbd0: conn( StandAlone -> Unconnected )',
      'block drbd0: conn( Unconnected -> WFConnection )',
      'block drbd0: conn( WFConnection -> WFReportParams )',
      'block drbd0: Handshake successful: Agreed network protocol version 1',
    ]);
    expect(a.logs).toContain('block drbd0: uuid_compare()=0 by rule 10');
    expect(a.logs).toContain('block drbd0: peer( Unknown -> Secondary ) conn( WFReportParams -> Connected ) pdsk( DUnknown -> Inconsistent )');
  });

  it('both dial at once: both keep the connection the smaller name dialed', () => {
    const sim = new Sim();
    const a = sim.add('alpha');
    const b = sim.add('bravo');
    sim.apply(a, a.m.connect(0));
    sim.apply(b, b.m.connect(0));
    expect(a.dials).toBe(1);
    expect(b.dials).toBe(1);
    sim.run(100);
    expect(a.m.status().conn).toBe('Connected');
    expect(b.m.status().conn).toBe('Connected');
    // Exactly one handshake completed on each side.
    expect(a.logs.filter((l) => l.includes('conn( WFReportParams -> Connected )'))).toHaveLength(1);
    expect(b.logs.filter((l) => l.includes('conn( WFReportParams -> Connected )'))).toHaveLength(1);
  });

  it('dials every connect-int while the peer is away', () => {
    const sim = new Sim();
    const a = sim.add('alpha', { connectIntMs: 10_000 });
    const b = sim.add('bravo');
    b.listening = false;
    sim.apply(a, a.m.connect(0));
    sim.run(35_000);
    expect(a.dials).toBe(4); // at 0, 10, 20 and 30 s
    expect(a.m.status().conn).toBe('WFConnection');
    b.listening = true;
    sim.apply(b, b.m.connect(sim.now));
    sim.run(45_000);
    expect(a.m.status().conn).toBe('Connected');
  });

  it('ping-int / ping-timeout: a silent peer is dropped and retried', () => {
    const { sim, a } = connectedPair({ pingIntMs: 10_000, pingTimeoutMs: 500 });
    const t0 = sim.now;
    sim.blackhole = true;
    sim.run(t0 + 10_400);
    expect(a.m.status().conn).toBe('Connected');
    sim.run(t0 + 10_600);
    expect(a.logs).toContain('block drbd0: PingAck did not arrive in time.');
    expect(a.logs).toContain('block drbd0: peer( Secondary -> Unknown ) conn( Connected -> NetworkFailure ) pdsk( Inconsistent -> DUnknown )');
    expect(a.m.status().conn).toBe('WFConnection');
  });

  it('an answering peer keeps the connection: pings are answered', () => {
    const { sim, a, b } = connectedPair({ pingIntMs: 1000, pingTimeoutMs: 500 });
    sim.run(sim.now + 60_000);
    expect(a.m.status().conn).toBe('Connected');
    expect(sim.sent.filter((s) => s.type === 'pingAck').length).toBeGreaterThan(50);
    expect(b.logs.some((l) => l.includes('PingAck'))).toBe(false);
  });

  it('ko-count: a peer that stops writing is expelled after ko-count x timeout', () => {
    const { sim, a, b } = connectedPair({ timeoutMs: 6000, koCount: 3, pingIntMs: 100_000 });
    const r = a.m.setRole(sim.now, 'Primary', { force: true });
    expect(r.result.ok).toBe(true);
    sim.apply(a, r.actions);
    sim.run(sim.now + 5000, () => a.m.status().conn === 'Connected' && a.m.status().peerDisk === 'UpToDate');
    expect(st(a)).toBe('Connected Primary/Secondary UpToDate/UpToDate');
    b.stuckDisk = true;
    const t0 = sim.now;
    sim.write(a, 1, 0, new Uint8Array(4096));
    sim.run(t0 + 17_000);
    expect(a.m.status().conn).toBe('Connected');
    expect(a.logs).toContain('block drbd0: [drbd_s] sock_sendmsg time expired, ko = 2');
    sim.run(t0 + 18_100);
    expect(a.logs).toContain('block drbd0: [drbd_s] sock_sendmsg time expired, ko = 0');
    expect(a.m.status().conn).not.toBe('Connected');
    // The write completed locally once the peer was gone, and is marked out of sync.
    expect(a.completed.get(1)).toBeUndefined();
    expect(a.completed.has(1)).toBe(true);
    expect(a.bitmap.isDirty(0)).toBe(true);
  });

  it('resync runs at resync-rate (token bucket on the virtual clock)', () => {
    const rate = 4 << 20; // 4 MiB/s
    const { sim, a, b } = connectedPair({ resyncRateBytesPerSec: rate, sizeBytes: 8 << 20 });
    const t0 = sim.now;
    sim.apply(a, a.m.setRole(t0, 'Primary', { force: true }).actions);
    sim.run(t0 + 60_000, () => b.m.status().disk === 'UpToDate');
    const took = sim.now - t0;
    // 8 MiB at 4 MiB/s = 2 s, less the initial burst of 0.1 s.
    expect(took).toBeGreaterThan(1800);
    expect(took).toBeLessThan(2200);
    expect(b.logs).toContain('block drbd0: Resync done (total 2 sec; paused 0 sec; 4096 K/sec)');
  });

  it('pause-sync pauses and resumes; paused time is reported', () => {
    const { sim, a, b } = connectedPair({ resyncRateBytesPerSec: 1 << 20, sizeBytes: 1 << 20 });
    const t0 = sim.now;
    sim.apply(a, a.m.setRole(t0, 'Primary', { force: true }).actions);
    sim.run(t0 + 300);
    expect(b.m.status().conn).toBe('SyncTarget');
    sim.apply(b, b.m.setUserPause(sim.now, true));
    sim.run(sim.now + 10);
    expect(b.m.status().conn).toBe('PausedSyncT');
    expect(a.m.status().conn).toBe('PausedSyncS');
    const left = b.bitmap.countDirty();
    sim.run(sim.now + 3000);
    expect(b.bitmap.countDirty()).toBe(left);
    sim.apply(b, b.m.setUserPause(sim.now, false));
    sim.run(sim.now + 5000, () => b.m.status().disk === 'UpToDate');
    expect(b.logs.some((l) => /Resync done \(total 4 sec; paused 3 sec; \d+ K\/sec\)/.test(l))).toBe(true);
  });

  it('writes during a resync are replicated and end up on both sides', () => {
    const { sim, a, b } = connectedPair({ resyncRateBytesPerSec: 1 << 20, sizeBytes: 1 << 20 });
    a.store.fill(7);
    sim.apply(a, a.m.setRole(sim.now, 'Primary', { force: true }).actions);
    sim.run(sim.now + 200);
    expect(b.m.status().conn).toBe('SyncTarget');
    const data = new Uint8Array(8192).fill(0xab);
    sim.write(a, 5, (1 << 20) - 8192, data);
    sim.run(sim.now + 5000, () => b.m.status().disk === 'UpToDate');
    expect(a.completed.get(5)).toBeUndefined();
    expect(a.completed.has(5)).toBe(true);
    expect(Buffer.compare(Buffer.from(a.store), Buffer.from(b.store))).toBe(0);
    expect(b.store.subarray((1 << 20) - 8192)).toEqual(data);
  });

  it('an incompatible protocol is refused', () => {
    const sim = new Sim();
    const a = sim.add('alpha', { protocol: 'C' });
    const b = sim.add('bravo', { protocol: 'A' });
    sim.apply(a, a.m.connect(0));
    sim.apply(b, b.m.connect(0));
    sim.run(100);
    expect(a.logs).toContain('block drbd0: incompatible communication protocols settings');
    expect(a.m.status().conn).toBe('StandAlone');
  });

  it('a handshake that stalls is dropped after timeout', () => {
    const sim = new Sim();
    const a = sim.add('alpha', { timeoutMs: 6000 });
    const b = sim.add('bravo', { timeoutMs: 6000, cramHmacAlg: 'sha1', sharedSecret: 'x' });
    sim.apply(a, a.m.connect(0));
    sim.apply(b, b.m.connect(0));
    sim.run(50);
    // Mismatched cram-hmac-alg: both refuse.
    expect(a.logs).toContain('block drbd0: Authentication of peer failed');
    expect(a.m.status().conn).toBe('StandAlone');
    expect(b.m.status().conn).toBe('StandAlone');
  });

  it('outdate is refused while connected', () => {
    const { sim, a } = connectedPair();
    expect(a.m.outdate(sim.now).result).toEqual({ ok: false, rv: -6, message: 'Refusing to be Outdated while Connected' });
  });

  it('never throws on any message in any phase', () => {
    fc.assert(
      fc.property(fc.array(arbMessage, { maxLength: 30 }), fc.boolean(), (msgs, connected) => {
        const m = new ReplicationMachine(testConfig('alpha', { cramHmacAlg: connected ? undefined : 'sha1', sharedSecret: 'k' }), MemoryBitmap.forSize(1 << 20), freshGeneration(), 'UpToDate');
        m.connect(0);
        m.step({ type: 'channelOpen', ch: 1, outbound: true }, 1);
        m.step({ type: 'message', ch: 1, msg: { type: 'hello', versionMin: 1, versionMax: 1, node: 'bravo', authAlg: connected ? '' : 'sha1' } }, 2);
        let t = 3;
        for (const msg of msgs) m.step({ type: 'message', ch: 1, msg }, t++);
        m.step({ type: 'tick' }, t + 100_000);
        m.nextDeadline();
      }),
      { numRuns: 300 },
    );
  });
});

describe('replication state machine robustness', () => {
  it('never throws on any sequence of events, admin calls and messages', () => {
    const ev = fc.oneof(
      fc.record({ k: fc.constant('msg' as const), ch: fc.integer({ min: 1, max: 3 }), msg: arbMessage }),
      fc.record({ k: fc.constant('open' as const), ch: fc.integer({ min: 1, max: 3 }), outbound: fc.boolean() }),
      fc.record({ k: fc.constant('close' as const), ch: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ k: fc.constant('done' as const), op: fc.integer({ min: 1, max: 40 }), ok: fc.boolean(), len: fc.constantFrom(0, 512, 4096) }),
      fc.record({ k: fc.constant('write' as const), off: fc.integer({ min: -1, max: 300 }).map((n) => n * 512), len: fc.integer({ min: 0, max: 20 }).map((n) => n * 512), fua: fc.boolean() }),
      fc.record({ k: fc.constant('admin' as const), what: fc.constantFrom('connect', 'disconnect', 'primary', 'primaryForce', 'secondary', 'outdate', 'invalidate', 'invalidateRemote', 'verify', 'pause', 'resume', 'flush') }),
      fc.record({ k: fc.constant('tick' as const), dt: fc.nat(20_000) }),
    );
    fc.assert(
      fc.property(fc.array(ev, { maxLength: 60 }), fc.boolean(), (events, auth) => {
        const cfg = testConfig('bravo', { sizeBytes: 128 * 1024, verifyAlg: 'crc32c', ...(auth ? { cramHmacAlg: 'sha1' as const, sharedSecret: 'k' } : {}) });
        const m = new ReplicationMachine(cfg, MemoryBitmap.forSize(cfg.sizeBytes), freshGeneration(), 'Inconsistent');
        let t = 0;
        let req = 1;
        for (const e of events) {
          t += 1;
          switch (e.k) {
            case 'msg':
              m.step({ type: 'message', ch: e.ch, msg: e.msg }, t);
              break;
            case 'open':
              m.step({ type: 'channelOpen', ch: e.ch, outbound: e.outbound }, t);
              break;
            case 'close':
              m.step({ type: 'channelClosed', ch: e.ch, reason: 'x' }, t);
              break;
            case 'done':
              m.step(e.len === 0 ? { type: 'localDone', op: e.op, ok: e.ok } : { type: 'localDone', op: e.op, ok: e.ok, data: new Uint8Array(e.len) }, t);
              break;
            case 'write':
              m.step({ type: 'write', req: req++, offset: e.off, data: new Uint8Array(e.len), fua: e.fua }, t);
              break;
            case 'tick':
              t += e.dt;
              m.step({ type: 'tick' }, t);
              break;
            case 'admin':
              switch (e.what) {
                case 'connect': m.connect(t); break;
                case 'disconnect': m.disconnect(t); break;
                case 'primary': m.setRole(t, 'Primary'); break;
                case 'primaryForce': m.setRole(t, 'Primary', { force: true }); break;
                case 'secondary': m.setRole(t, 'Secondary'); break;
                case 'outdate': m.outdate(t); break;
                case 'invalidate': m.invalidate(t, false); break;
                case 'invalidateRemote': m.invalidate(t, true); break;
                case 'verify': m.verify(t); break;
                case 'pause': m.setUserPause(t, true); break;
                case 'resume': m.setUserPause(t, false); break;
                case 'flush': m.step({ type: 'flush', req: req++ }, t); break;
              }
              break;
          }
          const d = m.nextDeadline();
          if (d !== undefined) expect(Number.isFinite(d)).toBe(true);
          m.status();
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('token bucket', () => {
  it('gives out rate bytes per second, bursting at most burst', () => {
    const b = new TokenBucket(1000, 100, 0);
    expect(b.take(100, 0)).toBe(true);
    expect(b.take(1, 0)).toBe(false);
    expect(b.readyAt(50, 0)).toBe(50);
    expect(b.take(50, 50)).toBe(true);
    expect(b.available(10_000)).toBe(100);
  });
  it('over any schedule, bytes taken never exceed burst + rate x time', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(100), fc.integer({ min: 1, max: 500 })), { maxLength: 100 }), (steps) => {
        const b = new TokenBucket(2000, 300, 0);
        let t = 0;
        let taken = 0;
        for (const [dt, n] of steps) {
          t += dt;
          if (b.take(n, t)) taken += n;
          expect(taken).toBeLessThanOrEqual(300 + (2000 * t) / 1000 + 1e-6);
        }
      }),
    );
  });
});

describe('reconfigure (drbdadm adjust)', () => {
  it('takes new options only while StandAlone and keeps size and node name', () => {
    const cfg = testConfig('alpha', {});
    const m = new ReplicationMachine(cfg, MemoryBitmap.forSize(cfg.sizeBytes), freshGeneration(), 'UpToDate');
    expect(m.reconfigure({ ...cfg, protocol: 'A', node: 'other', sizeBytes: 512 })).toBe(true);
    expect(m.status().protocol).toBe('A');
    expect(m.status().agreedSizeBytes).toBe(cfg.sizeBytes);
    m.connect(0);
    expect(m.reconfigure({ ...cfg, protocol: 'B' })).toBe(false);
    expect(m.status().protocol).toBe('A');
    expect(() => m.disconnect(1)).not.toThrow();
    expect(m.status().conn).toBe('StandAlone');
    expect(() => m.reconfigure({ ...cfg, pingIntMs: 0 })).toThrow();
    expect(m.reconfigure({ ...cfg, protocol: 'B' })).toBe(true);
    expect(m.status().protocol).toBe('B');
  });
});
