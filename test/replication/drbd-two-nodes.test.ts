/**
 * Two drbdd daemons on this machine (each its own run folder, host name, device
 * root and backing file), replicating over loopback TCP (127.0.0.1 and
 * 127.0.0.2): create-md, up, promotion refused while Inconsistent, `primary
 * --force` on node a, the full sync, mkfs.ext4 on a's device path, files,
 * secondary; primary on b, the same checksums; a second Primary refused.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { itWithTools, runBin } from '../helpers/env.js';
import { waitFor } from '../shared/wait-for.js';

const MiB = 1024 * 1024;
let dir: string;
let conf: string;
const minor = 100 + Math.floor(Math.random() * 100);
const port = 20000 + Math.floor(Math.random() * 20000);

const nodeEnv = (n: 'a' | 'b'): NodeJS.ProcessEnv => ({
  DRBD_HOSTNAME: `h7${n}`,
  DRBD_LOCAL_ADDRESSES: n === 'a' ? '127.0.0.1' : '127.0.0.2',
  DRBD_TS_RUN_DIR: path.join(dir, `run-${n}`),
  DRBD_TS_LOG: path.join(dir, `${n}.log`),
  DRBD_TS_SYSLOG: '0',
  DRBD_TS_DEVICE_ROOT: path.join(dir, `dev-${n}`),
  DRBD_TS_EXPOSE: 'fuse',
});
const adm = (n: 'a' | 'b', ...args: string[]) => runBin('drbdadm', ['-c', conf, ...args], { env: nodeEnv(n) });
const dev = (n: 'a' | 'b') => path.join(dir, `dev-${n}`, `drbd${minor}`);
const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

async function until(n: 'a' | 'b', cmd: string, want: string, ms = 30_000): Promise<void> {
  let last = '';
  await waitFor(() => (last = adm(n, cmd, 'r0').stdout.trim()) === want, ms, `${n} ${cmd} = ${want} (last: ${last})`);
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h7-drbd2-'));
  for (const n of ['a', 'b']) {
    fs.writeFileSync(path.join(dir, `${n}.img`), '');
    fs.truncateSync(path.join(dir, `${n}.img`), 48 * MiB);
    fs.mkdirSync(path.join(dir, `mnt-${n}`));
  }
  conf = path.join(dir, 'drbd.conf');
  fs.writeFileSync(
    conf,
    `resource r0 {
  net { protocol C; cram-hmac-alg sha1; shared-secret "h7-secret"; }
  disk { resync-rate 200M; }
  handlers { before-resync-target "echo $DRBD_RESOURCE $DRBD_MINOR $DRBD_PEER_ADDRESS > ${dir}/brt-$(hostname)"; after-resync-target "touch ${dir}/art"; }
  on h7a { device /dev/drbd${minor} minor ${minor}; disk ${dir}/a.img; address 127.0.0.1:${port}; meta-disk internal; }
  on h7b { device /dev/drbd${minor} minor ${minor}; disk ${dir}/b.img; address 127.0.0.2:${port}; meta-disk internal; }
}
`,
  );
});

afterAll(() => {
  for (const n of ['a', 'b'] as const) {
    spawnSync('umount', [path.join(dir, `mnt-${n}`)], { stdio: 'ignore' });
    adm(n, 'down', 'r0');
    const pidFile = path.join(dir, `run-${n}`, 'drbdd.pid');
    if (fs.existsSync(pidFile)) {
      try {
        process.kill(Number(fs.readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    spawnSync('fusermount3', ['-u', '-z', path.join(dir, `run-${n}`, 'fuse', `drbd${minor}`)], { stdio: 'ignore' });
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('two nodes over loopback', () => {
  itWithTools(['nbdfuse', 'fusermount3', 'losetup', 'mkfs.ext4', 'mount'], 'initial sync from the forced node, ext4 on a, failover to b with the same files', async () => {
    for (const n of ['a', 'b'] as const) {
      expect(adm(n, 'create-md', 'r0').status).toBe(0);
      const r = adm(n, 'up', 'r0');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
    expect(adm('a', 'wait-connect', 'r0').status).toBe(0);
    await until('a', 'cstate', 'Connected');
    await until('b', 'cstate', 'Connected');
    expect(adm('a', 'dstate', 'r0').stdout).toBe('Inconsistent/Inconsistent\n');
    let r = adm('a', 'primary', 'r0');
    expect(r.status).toBe(17);
    expect(r.stderr).toContain(`${minor}: State change failed: (-2) Need access to UpToDate data`);

    r = adm('a', 'primary', '--force', 'r0');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    await until('b', 'dstate', 'UpToDate/UpToDate');
    await until('a', 'dstate', 'UpToDate/UpToDate');
    expect(adm('a', 'role', 'r0').stdout).toBe('Primary/Secondary\n');
    expect(adm('b', 'role', 'r0').stdout).toBe('Secondary/Primary\n');
    expect(adm('b', 'status', 'r0').stdout).toBe('r0 role:Secondary\n  disk:UpToDate\n  h7a role:Primary\n    peer-disk:UpToDate\n\n');
    const procA = fs.readFileSync(path.join(dir, 'run-a', 'proc-drbd'), 'utf8');
    expect(procA).toContain(`${minor}: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----`);
    const logA = fs.readFileSync(path.join(dir, 'a.log'), 'utf8');
    expect(logA).toContain('Peer authenticated using 20 bytes HMAC');
    expect(logA).toMatch(/Resync done \(total \d+ sec/);
    expect(logA).not.toContain('h7-secret');
    // The SyncTarget ran its handlers with DRBD's environment.
    await waitFor(() => fs.existsSync(path.join(dir, 'art')), 10_000, 'after-resync-target');
    expect(fs.readFileSync(path.join(dir, `brt-${os.hostname()}`), 'utf8')).toBe(`r0 ${minor} 127.0.0.1\n`);
    expect(fs.readFileSync(path.join(dir, 'b.log'), 'utf8')).toContain(`block drbd${minor}: helper command: /sbin/drbdadm before-resync-target minor-${minor} exit code 0 (0x0)`);

    // A second Primary is refused.
    r = adm('b', 'primary', 'r0');
    expect(r.status).toBe(11);
    expect(r.stderr).toContain('(-1) Multiple primaries not allowed by config');

    execFileSync('mkfs.ext4', ['-q', '-F', dev('a')]);
    const mntA = path.join(dir, 'mnt-a');
    execFileSync('mount', [dev('a'), mntA]);
    const sums: Record<string, string> = {};
    for (let i = 0; i < 4; i++) {
      const f = path.join(mntA, `f${i}`);
      fs.writeFileSync(f, randomBytes(512 * 1024 * (i + 1)));
      sums[`f${i}`] = sha(f);
    }
    execFileSync('umount', [mntA]);
    r = adm('a', 'secondary', 'r0');
    expect(r.status).toBe(0);
    expect(fs.existsSync(dev('a'))).toBe(false);
    await until('b', 'role', 'Secondary/Secondary');

    r = adm('b', 'primary', 'r0');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const mntB = path.join(dir, 'mnt-b');
    execFileSync('mount', [dev('b'), mntB]);
    for (const [f, s] of Object.entries(sums)) expect(sha(path.join(mntB, f))).toBe(s);
    execFileSync('umount', [mntB]);
    expect(adm('b', 'secondary', 'r0').status).toBe(0);
    for (const n of ['a', 'b'] as const) expect(adm(n, 'down', 'r0').status).toBe(0);
  }, 180_000);

  itWithTools(['nbdfuse', 'fusermount3', 'losetup', 'dd'], 'a reconnect resyncs only the blocks written while disconnected', async () => {
    for (const n of ['a', 'b'] as const) expect(adm(n, 'up', 'r0').status).toBe(0);
    await until('a', 'dstate', 'UpToDate/UpToDate');
    expect(adm('a', 'primary', 'r0').status).toBe(0);
    expect(adm('b', 'disconnect', 'r0').status).toBe(0);
    await until('b', 'cstate', 'StandAlone');
    await until('a', 'cstate', 'WFConnection');
    // Five 4 KiB blocks written on a while b is away.
    for (const seek of [10, 11, 500, 2000, 9000]) {
      execFileSync('dd', ['if=/dev/urandom', `of=${dev('a')}`, 'bs=4096', 'count=1', `seek=${seek}`, 'oflag=direct', 'conv=notrunc', 'status=none']);
    }
    const oos = () => Number(/oos:(\d+)/.exec(fs.readFileSync(path.join(dir, 'run-a', 'proc-drbd'), 'utf8'))![1]);
    await waitFor(() => oos() === 20, 10_000, 'oos:20 on a');
    const logA = () => fs.readFileSync(path.join(dir, 'a.log'), 'utf8');
    const before = logA().length;
    expect(adm('b', 'connect', 'r0').status).toBe(0);
    await until('b', 'dstate', 'UpToDate/UpToDate');
    await until('a', 'dstate', 'UpToDate/UpToDate');
    const news = logA().slice(before);
    expect(news).toContain('Began resync as SyncSource (will sync 20 KB [5 bits set])');
    expect(oos()).toBe(0);
    expect(adm('a', 'secondary', 'r0').status).toBe(0);
    for (const n of ['a', 'b'] as const) expect(adm(n, 'down', 'r0').status).toBe(0);
    // The data areas are identical again.
    const dataBytes = 48 * MiB - 4096 - 32768 - 4096;
    const a = fs.readFileSync(path.join(dir, 'a.img')).subarray(0, dataBytes);
    const b = fs.readFileSync(path.join(dir, 'b.img')).subarray(0, dataBytes);
    expect(a.equals(b)).toBe(true);
  }, 180_000);

  itWithTools([], 'a peer with the wrong shared-secret is refused and logged', async () => {
    const confB = path.join(dir, 'drbd-b.conf');
    fs.writeFileSync(confB, fs.readFileSync(conf, 'utf8').replace('"h7-secret"', '"not-the-secret"'));
    expect(adm('a', 'up', 'r0').status).toBe(0);
    expect(runBin('drbdadm', ['-c', confB, 'up', 'r0'], { env: nodeEnv('b') }).status).toBe(0);
    const logs = () => fs.readFileSync(path.join(dir, 'a.log'), 'utf8') + fs.readFileSync(path.join(dir, 'b.log'), 'utf8');
    await waitFor(() => /Authentication of peer failed/.test(logs()), 30_000, 'authentication failure in the logs');
    await until('a', 'cstate', 'StandAlone').catch(async () => until('b', 'cstate', 'StandAlone'));
    expect(adm('a', 'role', 'r0').stdout).toBe('Secondary/Unknown\n');
    expect(logs()).not.toContain('not-the-secret');
    expect(logs()).not.toContain('h7-secret');
    for (const n of ['a', 'b'] as const) adm(n, 'down', 'r0');
  }, 60_000);
});
