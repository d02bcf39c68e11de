/**
 * Protocol C durability: synchronous (FUA, queue depth 1) writes through the
 * Primary's NBD export while its drbdd is killed with SIGKILL at a random
 * moment, 20 times. Every write that had been acknowledged must be on the other
 * node once it is promoted. The roles alternate: the killed node comes back,
 * resyncs from the survivor, and the survivor takes the next round's writes.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoopbackPair, MiB, type PairNode } from './loopback-pair.js';
import { SyncWriter } from './nbd-client.js';

let pair: LoopbackPair;
const other = (n: PairNode): PairNode => (n === 'a' ? 'b' : 'a');

const block = (round: number, k: number): Buffer => {
  const b = Buffer.alloc(4096);
  const tag = createHash('sha256').update(`${round}/${k}`).digest();
  for (let o = 0; o < 4096; o += 32) tag.copy(b, o);
  return b;
};

beforeAll(() => {
  pair = new LoopbackPair('h7', 32);
  pair.resource('protocol C; ping-int 1; connect-int 1;', 'resync-rate 200M;');
});
afterAll(() => pair.cleanup());

describe('protocol C durability', () => {
  it('every acknowledged write survives a SIGKILL of the Primary, 20 times', async () => {
    for (const n of ['a', 'b'] as const) {
      expect(pair.adm(n, 'create-md', 'r0').status).toBe(0);
      expect(pair.adm(n, 'up', 'r0').status).toBe(0);
    }
    await pair.until('a', 'cstate', 'Connected');
    expect(pair.adm('a', 'primary', '--force', 'r0').status).toBe(0);
    await pair.until('b', 'dstate', 'UpToDate/UpToDate');
    let primary: PairNode = 'a';
    const dataBlocks = (32 * MiB - 4096 - 32768 - 4096) / 4096;
    let totalAcked = 0;
    for (let round = 0; round < 20; round++) {
      const w = new SyncWriter();
      await w.open(path.join(pair.dir, `run-${primary}`, `drbd${pair.minor}.nbd`));
      const acked: number[] = [];
      const killAt = Date.now() + 100 + Math.floor(Math.random() * 400);
      const victim = pair.pidOf(primary);
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
      await pair.until(survivor, 'cstate', 'WFConnection');
      const r = pair.adm(survivor, 'primary', 'r0');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      // Every acknowledged write is on the survivor's disk (the last write to a block wins).
      const img = fs.readFileSync(path.join(pair.dir, `${survivor}.img`));
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
      const up = pair.adm(primary, 'up', 'r0');
      expect(up.stderr).toBe('');
      expect(up.status).toBe(0);
      await pair.until(primary, 'dstate', 'UpToDate/UpToDate');
      primary = survivor;
    }
    expect(totalAcked).toBeGreaterThan(20);
  }, 600_000);
});
