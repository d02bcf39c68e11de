/**
 * drbdadm pause-sync / resume-sync and verify against two running drbdd (loopback,
 * device not exposed): a slow initial sync is paused (PausedSyncS/PausedSyncT, the
 * `u` flag in /proc/drbd, no progress) and resumed to UpToDate; then a block
 * changed behind the daemon's back on the peer's backing file is found by online
 * verify (verify-alg crc32c) and counted out of sync.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { itWithTools, runBin } from '../helpers/env.js';
import { waitFor } from '../shared/wait-for.js';

const MiB = 1024 * 1024;
let dir: string;
let conf: string;
const minor = 200 + Math.floor(Math.random() * 50);
const port = 20000 + Math.floor(Math.random() * 20000);
type Node = 'a' | 'b';

const nodeEnv = (n: Node): NodeJS.ProcessEnv => ({
  DRBD_HOSTNAME: `h12v${n}`,
  DRBD_LOCAL_ADDRESSES: n === 'a' ? '127.0.0.1' : '127.0.0.2',
  DRBD_TS_RUN_DIR: path.join(dir, `run-${n}`),
  DRBD_TS_LOG: path.join(dir, `${n}.log`),
  DRBD_TS_SYSLOG: '0',
  DRBD_TS_EXPOSE: 'none',
});
const adm = (n: Node, ...args: string[]) => runBin('drbdadm', ['-c', conf, ...args], { env: nodeEnv(n) });
const proc = (n: Node) => fs.readFileSync(path.join(dir, `run-${n}`, 'proc-drbd'), 'utf8');
const log = (n: Node) => fs.readFileSync(path.join(dir, `${n}.log`), 'utf8');

async function until(n: Node, cmd: string, want: string, ms = 60_000): Promise<void> {
  let last = '';
  await waitFor(() => (last = adm(n, cmd, 'r0').stdout.trim()) === want, ms, `${n} ${cmd} = ${want} (last: ${last})`);
}

function writeConf(rate: string): void {
  fs.writeFileSync(
    conf,
    `resource r0 {
  net { protocol C; verify-alg crc32c; ping-int 1; connect-int 1; }
  disk { resync-rate ${rate}; }
  on h12va { device /dev/drbd${minor} minor ${minor}; disk ${dir}/a.img; address 127.0.0.1:${port}; meta-disk internal; }
  on h12vb { device /dev/drbd${minor} minor ${minor}; disk ${dir}/b.img; address 127.0.0.2:${port}; meta-disk internal; }
}
`,
  );
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h12-verify-'));
  for (const n of ['a', 'b']) {
    fs.writeFileSync(path.join(dir, `${n}.img`), '');
    fs.truncateSync(path.join(dir, `${n}.img`), 16 * MiB);
  }
  conf = path.join(dir, 'drbd.conf');
  writeConf('1M');
});

afterAll(() => {
  for (const n of ['a', 'b'] as const) {
    adm(n, 'down', 'r0');
    const pidFile = path.join(dir, `run-${n}`, 'drbdd.pid');
    if (fs.existsSync(pidFile)) {
      try {
        process.kill(Number(fs.readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('pause-sync, resume-sync, verify', () => {
  itWithTools([], 'a paused sync makes no progress and resumes; verify finds a block changed behind the daemon', async () => {
    for (const n of ['a', 'b'] as const) {
      expect(adm(n, 'create-md', 'r0').status).toBe(0);
      expect(adm(n, 'up', 'r0').status).toBe(0);
    }
    // verify needs a connection.
    await until('a', 'cstate', 'Connected');
    expect(adm('a', 'primary', '--force', 'r0').status).toBe(0);
    await until('a', 'cstate', 'SyncSource');

    let r = adm('a', 'pause-sync', 'r0');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    await until('a', 'cstate', 'PausedSyncS');
    await until('b', 'cstate', 'PausedSyncT');
    await waitFor(() => /ro:Primary\/Secondary ds:UpToDate\/Inconsistent C r--u-/.test(proc('a')), 5_000, "the 'u' flag in a's /proc/drbd");
    await waitFor(() => /r-p---/.test(proc('b')), 5_000, "the 'p' flag in b's /proc/drbd");
    const oos = () => Number(/oos:(\d+)/.exec(proc('a'))![1]);
    const held = oos();
    expect(held).toBeGreaterThan(0);
    // No progress while paused: still the same after several resync-rate steps (bounded observation, 1.5 s).
    const until15 = Date.now() + 1500;
    while (Date.now() < until15) {
      expect(oos()).toBe(held);
      await new Promise((res) => setTimeout(res, 100));
    }
    r = adm('a', 'resume-sync', 'r0');
    expect(r.status).toBe(0);
    await until('a', 'cstate', 'SyncSource');
    await waitFor(() => oos() < held, 10_000, 'progress after resume-sync');
    await until('b', 'dstate', 'UpToDate/UpToDate', 60_000);
    expect(log('a')).toMatch(/Resync done \(total \d+ sec; paused [1-9]\d* sec;/);

    // Online verify: nothing to find on identical data...
    r = adm('a', 'verify', 'r0');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    await waitFor(() => /Online verify done/.test(log('a')), 60_000, 'first verify done');
    expect(log('a')).not.toMatch(/Online verify found/);
    // ... then one 4 KiB block of b's backing file changed behind the daemon.
    const fd = fs.openSync(path.join(dir, 'b.img'), 'r+');
    fs.writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, 300 * 4096);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const before = log('a').length;
    r = adm('a', 'verify', 'r0');
    expect(r.status).toBe(0);
    await waitFor(() => /Online verify done/.test(log('a').slice(before)), 60_000, 'second verify done');
    expect(log('a').slice(before)).toContain('Online verify found 1 4k block out of sync!');
    expect(log('a').slice(before)).toContain(`Out of sync: start=${300 * 8}, size=8 (sectors)`);
    await waitFor(() => oos() === 4, 5_000, 'the found block counted out of sync (oos:4)');

    // Refused without a connection.
    expect(adm('b', 'disconnect', 'r0').status).toBe(0);
    await until('a', 'cstate', 'WFConnection');
    r = adm('a', 'verify', 'r0');
    expect(r.status).toBe(11);
    expect(r.stderr).toContain(`${minor}: State change failed: (-15) Need a connection to start verify or resync`);
    expect(adm('a', 'secondary', 'r0').status).toBe(0);
    for (const n of ['a', 'b'] as const) expect(adm(n, 'down', 'r0').status).toBe(0);
  }, 180_000);
});
