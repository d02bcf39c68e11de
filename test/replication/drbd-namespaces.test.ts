/**
 * The two-node scenario with each node fully apart: its own network
 * namespace (a veth pair between them) and its own mount namespace with a private
 * tmpfs on /run, so the daemon's default run folder (/var/run/drbd-ts), its fuse
 * file and the device root (DRBD_TS_DEVICE_ROOT=/run/drbd-dev) are invisible to
 * the host and to the other node; /dev (loop devices, /dev/fuse) stays the host's.
 * A holder process (`ip netns exec NS unshare -m ... sleep`) keeps each node's
 * namespaces; every command runs under `nsenter -t holder -m -n`, and the host
 * reads a node's files through /proc/<holder>/root.
 *
 * create-md, up, primary --force on a, sync, mkfs.ext4 on a's device path, mount,
 * files with known checksums, unmount, secondary; primary on b, mount, same sums.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { REPO_ROOT, hasTool, itWithTools } from '../helpers/env.js';
import { waitFor } from '../shared/wait-for.js';

const MiB = 1024 * 1024;
const tag = ((process.pid + 4000) % 9000) + 100;
const NS = { a: `h12n${tag}a`, b: `h12n${tag}b` };
const IF = { a: `h12v${tag}a`, b: `h12v${tag}b` };
const NET = `10.98.${tag % 250}`;
const IP = { a: `${NET}.1`, b: `${NET}.2` };
const minor = 400 + (tag % 100);
type Node = 'a' | 'b';
const NODES: Node[] = ['a', 'b'];
const DEV_ROOT = '/run/drbd-dev';
const MNT = '/run/mnt';
let dir: string;
let conf: string;
let ready = false;
const holder: Partial<Record<Node, ChildProcess>> = {};

const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'ignore', timeout: 10_000 });
const env = (n: Node): NodeJS.ProcessEnv => ({
  ...process.env,
  DRBD_HOSTNAME: `h12${n}`,
  DRBD_TS_LOG: `/run/drbd-${n}.log`,
  DRBD_TS_SYSLOG: '0',
  DRBD_TS_DEVICE_ROOT: DEV_ROOT,
  DRBD_TS_EXPOSE: 'fuse',
});

/** Runs a command inside node n's network and mount namespaces. */
function inNode(n: Node, cmd: string, args: string[], timeout = 60_000) {
  const r = spawnSync('nsenter', ['-t', String(holder[n]!.pid), '-m', '-n', '--', cmd, ...args], {
    encoding: 'utf8',
    timeout,
    env: env(n),
  });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const adm = (n: Node, ...args: string[]) => inNode(n, path.join(REPO_ROOT, 'bin', 'drbdadm'), ['-c', conf, ...args], 30_000);
/** A path inside node n's mount namespace, seen from the host. */
const inside = (n: Node, p: string) => `/proc/${holder[n]!.pid}/root${p}`;
const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

async function until(n: Node, cmd: string, want: string, ms = 60_000): Promise<void> {
  let last = '';
  await waitFor(() => (last = adm(n, cmd, 'r0').stdout.trim()) === want, ms, `${n} ${cmd} = ${want} (last: ${last})`);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h12-ns-'));
  if (!hasTool('ip') || !hasTool('nsenter') || !hasTool('unshare') || process.getuid?.() !== 0) return;
  for (const n of NODES) ip('netns', 'add', NS[n]);
  ip('link', 'add', IF.a, 'type', 'veth', 'peer', 'name', IF.b);
  for (const n of NODES) {
    ip('link', 'set', IF[n], 'netns', NS[n]);
    ip('-n', NS[n], 'addr', 'add', `${IP[n]}/24`, 'dev', IF[n]);
    ip('-n', NS[n], 'link', 'set', IF[n], 'up');
    ip('-n', NS[n], 'link', 'set', 'lo', 'up');
    fs.writeFileSync(path.join(dir, `${n}.img`), '');
    fs.truncateSync(path.join(dir, `${n}.img`), 48 * MiB);
    const h = spawn(
      'ip',
      ['netns', 'exec', NS[n], 'unshare', '-m', '--propagation', 'private', 'sh', '-c',
        `mount -t tmpfs h12run /run && mkdir -p ${MNT} ${DEV_ROOT} && touch /run/h12-ready && exec sleep 100000`],
      { stdio: 'ignore' },
    );
    holder[n] = h;
  }
  for (const n of NODES) await waitFor(() => fs.existsSync(inside(n, '/run/h12-ready')), 10_000, `holder ${n} ready`);
  conf = path.join(dir, 'drbd.conf');
  fs.writeFileSync(
    conf,
    `resource r0 {
  net { protocol C; cram-hmac-alg sha1; shared-secret "h12-secret"; ping-int 1; connect-int 1; }
  disk { resync-rate 200M; }
  on h12a { device /dev/drbd${minor} minor ${minor}; disk ${dir}/a.img; address ${IP.a}:7789; meta-disk internal; }
  on h12b { device /dev/drbd${minor} minor ${minor}; disk ${dir}/b.img; address ${IP.b}:7789; meta-disk internal; }
}
`,
  );
  ready = true;
});

function cleanupNode(n: Node): void {
  if (holder[n]?.pid === undefined) return;
  inNode(n, 'umount', ['-l', MNT], 10_000);
  adm(n, 'down', 'r0');
  const pid = inNode(n, 'cat', ['/run/drbd-ts/drbdd.pid'], 5_000).stdout.trim();
  if (/^\d+$/.test(pid)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  const fuseFile = `/run/drbd-ts/fuse/drbd${minor}`;
  // Loop devices are global: detach any still bound to this node's fuse file.
  for (const line of inNode(n, 'losetup', ['-j', fuseFile], 5_000).stdout.split('\n')) {
    const loop = /^(\/dev\/loop\d+):/.exec(line)?.[1];
    if (loop !== undefined) inNode(n, 'losetup', ['-d', loop], 5_000);
  }
  inNode(n, 'fusermount3', ['-u', '-z', fuseFile], 5_000);
  holder[n]!.kill('SIGKILL');
}

afterAll(() => {
  for (const n of NODES) {
    try {
      cleanupNode(n);
    } catch {
      /* keep going: the namespaces must still go */
    }
  }
  for (const n of NODES) {
    try {
      ip('netns', 'del', NS[n]);
    } catch {
      /* not created */
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('two nodes, each in its own network and mount namespace', () => {
  itWithTools(['ip', 'nsenter', 'unshare', 'nbdfuse', 'fusermount3', 'losetup', 'mkfs.ext4', 'mount'], 'sync over veth, ext4 on a, failover to b with the same checksums', async () => {
    expect(ready).toBe(true);
    for (const n of NODES) {
      expect(adm(n, 'create-md', 'r0').status).toBe(0);
      const r = adm(n, 'up', 'r0');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
    await until('a', 'cstate', 'Connected');
    await until('b', 'cstate', 'Connected');
    let r = adm('a', 'primary', '--force', 'r0');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    await until('b', 'dstate', 'UpToDate/UpToDate');
    await until('a', 'dstate', 'UpToDate/UpToDate');
    expect(adm('a', 'role', 'r0').stdout).toBe('Primary/Secondary\n');
    // The device exists only in a's mount namespace, under its private device root.
    const devPath = `${DEV_ROOT}/drbd${minor}`;
    expect(fs.existsSync(inside('a', devPath))).toBe(true);
    expect(fs.existsSync(devPath)).toBe(false);
    expect(fs.existsSync(inside('b', devPath))).toBe(false);
    expect(fs.readFileSync(inside('a', '/run/drbd-a.log'), 'utf8')).toContain('Peer authenticated using 20 bytes HMAC');

    r = inNode('a', 'mkfs.ext4', ['-q', '-F', devPath]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(inNode('a', 'mount', [devPath, MNT]).status).toBe(0);
    const sums: Record<string, string> = {};
    for (let i = 0; i < 4; i++) {
      const f = inside('a', `${MNT}/f${i}`);
      fs.writeFileSync(f, randomBytes(512 * 1024 * (i + 1)));
      sums[`f${i}`] = sha(f);
    }
    // The mount is a's alone.
    expect(fs.existsSync(inside('b', `${MNT}/f0`))).toBe(false);
    expect(inNode('a', 'umount', [MNT]).status).toBe(0);
    r = adm('a', 'secondary', 'r0');
    expect(r.status).toBe(0);
    expect(fs.existsSync(inside('a', devPath))).toBe(false);
    await until('b', 'role', 'Secondary/Secondary');

    r = adm('b', 'primary', 'r0');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(fs.existsSync(inside('b', devPath))).toBe(true);
    r = inNode('b', 'mount', [devPath, MNT]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // b's own tools compute the sums inside its namespace.
    r = inNode('b', 'sha256sum', [0, 1, 2, 3].map((i) => `${MNT}/f${i}`));
    expect(r.status).toBe(0);
    for (const [f, s] of Object.entries(sums)) expect(r.stdout).toContain(`${s}  ${MNT}/${f}`);
    expect(inNode('b', 'umount', [MNT]).status).toBe(0);
    expect(adm('b', 'secondary', 'r0').status).toBe(0);
    for (const n of NODES) expect(adm(n, 'down', 'r0').status).toBe(0);
  }, 240_000);
});
