/**
 * Protocol C durability: synchronous (FUA, queue depth 1) writes through the
 * Primary's NBD export while its drbdd is killed with SIGKILL at a random
 * moment, 20 times. Every write that had been acknowledged must be on the other
 * node once it is promoted. The roles alternate: the killed node comes back,
 * resyncs from the survivor, and the survivor takes the next round's writes.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from '../helpers/env.js';
import { waitFor } from '../shared/wait-for.js';
import { SyncWriter } from './nbd-client.js';

const MiB = 1024 * 1024;
let dir: string;
let conf: string;
const minor = 200 + Math.floor(Math.random() * 100);
const port = 20000 + Math.floor(Math.random() * 20000);
type Node = 'a' | 'b';
const other = (n: Node): Node => (n === 'a' ? 'b' : 'a');

const nodeEnv = (n: Node): NodeJS.ProcessEnv => ({
  DRBD_HOSTNAME: `h7${n}`,
  DRBD_LOCAL_ADDRESSES: n === 'a' ? '127.0.0.1' : '127.0.0.2',
  DRBD_TS_RUN_DIR: path.join(dir, `run-${n}`),
  DRBD_TS_LOG: path.join(dir, `${n}.log`),
  DRBD_TS_SYSLOG: '0',
  DRBD_TS_EXPOSE: 'none',
});
const adm = (n: Node, ...args: string[]) => runBin('drbdadm', ['-c', conf, ...args], { env: nodeEnv(n) });
const pidOf = (n: Node) => Number(fs.readFileSync(path.join(dir, `run-${n}`, 'drbdd.pid'), 'utf8').trim());

async function until(n: Node, cmd: string, want: string, ms = 60_000): Promise<void> {
  let last = '';
  await waitFor(() => (last = adm(n, cmd, 'r0').stdout.trim()) === want, ms, `${n} ${cmd} = ${want} (last: ${last})`);
}

const block = (round: number, k: number): Buffer => {
  const b = Buffer.alloc(4096);
  const tag = createHash('sha256').update(`${round}/${k}`).digest();
  for (let o = 0; o < 4096; o += 32) tag.copy(b, o);
  return b;
};

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h7-drbdC-'));
  for (const n of ['a', 'b']) {
    fs.writeFileSync(path.join(dir, `${n}.img`), '');
    fs.truncateSync(path.join(dir, `${n}.img`), 32 * MiB);
  }
  conf = path.join(dir, 'drbd.conf');
  fs.writeFileSync(
    conf,
    `resource r0 {
  net { protocol C; ping-int 1; connect-int 1; }
  disk { resync-rate 200M; }
  on h7a { device /dev/drbd${minor} minor ${minor}; disk ${dir}/a.img; address 127.0.0.1:${port}; meta-disk internal; }
  on h7b { device /dev/drbd${minor} minor ${minor}; disk ${dir}/b.img; address 127.0.0.2:${port}; meta-disk internal; }
}
`,
  );
});

afterAll(() => {
  for (const n of ['a', 'b'] as const) {
    adm(n, 'down', 'r0');
    try {
      process.kill(pidOf(n), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('protocol C durability', () => {
  it('every acknowledged write survives a SIGKILL of the Primary, 20 times', async () => {
    for (const n of ['a', 'b'] as const) {
      expect(adm(n, 'create-md', 'r0').status).toBe(0);
      expect(adm(n, 'up', 'r0').status).toBe(0);
    }
    await until('a', 'cstate', 'Connected');
    expect(adm('a', 'primary', '--force', 'r0').status).toBe(0);
    await until('b', 'dstate', 'UpToDate/UpToDate');
    let primary: Node = 'a';
    const dataBlocks = (32 * MiB - 4096 - 32768 - 4096) / 4096;
    let totalAcked = 0;
    for (let round = 0; round < 20; round++) {
      const w = new SyncWriter();
      await w.open(path.join(dir, `run-${primary}`, `drbd${minor}.nbd`));
      const acked: number[] = [];
      const killAt = Date.now() + 100 + Math.floor(Math.random() * 400);
      const victim = pidOf(primary);
      let killed = false;
      const killer = new Promise<void>((res) =>
        setTimeout(() => {
          process.kill(victim, 'SIGKILL');
          killed = true;
          res();
        }, killAt - Date.now()),
      );
      for (let k = 0; !killed && k < dataBlocks; k++) {
        const blk = (round * 997 + k * 13) % dataBlocks;
        if (await w.write(blk * 4096, block(round, k), BigInt(k + 1))) acked.push(k);
        else break;
      }
      await killer;
      w.close();
      totalAcked += acked.length;
      const survivor = other(primary);
      await until(survivor, 'cstate', 'WFConnection');
      const r = adm(survivor, 'primary', 'r0');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      // Every acknowledged write is on the survivor's disk (the last write to a block wins).
      const img = fs.readFileSync(path.join(dir, `${survivor}.img`));
      const lastK = new Map<number, number>();
      for (const k of acked) lastK.set((round * 997 + k * 13) % dataBlocks, k);
      for (const [blk, k] of lastK) {
        const got = img.subarray(blk * 4096, blk * 4096 + 4096);
        if (!got.equals(block(round, k))) {
          // A later, unacknowledged write to the same block may have landed instead.
          const later = [...Array(50).keys()].map((d) => k + 1 + d).some((k2) => (round * 997 + k2 * 13) % dataBlocks === blk && got.equals(block(round, k2)));
          expect(later, `round ${round}: acknowledged write ${k} (block ${blk}) missing on ${survivor}`).toBe(true);
        }
      }
      // The killed node comes back and resyncs from the survivor.
      const up = adm(primary, 'up', 'r0');
      expect(up.stderr).toBe('');
      expect(up.status).toBe(0);
      await until(primary, 'dstate', 'UpToDate/UpToDate');
      primary = survivor;
    }
    expect(totalAcked).toBeGreaterThan(20);
  }, 600_000);
});
