/**
 * The daemon shell's pieces without namespaces: the generation file, the
 * ha.cf adapter, packet intake (drops never throw), option counting, and two
 * runtimes on the in-memory medium with real timers.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAuthkeys } from '../../lib/config/authkeys/parse.js';
import { parseHaCf } from '../../lib/config/hacf/parse.js';
import {
  BadPackets,
  clientStatusReply,
  membershipMessage,
  HeartbeatRuntime,
  countDebugFlags,
  daemonSettings,
  formatGeneration,
  loadOrCreateUuid,
  membershipClusterView,
  raiseGeneration,
  resolvePaths,
  takeIn,
  type DaemonSettings,
  type RuntimeLog,
} from '../../lib/heartbeat/daemon/index.js';
import { MemorySegment } from '../../lib/heartbeat/media/index.js';
import { HaMessage, addControlFields, encodeNetstringBody, encodeSignedNetstring, type AuthKey } from '../../lib/heartbeat/wire/index.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(path.join(tmpdir(), 'hbd-unit-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('generation and uuid files', () => {
  it('writes "%15lu\\n" and raises it at every start', () => {
    const d = tmp();
    expect(formatGeneration(7)).toBe('              7\n');
    expect(raiseGeneration(d, 'file', 1000)).toBe(1001); // no file: the wall clock, plus one
    expect(readFileSync(path.join(d, 'hb_generation'), 'latin1')).toBe('           1001\n');
    expect(raiseGeneration(d, 'file', 5)).toBe(1002); // the file wins over the clock
    writeFileSync(path.join(d, 'hb_generation'), 'garbage');
    expect(raiseGeneration(d, 'file', 2000)).toBe(2001);
    expect(raiseGeneration(d, 'time', 3000)).toBe(3000);
  });
  it('keeps one 16-byte uuid', () => {
    const d = tmp();
    const a = loadOrCreateUuid(d);
    expect(a.length).toBe(16);
    expect(loadOrCreateUuid(d)).toEqual(a);
  });
});

describe('paths and options', () => {
  it('options win over the environment, which wins over the defaults', () => {
    expect(resolvePaths({}, {})).toEqual({ haDir: '/etc/ha.d', runDir: '/var/run', stateDir: '/var/lib/heartbeat', pidFile: '/var/run/heartbeat.pid' });
    const env = { HA_DIR: '/x/ha.d', HEARTBEAT_RUN_DIR: '/x/run', HEARTBEAT_STATE_DIR: '/x/lib' };
    expect(resolvePaths({}, env).pidFile).toBe('/x/run/heartbeat.pid');
    expect(resolvePaths({ stateDir: '/y' }, env).stateDir).toBe('/y');
  });
  it('counts -d however it is written', () => {
    expect(countDebugFlags(['-d', '-dd', '-fdv'])).toBe(4);
    expect(countDebugFlags(['-Cdd'])).toBe(0);
    expect(countDebugFlags(['--', '-d'])).toBe(0);
  });
});

const HACF = 'keepalive 50ms\nwarntime 150ms\ndeadtime 300ms\ninitdead 600ms\nudpport 694\nucast eth0 10.0.0.2\nserial /dev/ttyS0\nnode alpha\nnode beta\nlogfacility none\n';
const AUTHKEYS = 'auth 1\n1 sha1 somesecret\n';

function settingsFor(local: string): DaemonSettings {
  const hacf = parseHaCf(HACF, 'ha.cf', { localNode: local }).config;
  const auth = parseAuthkeys(AUTHKEYS, 'authkeys').config;
  return daemonSettings(hacf, auth, local);
}

describe('ha.cf -> settings', () => {
  it('maps media, links, timings and keys', () => {
    const s = settingsFor('alpha');
    expect(s.media).toEqual([
      { kind: 'ucast', interface: 'eth0', peer: '10.0.0.2' },
      { kind: 'serial', device: '/dev/ttyS0' },
    ]);
    expect(s.membership).toMatchObject({ localNode: 'alpha', nodes: ['alpha', 'beta'], media: ['eth0', '/dev/ttyS0'], keepaliveMs: 50, deadtimeMs: 300 });
    expect(s.activeKey).toEqual({ index: 1, method: 'sha1', key: 'somesecret' });
    expect(s.ttl).toBe(s.membership.nodes.length + 1); // hopfudge 1
  });
});

const key: AuthKey = { index: 1, method: 'sha1', key: 'somesecret' };
const uuid = new Uint8Array(16).fill(1);
function statusFrom(src: string, k: AuthKey = key): Uint8Array {
  const m = new HaMessage().add('t', 'status').add('st', 'up').setHex('dt', 300);
  addControlFields(m, { src, srcUuid: uuid, seq: 1, generation: 5, timestamp: 100, load: 'n/a', ttl: 3 });
  return encodeSignedNetstring(m, { key: k });
}

describe('packet intake', () => {
  const ctx = { keys: [key], localNode: 'alpha', localUuid: uuid };
  it('turns an authentic status into a membership packet', () => {
    const r = takeIn(statusFrom('beta'), 'eth0', ctx);
    expect(r.ok && r.packet).toMatchObject({ from: 'beta', link: 'eth0', type: 'status', seq: 1, generation: 5, status: 'up', advertisedDeadtimeMs: 300, toUs: true });
  });
  it('drops a wrong key, garbage and cut packets with a code, never throwing', () => {
    const bytes = statusFrom('beta', { index: 1, method: 'sha1', key: 'other' });
    expect(takeIn(bytes, 'eth0', ctx)).toMatchObject({ ok: false, code: 'WIRE_AUTH_MISMATCH' });
    expect(takeIn(new Uint8Array([1, 2, 3]), 'eth0', ctx)).toMatchObject({ ok: false });
    const good = statusFrom('beta');
    for (let cut = 0; cut < good.length; cut += 7) expect(takeIn(good.subarray(0, cut), 'eth0', ctx).ok).toBe(false);
  });
  it('counts drops and rate-limits the lines', () => {
    const lines: string[] = [];
    let now = 0;
    const bad = new BadPackets({ warn: (t) => lines.push(t) }, () => now, 1000, 2);
    for (let i = 0; i < 10; i++) bad.drop('WIRE_AUTH_MISMATCH', 'signature does not match', '10.0.0.2', 'eth0');
    expect(bad.total).toBe(10);
    expect(lines).toHaveLength(2);
    now = 1000;
    bad.drop('WIRE_AUTH_MISMATCH', 'signature does not match', '10.0.0.2', 'eth0');
    expect(lines[2]).toBe('bad packet from 10.0.0.2 on eth0 (WIRE_AUTH_MISMATCH): 8 similar messages suppressed');
  });
});

describe('outgoing messages', () => {
  const body = (m: HaMessage | undefined): string => Buffer.from(encodeNetstringBody(m!)).toString('latin1');
  it('repnodes as heartbeat-wire.md §5.1 shows it', () => {
    const m = membershipMessage({ kind: 'sendRepnodes', dest: 'beta', nodelist: ['alpha', 'beta'], delnodelist: [] });
    expect(body(m)).toBe('###\n12:(0)dest=beta,13:(0)t=repnodes,23:(0)nodelist=alpha beta ,16:(0)delnodelist= ,%%%\n');
  });
  it('status fields in the original order', () => {
    const m = membershipMessage({ kind: 'sendStatus', status: 'active', deadtimeMs: 30000, protocol: true });
    expect(body(m)).toBe('###\n11:(0)t=status,12:(0)st=active,10:(0)dt=7530,13:(0)protocol=1,%%%\n');
  });
  it('respond-cstatus in the field order a 3.0.6 node sends', () => {
    const q = new HaMessage().add('t', 'query-cstatus').add('dest', 'node2').add('cn', 'ipfail').add('from_id', '25');
    expect(clientStatusReply('node1', q, ['ipfail']).fields.map((f) => f.name)).toEqual(['t', 'dest', 'result', 'cn', 'to_id', 'cs']);
    expect(clientStatusReply('node1', q, ['ipfail']).get('cs')).toBe('online');
    expect(clientStatusReply('node1', q, []).get('cs')).toBe('offline');
  });
});

describe('two runtimes on the in-memory medium (real timers)', () => {
  const logOf = (lines: string[]): RuntimeLog => ({
    crit: (t) => lines.push(`CRIT: ${t}`),
    error: (t) => lines.push(`ERROR: ${t}`),
    warn: (t) => lines.push(`WARN: ${t}`),
    info: (t) => lines.push(`info: ${t}`),
    debug: () => {},
  });
  const waitFor = async (cond: () => boolean, ms: number): Promise<void> => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  it('come up active, see each other, and a halted peer is dead at its dead time', async () => {
    const lan = new MemorySegment();
    const single = (s: DaemonSettings): DaemonSettings => ({ ...s, media: [], membership: { ...s.membership, media: ['eth0'] } });
    const aLog: string[] = [];
    const bLog: string[] = [];
    const a = new HeartbeatRuntime({ settings: single(settingsFor('alpha')), media: [lan.attach({ name: 'eth0', address: '10.0.0.1', hearSelf: false })], generation: 10, uuid, log: logOf(aLog) });
    const b = new HeartbeatRuntime({ settings: single(settingsFor('beta')), media: [lan.attach({ name: 'eth0', address: '10.0.0.2', hearSelf: false })], generation: 20, uuid, log: logOf(bLog) });
    try {
      a.start();
      b.start();
      const view = membershipClusterView('alpha', parseHaCf(HACF, 'ha.cf', { localNode: 'alpha' }).config, a.machine, HACF);
      // getparm as the original answers it: values as written, unset ones as its defaults.
      expect(view.parameter('keepalive')).toBe('50ms');
      expect(view.parameter('udpport')).toBe('694');
      expect(view.parameter('pacemaker')).toBe('false');
      expect(view.parameter('auto_failback')).toBe('legacy');
      expect(view.parameter('deadping')).toBe('300ms');
      await waitFor(() => view.nodes().find((n) => n.name === 'beta')?.status === 'active' && a.machine.status === 'active', 3000);
      expect(aLog).toContain('info: Comm_now_up(): updating status to active');
      // Replays change nothing: beta's first status again (an old duplicate),
      // and a correctly signed status with an older generation (a replay attack).
      const aMedium = a.media[0] as ReturnType<MemorySegment['attach']>;
      const bMedium = b.media[0] as ReturnType<MemorySegment['attach']>;
      const before = { ...a.machine.counters() };
      aMedium.inject(bMedium.sent[0]!, { address: '10.0.0.2' });
      const old = new HaMessage().add('t', 'status').add('st', 'dead').setHex('dt', 300);
      addControlFields(old, { src: 'beta', srcUuid: uuid, seq: 99_999, generation: 19, timestamp: 100, load: 'n/a', ttl: 3 });
      const replay = encodeSignedNetstring(old, { key });
      for (let i = 0; i < 10; i++) aMedium.inject(replay, { address: '10.0.0.2' });
      await waitFor(() => a.machine.counters().replayedGeneration >= before.replayedGeneration + 10, 1000);
      // Anyone can replay captured packets: the original's ERROR line, but rate-limited.
      expect(aLog.filter((l) => l.includes('attempted replay attack [beta]? [gen = 19, curgen = 20]'))).toHaveLength(3);
      expect(a.machine.counters().oldDuplicate + a.machine.counters().duplicate).toBeGreaterThan(before.oldDuplicate + before.duplicate);
      expect(view.nodes().find((n) => n.name === 'beta')?.status).toBe('active');
      // beta advertises deadtime + 2 s at first; its silence is judged by what it advertised last.
      b.halt();
      const haltedAt = Date.now();
      await waitFor(() => aLog.includes('WARN: node beta: is dead'), 5000);
      expect(Date.now() - haltedAt).toBeLessThanOrEqual(2300 + 300);
      expect(view.nodes().find((n) => n.name === 'beta')?.status).toBe('dead');
      expect(a.badPackets.total).toBe(0);
    } finally {
      a.halt();
      b.halt();
    }
  }, 10_000);
});
