// resource.d/Filesystem run for real: loop devices with ext4 and ext2,
// mounted only inside a private mount namespace created here (nothing
// appears in the host's mount table), including a stop that has to kill the
// processes keeping the filesystem busy.
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { hasTool, itWithTools } from '../helpers/env.js';
import { owned, runScript, scriptEnv, sh, waitFor } from './script-helpers.js';

const TOOLS = ['losetup', 'mkfs.ext4', 'mke2fs', 'fsck', 'fuser', 'unshare', 'nsenter'];
const se = scriptEnv('hbts-scripts-fs');
const mnt = path.join(se.dir, 'mnt');
const loops: string[] = [];
let nsHolder: ChildProcess | undefined;
const children: ChildProcess[] = [];
let ext4Dev = '';
let ext2Dev = '';

function nsPid(): number {
  return nsHolder!.pid!;
}

/** Runs Filesystem inside the private mount namespace. */
function fsScript(args: string[], scriptDir?: string) {
  return runScript('Filesystem', args, { prefix: ['nsenter', '-t', String(nsPid()), '-m', '--'], env: se.env, scriptDir });
}

function nsMounts(): string[] {
  return fs.readFileSync(`/proc/${nsPid()}/mounts`, 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '');
}

function inNs(cmd: string): string {
  return sh('nsenter', ['-t', String(nsPid()), '-m', '--', 'sh', '-c', cmd]);
}

/** A process inside the namespace that keeps something on the mount busy. */
async function holder(cmd: string, busyPath: string): Promise<ChildProcess> {
  const c = spawn('nsenter', ['-t', String(nsPid()), '-m', '--', 'sh', '-c', cmd], { stdio: 'ignore' });
  children.push(c);
  await waitFor(`a holder of ${busyPath}`, () => {
    try {
      const links = [fs.readlinkSync(`/proc/${c.pid}/cwd`)];
      for (const fd of fs.readdirSync(`/proc/${c.pid}/fd`)) links.push(fs.readlinkSync(`/proc/${c.pid}/fd/${fd}`));
      return links.some((l) => l.startsWith(busyPath));
    } catch {
      return false;
    }
  });
  return c;
}

function exited(c: ChildProcess): boolean {
  return c.exitCode !== null || c.signalCode !== null;
}

function newLoop(name: string, mkfs: string[]): string {
  const img = path.join(se.dir, name);
  sh('truncate', ['-s', '32M', img]);
  const dev = sh('losetup', ['-f', '--show', img]).trim();
  loops.push(dev);
  sh(mkfs[0]!, [...mkfs.slice(1), dev]);
  return dev;
}

beforeAll(async () => {
  if (!TOOLS.every(hasTool)) return;
  fs.mkdirSync(mnt);
  ext4Dev = newLoop('ext4.img', ['mkfs.ext4', '-q', '-F']);
  ext2Dev = newLoop('ext2.img', ['mke2fs', '-q', '-F', '-t', 'ext2']);
  nsHolder = spawn('unshare', ['-m', '--propagation', 'private', 'sleep', '600'], { stdio: 'ignore' });
  const ours = fs.readlinkSync('/proc/self/ns/mnt');
  await waitFor('the private mount namespace', () => {
    try {
      return fs.readlinkSync(`/proc/${nsHolder!.pid}/ns/mnt`) !== ours;
    } catch {
      return false;
    }
  });
});

afterAll(async () => {
  for (const c of children) if (!exited(c)) c.kill('SIGKILL');
  if (nsHolder && !exited(nsHolder)) {
    const h = nsHolder;
    h.kill('SIGKILL');
    await waitFor('the namespace holder to exit', () => exited(h)).catch(() => undefined);
  }
  for (const dev of loops) sh('losetup', ['-d', dev], { allowFail: true });
  se.cleanup();
});

describe('Filesystem', () => {
  itWithTools(TOOLS, 'ext4: start mounts (no fsck), status, start again, stop; nothing leaks to the host', () => {
    expect(nsHolder).toBeDefined();
    const args = [ext4Dev, `${mnt}/`, 'ext4'];
    let r = fsScript([...args, 'status']);
    expect(r.stdout).toBe('INFO:  Resource is stopped\n');
    expect(r.status).toBe(7);
    r = fsScript([...args, 'start']);
    expect(r.stdout).toBe('INFO:  Success\n');
    expect(r.status).toBe(0);
    expect(nsMounts()).toContain(mnt);
    expect(fs.readFileSync('/proc/self/mounts', 'utf8')).not.toContain(mnt);
    r = fsScript([...args, 'status']);
    expect(r.stdout).toBe('INFO:  Running OK\n');
    expect(owned(r.stdout)).toBe(true);
    expect(fsScript([...args, 'start']).status).toBe(0);
    expect(se.log()).toContain(`INFO: Filesystem ${mnt} is already mounted.`);
    expect(se.log()).not.toContain('Starting filesystem check');
    expect(fsScript([...args, 'stop']).status).toBe(0);
    expect(nsMounts()).not.toContain(mnt);
    expect(owned(fsScript([...args, 'status']).stdout)).toBe(false);
    expect(fsScript([...args, 'stop']).status).toBe(0);
  });

  itWithTools(TOOLS, 'stop kills the processes keeping it busy (open file, cwd) and unmounts sub-mounts first', async () => {
    expect(nsHolder).toBeDefined();
    const args = [ext4Dev, mnt, 'ext4', 'rw,noatime'];
    expect(fsScript([...args, 'start']).status).toBe(0);
    inNs(`echo data > ${mnt}/file && mkdir -p ${mnt}/sub && mount -t tmpfs none ${mnt}/sub`);
    expect(nsMounts()).toContain(`${mnt}/sub`);
    const openFile = await holder(`exec sleep 120 3<${mnt}/file`, `${mnt}/file`);
    const inCwd = await holder(`cd ${mnt} && exec sleep 120`, mnt);

    const r = fsScript([...args, 'stop']);
    expect(r.stdout).toBe('INFO:  Success\n');
    expect(r.status).toBe(0);
    expect(nsMounts()).not.toContain(mnt);
    expect(nsMounts()).not.toContain(`${mnt}/sub`);
    await waitFor('the holders to be killed', () => exited(openFile) && exited(inCwd));
    expect(openFile.signalCode).toBe('SIGTERM');
    const log = se.log();
    expect(log).toContain(`INFO: unmounted ${mnt}/sub successfully`);
    expect(log).toContain(`ERROR: Couldn't unmount ${mnt}; trying cleanup with TERM`);
    expect(log).toContain(`INFO: Some processes on ${mnt} were signalled`);
    expect(log).toMatch(/INFO: Running mount -t ext4 -o rw,noatime \/dev\/loop\d+ /);
  });

  itWithTools(TOOLS, 'a mount point reached through a symlink is found in the mount table', () => {
    expect(nsHolder).toBeDefined();
    const link = path.join(se.dir, 'mnt-link');
    fs.symlinkSync(mnt, link);
    expect(fsScript([ext4Dev, link, 'ext4', 'start']).status).toBe(0);
    expect(nsMounts()).toContain(mnt);
    expect(owned(fsScript([ext4Dev, link, 'ext4', 'status']).stdout)).toBe(true);
    expect(fsScript([ext4Dev, link, 'ext4', 'start']).status).toBe(0);
    expect(nsMounts().filter((m) => m === mnt)).toHaveLength(1);
    expect(fsScript([ext4Dev, link, 'ext4', 'stop']).status).toBe(0);
    expect(nsMounts()).not.toContain(mnt);
  });

  itWithTools(TOOLS, 'ext2 is checked with fsck before mounting', () => {
    expect(nsHolder).toBeDefined();
    expect(fsScript([ext2Dev, mnt, 'ext2', 'start']).status).toBe(0);
    expect(se.log()).toContain(`INFO: Starting filesystem check on ${ext2Dev}`);
    expect(owned(fsScript([ext2Dev, mnt, 'ext2', 'status']).stdout)).toBe(true);
    expect(fsScript([ext2Dev, mnt, 'ext2', 'stop']).status).toBe(0);
    expect(nsMounts()).not.toContain(mnt);
  });

  itWithTools(TOOLS, 'errors: missing mount point or device (rc 5), unmountable device (rc 1), too few arguments (usage, 1)', () => {
    expect(nsHolder).toBeDefined();
    let r = fsScript([ext4Dev, `${se.dir}/nonexistent`, 'ext4', 'start']);
    expect(r.stdout).toBe('ERROR:  Program is not installed\n');
    expect(r.status).toBe(5);
    expect(se.log()).toContain(`ERROR: Couldn't find directory [${se.dir}/nonexistent] to use as a mount point`);
    r = fsScript(['/dev/hbts-no-such-device', mnt, 'ext4', 'start']);
    expect(r.status).toBe(5);
    // a device with the wrong filesystem type cannot be mounted
    r = fsScript([ext2Dev, mnt, 'xfs', 'start']);
    expect([1, 5]).toContain(r.status);
    expect(owned(fsScript([ext2Dev, mnt, 'xfs', 'status']).stdout)).toBe(false);
    r = fsScript([ext4Dev, 'start']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^usage: \S*Filesystem <device> <directory> \[<fstype> \[<options>\]\] /);
  });
});

describe('Filesystem against the original (resource-agents 4.12 through /etc/ha.d/resource.d)', () => {
  const ORIG = '/etc/ha.d/resource.d';
  itWithTools([...TOOLS, `${ORIG}/Filesystem`, 'modprobe'], 'same stdout and exit codes over start/status/busy stop/stop, and the same end state', async () => {
    expect(nsHolder).toBeDefined();
    async function cycle(dir?: string) {
      const args = [ext4Dev, `${mnt}/`, 'ext4'];
      const out: Array<{ stdout: string; status: number; mounted: boolean }> = [];
      const step = (a: string) => {
        const r = fsScript([...args, a], dir);
        out.push({ stdout: r.stdout, status: r.status, mounted: nsMounts().includes(mnt) });
      };
      for (const a of ['status', 'start', 'status', 'start']) step(a);
      inNs(`echo data > ${mnt}/file`);
      const h = await holder(`exec sleep 120 3<${mnt}/file`, `${mnt}/file`);
      step('stop');
      await waitFor('the holder to be killed', () => exited(h));
      for (const a of ['stop', 'status']) step(a);
      const missing = fsScript(['/dev/hbts-no-such-device', mnt, 'ext4', 'start'], dir);
      out.push({ stdout: missing.stdout, status: missing.status, mounted: nsMounts().includes(mnt) });
      return out;
    }
    const orig = await cycle(ORIG);
    const ours = await cycle();
    expect(ours).toEqual(orig);
  });
});
