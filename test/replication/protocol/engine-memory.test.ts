import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../../lib/replication/protocol/memory.js';
import { cs, ds, fill, makeNode, same, SIZE, waitFor, type TestNode } from './harness.js';

let nodes: TestNode[] = [];
afterEach(async () => {
  for (const n of nodes) await n.engine.stop();
  nodes = [];
});

async function pair(opts: Parameters<typeof makeNode>[2] = {}, opts2: Parameters<typeof makeNode>[2] = opts) {
  const net = new MemoryNetwork();
  const a = makeNode('alpha', net.transport('alpha', 'bravo'), opts);
  const b = makeNode('bravo', net.transport('bravo', 'alpha'), opts2);
  nodes.push(a, b);
  return { net, a, b };
}

/** Two fresh nodes, alpha forced Primary, initial sync finished. */
async function synced(opts: Parameters<typeof makeNode>[2] = {}) {
  const p = await pair(opts);
  p.a.store.data.set(fill(SIZE, 7));
  await p.a.engine.connect();
  await p.b.engine.connect();
  await waitFor(() => cs(p.a) === 'Connected' && cs(p.b) === 'Connected', 5000, 'connected');
  expect(p.a.engine.setRole('Primary', { force: true }).ok).toBe(true);
  await waitFor(() => cs(p.a) === 'Connected' && ds(p.a) === 'UpToDate/UpToDate' && ds(p.b) === 'UpToDate/UpToDate', 10_000, 'initial sync');
  return p;
}

describe('replication engine over the in-memory network', () => {
  it('initial full sync from the forced side', async () => {
    const { a, b } = await synced();
    expect(same(a.store.data, b.store.data)).toBe(true);
    expect(b.engine.status().counters.resyncReceived).toBe(SIZE);
    expect(a.logs.some((l) => /^block drbd0: Handshake successful: Agreed network protocol version 1$/.test(l))).toBe(true);
    expect(a.logs).toContain('block drbd0: conn( WFConnection -> WFReportParams )');
    expect(b.logs.some((l) => /^block drbd0: Resync done \(total \d+ sec; paused 0 sec; \d+ K\/sec\)$/.test(l))).toBe(true);
    expect(a.logs).toContain('block drbd0: Forced to consider local data as UpToDate!');
    // Both sides end with the same generation UUIDs.
    expect(b.gens.load().uuids).toEqual({ ...a.gens.load().uuids });
    expect(b.handlers).toEqual(['before-resync-target', 'after-resync-target']);
  });

  it('promotion refused while Inconsistent unless forced', async () => {
    const { a, b } = await pair();
    await a.engine.connect();
    await b.engine.connect();
    await waitFor(() => cs(a) === 'Connected', 5000);
    expect(a.engine.setRole('Primary')).toEqual({ ok: false, rv: -2, message: 'Need access to UpToDate data' });
    expect(a.engine.status().role).toBe('Secondary');
  });

  it('writes replicate; protocol C acknowledges only after the peer wrote', async () => {
    const { a, b } = await synced();
    const data = fill(8192, 3);
    b.store.hold();
    let done = false;
    const w = a.engine.submitWrite(4096 * 10, data).then(() => (done = true));
    await waitFor(() => a.store.writes > 0 && a.engine.status().counters.diskWritten >= 8192, 2000, 'local write');
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    b.store.release();
    await w;
    expect(same(b.store.data.subarray(40960, 40960 + 8192), data)).toBe(true);
  });

  it('refuses malformed writes and writes on a Secondary with typed errors', async () => {
    const { a, b } = await synced();
    await expect(a.engine.submitWrite(-512, fill(512, 1))).rejects.toMatchObject({ code: 'REPL_OUT_OF_RANGE' });
    await expect(a.engine.submitWrite(100, fill(512, 1))).rejects.toMatchObject({ code: 'REPL_OUT_OF_RANGE' });
    await expect(a.engine.submitWrite(SIZE, fill(512, 1))).rejects.toMatchObject({ code: 'REPL_OUT_OF_RANGE' });
    await expect(b.engine.submitWrite(0, fill(512, 1))).rejects.toMatchObject({ code: 'REPL_STATE_REFUSED' });
  });

  it('a second Primary is refused without allow-two-primaries', async () => {
    const { b } = await synced();
    expect(b.engine.setRole('Primary')).toEqual({ ok: false, rv: -1, message: 'Multiple primaries not allowed by config' });
  });

  it('a disconnect marks the bitmap; reconnect resyncs only the dirty blocks', async () => {
    const { net, a, b } = await synced();
    const before = b.engine.status().counters.resyncReceived;
    net.partition('alpha', 'bravo');
    await waitFor(() => cs(a) === 'WFConnection' && cs(b) === 'WFConnection', 5000, 'both WFConnection');
    await a.engine.submitWrite(0, fill(4096, 1));
    await a.engine.submitWrite(4096 * 100, fill(4096 * 2, 2));
    await a.engine.submitWrite(4096 * 100 + 512, fill(512, 9)); // same block again
    expect(a.bitmap.countDirty()).toBe(3);
    net.heal('alpha', 'bravo');
    await waitFor(() => cs(a) === 'Connected' && ds(b) === 'UpToDate/UpToDate' && a.bitmap.countDirty() === 0, 10_000, 'resync');
    expect(b.engine.status().counters.resyncReceived - before).toBe(3 * 4096);
    expect(same(a.store.data, b.store.data)).toBe(true);
    expect(a.logs.some((l) => l.includes('uuid_compare()=1 by rule 70'))).toBe(true);
    expect(b.logs.some((l) => l.includes('uuid_compare()=-1 by rule 50'))).toBe(true);
  });

  it('protocol A acknowledges before the peer wrote; B after receipt', async () => {
    for (const protocol of ['A', 'B'] as const) {
      const { a, b } = await synced({ config: { protocol } });
      b.store.hold();
      await a.engine.submitWrite(0, fill(4096, 5));
      expect(b.store.data.subarray(0, 4096)).not.toEqual(fill(4096, 5));
      b.store.release();
      await waitFor(() => same(b.store.data.subarray(0, 4096), fill(4096, 5)), 2000, 'peer write');
      for (const n of nodes) await n.engine.stop();
      nodes = [];
    }
  });

  it('split brain is detected and both go StandAlone', async () => {
    const { net, a, b } = await synced();
    net.partition('alpha', 'bravo');
    await waitFor(() => cs(b) === 'WFConnection', 5000);
    expect(b.engine.setRole('Primary').ok).toBe(true);
    await a.engine.submitWrite(0, fill(4096, 11));
    await b.engine.submitWrite(8192, fill(4096, 12));
    net.heal('alpha', 'bravo');
    await waitFor(() => cs(a) === 'StandAlone' && cs(b) === 'StandAlone', 5000, 'StandAlone');
    for (const n of [a, b]) {
      expect(n.logs).toContain('block drbd0: Split-Brain detected but unresolved, dropping connection!');
      expect(n.handlers).toEqual(expect.arrayContaining(['initial-split-brain', 'split-brain']));
    }
  });

  it('after-sb-0pri discard-least-changes resolves a split brain between two Secondaries', async () => {
    const { net, a, b } = await synced({ config: { afterSb0: 'discard-least-changes' } });
    net.partition('alpha', 'bravo');
    await waitFor(() => cs(b) === 'WFConnection', 5000);
    expect(b.engine.setRole('Primary').ok).toBe(true);
    await a.engine.submitWrite(0, fill(4096 * 3, 21));
    await b.engine.submitWrite(4096 * 50, fill(4096, 22));
    expect(a.engine.setRole('Secondary').ok).toBe(true);
    expect(b.engine.setRole('Secondary').ok).toBe(true);
    net.heal('alpha', 'bravo');
    await waitFor(() => cs(a) === 'Connected' && ds(a) === 'UpToDate/UpToDate' && ds(b) === 'UpToDate/UpToDate', 10_000, 'auto-resolved');
    expect(b.logs).toContain('block drbd0: Split-Brain detected, 0 primaries, automatically solved. Sync from peer node');
    // bravo changed fewer blocks: it is the target, and alpha's blocks win everywhere both changed.
    expect(same(a.store.data, b.store.data)).toBe(true);
    expect(same(b.store.data.subarray(0, 4096 * 3), fill(4096 * 3, 21))).toBe(true);
  });

  it('a peer with the wrong shared secret is refused and logged', async () => {
    const { a, b } = await pair(
      { config: { cramHmacAlg: 'sha1', sharedSecret: 'right' } },
      { config: { cramHmacAlg: 'sha1', sharedSecret: 'wrong' } },
    );
    await a.engine.connect();
    await b.engine.connect();
    await waitFor(() => cs(a) === 'StandAlone' || cs(b) === 'StandAlone', 5000, 'StandAlone');
    const n = cs(a) === 'StandAlone' ? a : b;
    expect(n.logs).toContain('block drbd0: Authentication of peer failed');
    expect(n.logs).toContain('block drbd0: Discarding network configuration.');
    expect(a.engine.status().peerDisk).toBe('DUnknown');
  });

  it('the right shared secret authenticates both ways', async () => {
    const { a, b } = await pair({ config: { cramHmacAlg: 'sha256', sharedSecret: 's3cret' } });
    await a.engine.connect();
    await b.engine.connect();
    await waitFor(() => cs(a) === 'Connected' && cs(b) === 'Connected', 5000);
    expect(a.logs).toContain('block drbd0: Peer authenticated using 32 bytes HMAC');
    expect(b.logs).toContain('block drbd0: Peer authenticated using 32 bytes HMAC');
  });

  it('flush completes after the peer flushed; data-integrity-alg carries a digest', async () => {
    const { a, b } = await synced({ config: { dataIntegrityAlg: 'crc32c' } });
    await a.engine.submitWrite(512, fill(1024, 4));
    const before = b.store.flushes;
    await a.engine.flush();
    expect(b.store.flushes).toBeGreaterThan(before);
    expect(same(b.store.data.subarray(512, 1536), fill(1024, 4))).toBe(true);
  });

  it('under protocol A too, a flush completes only after the peer flushed the writes before it', async () => {
    const { a, b } = await synced({ config: { protocol: 'A' } });
    await a.engine.submitWrite(8192, fill(4096, 9));
    const before = b.store.flushes;
    await a.engine.flush();
    expect(b.store.flushes).toBeGreaterThan(before);
    expect(same(b.store.data.subarray(8192, 12288), fill(4096, 9))).toBe(true);
  });

  it('online verify finds blocks that differ', async () => {
    const { a, b } = await synced({ config: { verifyAlg: 'sha1' } });
    const flip = (i: number): void => void (b.store.data[i] = (b.store.data[i] ?? 0) ^ 0xff);
    flip(4096 * 7 + 3);
    flip(4096 * 8);
    expect(a.engine.verify().ok).toBe(true);
    await waitFor(() => cs(a) === 'Connected' && cs(b) === 'Connected' && a.logs.some((l) => l.includes('Online verify done')), 10_000, 'verify');
    expect(a.logs).toContain('block drbd0: Online verify found 2 4k block out of sync!');
    expect(a.logs).toContain('block drbd0: Out of sync: start=56, size=16 (sectors)');
    expect(a.bitmap.countDirty()).toBe(2);
  });
});
