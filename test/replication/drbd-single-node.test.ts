/**
 * One node, for real: create-md on a backing file, up, primary refused while
 * Inconsistent, primary --force, mkfs.ext4 on the configured device path (a
 * symlink to /dev/loopN over nbdfuse), mount, files, secondary refused while
 * mounted, unmount, secondary, down, up again, the data still there. Also the
 * status texts, the /proc/drbd-style file, kernel-style log lines and sh-* helpers.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { IN_CI, REPO_ROOT, itWithTools, runBin } from '../helpers/env.js';

const MiB = 1024 * 1024;
let dir: string;
let conf: string;
let env: NodeJS.ProcessEnv;
const minor = 40 + Math.floor(Math.random() * 50);
const port = 20000 + Math.floor(Math.random() * 20000);
let mnt: string;

function adm(...args: string[]) {
  return runBin('drbdadm', ['-c', conf, ...args], { env });
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h7-drbd1-'));
  const img = path.join(dir, 'disk0.img');
  fs.writeFileSync(img, '');
  fs.truncateSync(img, 96 * MiB);
  mnt = path.join(dir, 'mnt');
  fs.mkdirSync(mnt);
  conf = path.join(dir, 'drbd.conf');
  fs.writeFileSync(
    conf,
    `global { usage-count no; }
resource r0 {
  net { protocol C; }
  disk { al-extents 127; }
  on h7node { device /dev/drbd${minor} minor ${minor}; disk ${img}; address 127.0.0.1:${port}; meta-disk internal; }
  on h7peer { device /dev/drbd${minor} minor ${minor}; disk ${img}; address 127.0.0.2:${port}; meta-disk internal; }
}
`,
  );
  env = {
    DRBD_HOSTNAME: 'h7node',
    DRBD_LOCAL_ADDRESSES: '127.0.0.1',
    DRBD_TS_RUN_DIR: path.join(dir, 'run'),
    DRBD_TS_LOG: path.join(dir, 'drbd.log'),
    DRBD_TS_SYSLOG: '0',
    DRBD_TS_DEVICE_ROOT: path.join(dir, 'dev'),
    DRBD_TS_EXPOSE: 'fuse',
  };
});

afterAll(() => {
  spawnSync('umount', [mnt], { stdio: 'ignore' });
  adm('down', 'r0');
  const pidFile = path.join(dir, 'run', 'drbdd.pid');
  if (fs.existsSync(pidFile)) {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  spawnSync('fusermount3', ['-u', '-z', path.join(dir, 'run', 'fuse', `drbd${minor}`)], { stdio: 'ignore' });
  fs.rmSync(dir, { recursive: true, force: true });
});

const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

describe('drbdadm + drbdd on one node', () => {
  itWithTools(['nbdfuse', 'fusermount3', 'losetup', 'mkfs.ext4', 'mount'], 'create-md, up, forced primary, ext4, down, up: the data survives', async () => {
    const devLink = path.join(dir, 'dev', `drbd${minor}`);

    let r = adm('create-md', 'r0');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('New drbd meta data block successfully created.');
    // Again: asks, and without 'yes' leaves the meta data alone.
    r = runBin('drbdadm', ['-c', conf, 'create-md', 'r0'], { env, input: 'no\n' });
    expect(r.stdout).toContain("[need to type 'yes' to confirm]");
    expect(r.status).toBe(10);

    expect(adm('role', 'r0').stdout).toBe('Unconfigured\n');
    expect(adm('dstate', 'r0').stdout).toBe('Inconsistent/DUnknown\n');
    expect(adm('-d', 'up', 'r0').stdout).toContain(`drbdd attach ${minor} `);

    r = adm('up', 'r0');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(adm('role', 'r0').stdout).toBe('Secondary/Unknown\n');
    expect(adm('cstate', 'r0').stdout).toBe('WFConnection\n');
    expect(adm('dstate', 'r0').stdout).toBe('Inconsistent/DUnknown\n');
    expect(adm('status', 'r0').stdout).toBe('r0 role:Secondary\n  disk:Inconsistent\n  h7peer connection:Connecting\n\n');
    const proc = fs.readFileSync(path.join(dir, 'run', 'proc-drbd'), 'utf8');
    expect(proc).toMatch(/^version: 8\.4\.11 \(api:1\/proto:86-101\)\n/);
    expect(proc).toContain(`${minor}: cs:WFConnection ro:Secondary/Unknown ds:Inconsistent/DUnknown C r-----\n    ns:0 nr:0 dw:0 dr:0 al:0 bm:`);
    // dump-md refuses while attached.
    expect(adm('dump-md', 'r0').status).toBe(20);

    // Promotion refused while Inconsistent (all three spellings of "force" work).
    r = adm('primary', 'r0');
    expect(r.status).toBe(17);
    expect(r.stderr).toContain(`${minor}: State change failed: (-2) Need access to UpToDate data`);
    expect(fs.existsSync(devLink)).toBe(false);
    r = adm('--', '--overwrite-data-of-peer', 'primary', 'r0');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(adm('role', 'r0').stdout).toBe('Primary/Unknown\n');
    expect(adm('dstate', 'r0').stdout).toBe('UpToDate/DUnknown\n');
    const loop = fs.readlinkSync(devLink);
    expect(loop).toMatch(/^\/dev\/loop\d+$/);
    const byRes = path.join(dir, 'dev', 'drbd', 'by-res', 'r0', '0');
    expect(fs.readlinkSync(byRes)).toBe(loop);

    execFileSync('mkfs.ext4', ['-q', '-F', devLink]);
    execFileSync('mount', [devLink, mnt]);
    const sums: Record<string, string> = {};
    for (let i = 0; i < 3; i++) {
      const f = path.join(mnt, `file${i}`);
      fs.writeFileSync(f, randomBytes((i + 1) * 700 * 1024));
      sums[`file${i}`] = sha(f);
    }
    const ov = runBin('drbd-overview', [], { env });
    expect(ov.status).toBe(0);
    expect(ov.stdout).toMatch(new RegExp(`^ *${minor}:r0 WFConnection Primary/Unknown UpToDate/DUnknown C r----- ${mnt} ext4 \\S+ \\S+ \\S+ \\d+%\\n$`));
    r = adm('secondary', 'r0');
    expect(r.status).toBe(11);
    expect(r.stderr).toContain(`${minor}: State change failed: (-12) Device is held open by someone`);
    execFileSync('umount', [mnt]);
    r = adm('secondary', 'r0');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(fs.existsSync(devLink)).toBe(false);
    expect(fs.existsSync(byRes)).toBe(false);
    expect(execFileSync('losetup', ['-a'], { encoding: 'utf8' })).not.toContain(path.join(dir, 'run'));

    // The NBD socket is still there for the Secondary: read-only.
    const info = JSON.parse(execFileSync('nbdinfo', ['--json', `nbd+unix:///r0?socket=${path.join(dir, 'run', `drbd${minor}.nbd`)}`], { encoding: 'utf8' }));
    expect(info.exports[0].is_read_only).toBe(true);
    expect(info.exports[0].description).toContain("promote with 'drbdadm primary r0'");

    expect(adm('down', 'r0').status).toBe(0);
    expect(adm('role', 'r0').stdout).toBe('Unconfigured\n');
    expect(adm('dstate', 'r0').stdout).toBe('Consistent/DUnknown\n');
    const dump = adm('dump-md', 'r0');
    expect(dump.status).toBe(0);
    // Consistent, WasUpToDate, AlClean; a forced primary owes its peer a full sync: every bit set.
    expect(dump.stdout).toMatch(/flags 0x00000091;/);
    const bits = Number(/# bits-set (\d+);/.exec(dump.stdout)![1]);
    expect(bits).toBe(Math.floor((96 * MiB - 4096 - 32768 - 4096) / 4096));
    expect(adm('get-gi', 'r0').stdout).toMatch(/^[0-9A-F]{16}:0000000000000004:0000000000000000:0000000000000000:1:1:0:0:0:0:0\n$/);

    // Up again; Consistent + fencing dont-care: primary without --force.
    expect(adm('up', 'r0').status).toBe(0);
    r = adm('primary', 'r0');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    execFileSync('mount', [fs.readlinkSync(devLink), mnt]);
    for (const [f, s] of Object.entries(sums)) expect(sha(path.join(mnt, f))).toBe(s);
    execFileSync('umount', [mnt]);
    expect(adm('down', 'r0').status).toBe(0);

    const log = fs.readFileSync(path.join(dir, 'drbd.log'), 'utf8');
    expect(log).toContain(`block drbd${minor}: disk( Attaching -> Inconsistent )`);
    expect(log).toMatch(new RegExp(`(d-con r0|block drbd${minor}): conn\\( Unconnected -> WFConnection \\)`));
    expect(log).toContain(`block drbd${minor}: Forced to consider local data as UpToDate!`);
    expect(log).toContain(`block drbd${minor}: role( Secondary -> Primary ) disk( Inconsistent -> UpToDate )`);
    expect(log).toContain(`block drbd${minor}: role( Primary -> Secondary )`);
    expect(log).toMatch(/^\w{3} \d\d \d\d:\d\d:\d\d \S+ kernel: \[drbdd \d+\] block drbd/m);
    // The daemon leaves when the last resource is down.
    const pidFile = path.join(dir, 'run', 'drbdd.pid');
    for (let i = 0; i < 100 && fs.existsSync(pidFile); i++) await new Promise((res) => setTimeout(res, 50));
    expect(fs.existsSync(pidFile)).toBe(false);
  }, 120_000);

  itWithTools(['bash'], 'the stock Debian drbddisk and ours promote and demote through our drbdadm', async () => {
    const stock = '/etc/ha.d/resource.d/drbddisk';
    const ours = path.join(REPO_ROOT, 'resource.d', 'drbddisk');
    // drbdadm as drbddisk calls it (no -c): a wrapper naming our config, like DRBDADM=... in /etc/default/drbd.
    const wrapper = path.join(dir, 'drbdadm-wrapper');
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${path.join(REPO_ROOT, 'bin', 'drbdadm')} -c ${conf} "$@"\n`, { mode: 0o755 });
    const defaults = path.join(dir, 'default-drbd');
    fs.writeFileSync(defaults, `DRBDADM=${wrapper}\n`);
    // The stock script reads /etc/default/drbd; its copy reads ours instead (the only change).
    const stockCopy = path.join(dir, 'drbddisk-stock');
    const scripts: [string, string, NodeJS.ProcessEnv][] = [[ours, 'bash', { ...env, DRBDDISK_DEFAULTFILE: defaults }]];
    if (fs.existsSync(stock)) {
      fs.writeFileSync(stockCopy, fs.readFileSync(stock, 'utf8').replace('DEFAULTFILE="/etc/default/drbd"', `DEFAULTFILE="${defaults}"`), { mode: 0o755 });
      scripts.unshift([stockCopy, 'bash', env]);
    } else if (IN_CI) throw new Error(`${stock} missing (Debian drbd-utils)`);
    expect(adm('up', 'r0').status).toBe(0);
    const devLink = path.join(dir, 'dev', `drbd${minor}`);
    for (const [script, shell, e] of scripts) {
      const call = (...a: string[]) => spawnSync(shell, [script, ...a], { encoding: 'utf8', env: { ...process.env, ...e }, timeout: 60_000 });
      let r = call('r0', 'status');
      expect([r.status, r.stdout.trim()]).toEqual([3, 'stopped (Secondary)']);
      r = call('r0', 'start');
      expect(r.status).toBe(0);
      expect(adm('role', 'r0').stdout).toBe('Primary/Unknown\n');
      expect(fs.readlinkSync(devLink)).toMatch(/^\/dev\/loop\d+$/);
      r = call('r0', 'status');
      expect([r.status, r.stdout.trim()]).toEqual([0, 'running (Primary)']);
      r = call('r0', 'stop');
      expect(r.status).toBe(0);
      expect(adm('role', 'r0').stdout).toBe('Secondary/Unknown\n');
      expect(fs.existsSync(devLink)).toBe(false);
    }
    expect(adm('down', 'r0').status).toBe(0);
    const r = spawnSync('bash', [ours, 'r0', 'status'], { encoding: 'utf8', env: { ...process.env, ...env, DRBDDISK_DEFAULTFILE: defaults } });
    expect([r.status, r.stdout.trim()]).toEqual([3, 'stopped (Unconfigured)']);
  }, 120_000);

  itWithTools([], 'sh-* helpers, 0.7 --do-what-I-say, secondary/primary on a resource that is down', () => {
    expect(adm('sh-resources').stdout).toBe('r0\n');
    expect(adm('sh-dev', 'r0').stdout).toBe(`/dev/drbd${minor}\n`);
    expect(adm('sh-minor', 'r0').stdout).toBe(`${minor}\n`);
    expect(adm('sh-ll-dev', 'r0').stdout).toBe(`${path.join(dir, 'disk0.img')}\n`);
    expect(adm('sh-md-idx', 'r0').stdout).toBe('internal\n');
    expect(adm('sh-ip', 'r0').stdout).toBe('127.0.0.1\n');
    expect(adm('sh-mod-parms').stdout).toBe(`minor_count=${Math.max(32, minor + 1)}\n`);
    expect(adm('sh-status', 'r0').stdout).toContain('_cstate=Unconfigured');
    expect(adm('-d', '--', '--do-what-I-say', 'primary', 'r0').stdout).toBe('drbdd primary r0 --force\n');
    const r = adm('primary', 'r0');
    expect(r.status).toBe(10);
    expect(r.stderr).toContain(`${minor}: Failure: (127) Device minor not allocated`);
    expect(adm('status').stdout).toBe('# No currently configured DRBD found.\n');
    expect(adm('role', 'nosuch').status).toBe(1);
    // An unknown algorithm stops up/connect with FILE:LINE (exit 10); the sh-* helpers still answer.
    const bad = path.join(dir, 'bad.conf');
    fs.writeFileSync(bad, fs.readFileSync(conf, 'utf8').replace('net { protocol C; }', 'net {\n  protocol C;\n  cram-hmac-alg foo;\n  shared-secret x;\n}'));
    const up = runBin('drbdadm', ['-c', bad, 'up', 'r0'], { env });
    expect(up.status).toBe(10);
    expect(up.stderr).toBe(`${bad}:5: unknown cram-hmac-alg 'foo' (we have md5, sha1, sha256, sha512)\n`);
    expect(runBin('drbdadm', ['-c', bad, 'sh-dev', 'r0'], { env }).stdout).toBe(`/dev/drbd${minor}\n`);
  });
});
