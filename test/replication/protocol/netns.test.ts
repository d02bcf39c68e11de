import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { itWithTools, hasTool } from '../../helpers/env.js';
import { NodeProc } from './node-proc.js';

/** Two network namespaces joined by a veth pair: 10.98.<n>.1 and .2. */
const tag = process.pid % 10000;
const NS = [`hbrp${tag}a`, `hbrp${tag}b`] as const;
const IF = [`rp${tag}a`, `rp${tag}b`] as const;
const NET = `10.98.${tag % 250}`;
const IP = [`${NET}.1`, `${NET}.2`] as const;
const SIZE = 4 << 20;
const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'ignore', timeout: 10_000 });

let ready = false;
let procs: NodeProc[] = [];

beforeAll(() => {
  if (!hasTool('ip') || process.getuid?.() !== 0) return;
  for (const ns of NS) ip('netns', 'add', ns);
  ip('link', 'add', IF[0], 'type', 'veth', 'peer', 'name', IF[1]);
  for (const i of [0, 1] as const) {
    ip('link', 'set', IF[i], 'netns', NS[i]);
    ip('-n', NS[i], 'addr', 'add', `${IP[i]}/24`, 'dev', IF[i]);
    ip('-n', NS[i], 'link', 'set', IF[i], 'up');
    ip('-n', NS[i], 'link', 'set', 'lo', 'up');
  }
  ready = true;
});

afterAll(async () => {
  for (const p of procs) await p.kill();
  procs = [];
  for (const ns of NS) {
    try {
      ip('netns', 'del', ns);
    } catch {
      /* not created */
    }
  }
});

async function start(config: Record<string, unknown> = {}, configB = config): Promise<[NodeProc, NodeProc]> {
  for (const p of procs) await p.kill();
  const nodes = [new NodeProc(NS[0]), new NodeProc(NS[1])] as [NodeProc, NodeProc];
  procs = nodes;
  const port = 7789;
  await nodes[0].request({ cmd: 'start', node: 'alpha', size: SIZE, seed: 3, local: { host: IP[0], port }, remote: { host: IP[1], port }, config });
  await nodes[1].request({ cmd: 'start', node: 'bravo', size: SIZE, local: { host: IP[1], port }, remote: { host: IP[0], port }, config: configB });
  await Promise.all(nodes.map((n) => n.request({ cmd: 'connect' })));
  return nodes;
}

const hash = async (n: NodeProc): Promise<string> => (await n.request({ cmd: 'hash' })).hash as string;

describe('replication between two network namespaces (veth)', () => {
  itWithTools(['ip'], 'initial sync, protocol C writes, link loss marks the bitmap, reconnect resyncs only those blocks', async () => {
    expect(ready).toBe(true);
    const [a, b] = await start();
    await a.waitStatus((s) => s.conn === 'Connected', 20_000, 'connected');
    expect(a.logs).toContain('block drbd0: Handshake successful: Agreed network protocol version 1');
    expect((await a.request({ cmd: 'role', role: 'Primary' })).ok).toBe(false);
    expect((await a.request({ cmd: 'role', role: 'Primary', force: true })).ok).toBe(true);
    await a.waitStatus((s) => s.conn === 'Connected' && s.disk === 'UpToDate' && s.peerDisk === 'UpToDate', 30_000, 'initial sync');
    expect(await hash(b)).toBe(await hash(a));
    expect(b.logs.some((l) => /Resync done \(total \d+ sec; paused 0 sec; \d+ K\/sec\)/.test(l))).toBe(true);

    // Protocol C: once the write is acknowledged, the peer has it.
    for (let i = 0; i < 5; i++) {
      expect((await a.request({ cmd: 'write', offset: 65536 * i, len: 8192, seed: 100 + i })).ok).toBe(true);
      expect(await hash(b)).toBe(await hash(a));
    }

    const before = (await b.status()).counters.resyncReceived!;
    ip('-n', NS[0], 'link', 'set', IF[0], 'down');
    await a.waitStatus((s) => s.conn === 'WFConnection', 10_000, 'link loss noticed');
    expect(a.logs).toContain('block drbd0: PingAck did not arrive in time.');
    await a.request({ cmd: 'write', offset: 0, len: 4096, seed: 7 });
    await a.request({ cmd: 'write', offset: 1 << 20, len: 8192, seed: 8 });
    expect((await a.status()).outOfSyncBits).toBe(3);
    ip('-n', NS[0], 'link', 'set', IF[0], 'up');
    await a.waitStatus((s) => s.conn === 'Connected' && s.peerDisk === 'UpToDate' && s.outOfSyncBits === 0, 30_000, 'reconnect and resync');
    await b.waitStatus((s) => s.disk === 'UpToDate', 10_000);
    expect((await b.status()).counters.resyncReceived! - before).toBe(3 * 4096);
    expect(await hash(b)).toBe(await hash(a));
  }, 90_000);

  itWithTools(['ip'], 'a peer with the wrong shared secret is refused and logged', async () => {
    expect(ready).toBe(true);
    const [a, b] = await start({ cramHmacAlg: 'sha1', sharedSecret: 'right' }, { cramHmacAlg: 'sha1', sharedSecret: 'wrong' });
    await a.waitStatus((s) => s.conn === 'StandAlone', 20_000, 'StandAlone');
    await b.waitStatus((s) => s.conn === 'StandAlone', 20_000, 'StandAlone');
    expect(a.logs).toContain('block drbd0: Authentication of peer failed');
    expect(b.logs).toContain('block drbd0: Authentication of peer failed');
  }, 60_000);
});
