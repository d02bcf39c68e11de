import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ReplicationEngine } from '../../../lib/replication/protocol/engine.js';
import { MemoryBitmap, MemoryGenerationStore } from '../../../lib/replication/protocol/memory.js';
import { TcpTransport } from '../../../lib/replication/protocol/tcp.js';
import { fill, GatedStore, same, testConfig, waitFor } from './harness.js';

const SIZE = 4 << 20;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

interface N {
  engine: ReplicationEngine;
  store: GatedStore;
  bitmap: MemoryBitmap;
  logs: string[];
}
let nodes: N[] = [];
afterEach(async () => {
  for (const n of nodes) await n.engine.stop();
  nodes = [];
});

async function tcpPair(cfg: Parameters<typeof testConfig>[1] = {}, cfgB = cfg): Promise<[N, N]> {
  const [pa, pb] = [await freePort(), await freePort()];
  const mk = (name: string, local: number, remote: number, c: typeof cfg): N => {
    const store = new GatedStore(SIZE);
    const bitmap = MemoryBitmap.forSize(SIZE);
    const logs: string[] = [];
    const engine = new ReplicationEngine({
      config: testConfig(name, { sizeBytes: SIZE, pingIntMs: 1000, pingTimeoutMs: 500, connectIntMs: 100, ...c }),
      store,
      bitmap,
      generations: new MemoryGenerationStore(),
      transport: new TcpTransport({ local: { host: '127.0.0.1', port: local }, remote: { host: '127.0.0.1', port: remote } }),
      log: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
      initialDisk: 'Inconsistent',
    });
    return { engine, store, bitmap, logs };
  };
  const a = mk('alpha', pa, pb, cfg);
  const b = mk('bravo', pb, pa, cfgB);
  nodes.push(a, b);
  return [a, b];
}

const conn = (n: N): string => n.engine.status().conn;
const disks = (n: N): string => `${n.engine.status().disk}/${n.engine.status().peerDisk}`;

describe('replication over real TCP (loopback)', () => {
  it('both sides dial and listen at once; one connection survives, the sync runs, writes replicate with protocol C', async () => {
    const [a, b] = await tcpPair();
    a.store.data.set(fill(SIZE, 5));
    await Promise.all([a.engine.connect(), b.engine.connect()]);
    await waitFor(() => conn(a) === 'Connected' && conn(b) === 'Connected', 10_000, 'connected');
    expect(a.logs.filter((l) => l.endsWith('conn( WFConnection -> WFReportParams )'))).toHaveLength(1);
    expect(a.engine.setRole('Primary', { force: true }).ok).toBe(true);
    await waitFor(() => disks(b) === 'UpToDate/UpToDate' && disks(a) === 'UpToDate/UpToDate', 20_000, 'initial sync');
    expect(same(a.store.data, b.store.data)).toBe(true);
    expect(b.engine.status().counters.resyncReceived).toBe(SIZE);

    b.store.hold();
    let acked = false;
    const w = a.engine.submitWrite(8192, fill(65536, 9), { fua: true }).then(() => (acked = true));
    await waitFor(() => a.engine.status().counters.diskWritten >= 65536, 5000, 'local write');
    await new Promise((r) => setTimeout(r, 100));
    expect(acked).toBe(false);
    b.store.release();
    await w;
    expect(same(b.store.data.subarray(8192, 8192 + 65536), fill(65536, 9))).toBe(true);
    // A write larger than one message (1 MiB) is split and lands whole.
    const big = fill(3 << 20, 77);
    await a.engine.submitWrite(512, big);
    expect(same(b.store.data.subarray(512, 512 + big.length), big)).toBe(true);
  });

  it('disconnect / connect resyncs only what was written meanwhile', async () => {
    const [a, b] = await tcpPair();
    await Promise.all([a.engine.connect(), b.engine.connect()]);
    await waitFor(() => conn(a) === 'Connected' && conn(b) === 'Connected', 10_000);
    a.engine.setRole('Primary', { force: true });
    await waitFor(() => disks(b) === 'UpToDate/UpToDate' && disks(a) === 'UpToDate/UpToDate' && conn(a) === 'Connected', 20_000, 'initial sync');
    expect(a.bitmap.countDirty()).toBe(0);
    const before = b.engine.status().counters.resyncReceived;
    a.engine.disconnect();
    expect(conn(a)).toBe('StandAlone');
    await a.engine.submitWrite(4096 * 5, fill(4096 * 4, 1));
    await a.engine.submitWrite(SIZE - 4096, fill(4096, 2));
    expect(a.bitmap.countDirty()).toBe(5);
    await a.engine.connect();
    await waitFor(() => conn(a) === 'Connected' && disks(b) === 'UpToDate/UpToDate' && a.bitmap.countDirty() === 0, 20_000, 'resync');
    expect(b.engine.status().counters.resyncReceived - before).toBe(5 * 4096);
    expect(same(a.store.data, b.store.data)).toBe(true);
  });

  it('a peer with the wrong shared secret is refused', async () => {
    const [a, b] = await tcpPair({ cramHmacAlg: 'sha1', sharedSecret: 'one' }, { cramHmacAlg: 'sha1', sharedSecret: 'two' });
    await Promise.all([a.engine.connect(), b.engine.connect()]);
    await waitFor(() => conn(a) === 'StandAlone' && conn(b) === 'StandAlone', 10_000, 'StandAlone');
    expect(a.logs).toContain('block drbd0: Authentication of peer failed');
    expect(b.logs).toContain('block drbd0: Authentication of peer failed');
  });
});
