/**
 * drbdadm pause-sync / resume-sync and verify against two running drbdd (loopback,
 * device not exposed): a slow initial sync is paused (PausedSyncS/PausedSyncT, the
 * `u` flag in /proc/drbd, no progress) and resumed to UpToDate; then a block
 * changed behind the daemon's back on the peer's backing file is found by online
 * verify (verify-alg crc32c) and counted out of sync.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { itWithTools } from '../helpers/env.js';
import { waitFor } from '../shared/wait-for.js';
import { LoopbackPair } from './loopback-pair.js';

let pair: LoopbackPair;

beforeAll(() => {
  pair = new LoopbackPair('h12v', 16);
  pair.resource('protocol C; verify-alg crc32c; ping-int 1; connect-int 1;', 'resync-rate 1M;');
});
afterAll(() => pair.cleanup());

describe('pause-sync, resume-sync, verify', () => {
  itWithTools([], 'a paused sync makes no progress and resumes; verify finds a block changed behind the daemon', async () => {
    for (const n of ['a', 'b'] as const) {
      expect(pair.adm(n, 'create-md', 'r0').status).toBe(0);
      expect(pair.adm(n, 'up', 'r0').status).toBe(0);
    }
    // verify needs a connection.
    await pair.until('a', 'cstate', 'Connected');
    expect(pair.adm('a', 'primary', '--force', 'r0').status).toBe(0);
    await pair.until('a', 'cstate', 'SyncSource');

    let r = pair.adm('a', 'pause-sync', 'r0');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    await pair.until('a', 'cstate', 'PausedSyncS');
    await pair.until('b', 'cstate', 'PausedSyncT');
    await waitFor(() => /ro:Primary\/Secondary ds:UpToDate\/Inconsistent C r--u-/.test(pair.proc('a')), 5_000, "the 'u' flag in a's /proc/drbd");
    await waitFor(() => /r-p---/.test(pair.proc('b')), 5_000, "the 'p' flag in b's /proc/drbd");
    const oos = () => Number(/oos:(\d+)/.exec(pair.proc('a'))![1]);
    const held = oos();
    expect(held).toBeGreaterThan(0);
    // No progress while paused: still the same after several resync-rate steps (bounded observation, 1.5 s).
    const until15 = Date.now() + 1500;
    while (Date.now() < until15) {
      expect(oos()).toBe(held);
      await new Promise((res) => setTimeout(res, 100));
    }
    r = pair.adm('a', 'resume-sync', 'r0');
    expect(r.status).toBe(0);
    await pair.until('a', 'cstate', 'SyncSource');
    await waitFor(() => oos() < held, 10_000, 'progress after resume-sync');
    await pair.until('b', 'dstate', 'UpToDate/UpToDate', 60_000);
    expect(pair.log('a')).toMatch(/Resync done \(total \d+ sec; paused [1-9]\d* sec;/);

    // Online verify: nothing to find on identical data...
    r = pair.adm('a', 'verify', 'r0');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    await waitFor(() => /Online verify done/.test(pair.log('a')), 60_000, 'first verify done');
    expect(pair.log('a')).not.toMatch(/Online verify found/);
    // ... then one 4 KiB block of b's backing file changed behind the daemon.
    const fd = fs.openSync(path.join(pair.dir, 'b.img'), 'r+');
    fs.writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, 300 * 4096);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const before = pair.log('a').length;
    r = pair.adm('a', 'verify', 'r0');
    expect(r.status).toBe(0);
    await waitFor(() => /Online verify done/.test(pair.log('a').slice(before)), 60_000, 'second verify done');
    expect(pair.log('a').slice(before)).toContain('Online verify found 1 4k block out of sync!');
    expect(pair.log('a').slice(before)).toContain(`Out of sync: start=${300 * 8}, size=8 (sectors)`);
    await waitFor(() => oos() === 4, 5_000, 'the found block counted out of sync (oos:4)');

    // Refused without a connection.
    expect(pair.adm('b', 'disconnect', 'r0').status).toBe(0);
    await pair.until('a', 'cstate', 'WFConnection');
    r = pair.adm('a', 'verify', 'r0');
    expect(r.status).toBe(11);
    expect(r.stderr).toContain(`${pair.minor}: State change failed: (-15) Need a connection to start verify or resync`);
    expect(pair.adm('a', 'secondary', 'r0').status).toBe(0);
    for (const n of ['a', 'b'] as const) expect(pair.adm(n, 'down', 'r0').status).toBe(0);
  }, 180_000);
});
