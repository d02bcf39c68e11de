import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createPidFile,
  formatPidFileContent,
  isProcessRunning,
  PidFileBusyError,
  pidFileState,
  readPidFile,
  removePidFile,
} from '../../lib/shared/daemon/pidfile.js';

let dir: string;
const children: ChildProcess[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbts-pid-'));
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A live process that is not us, until the test ends. */
function liveProcess(): number {
  const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)', 'hbts-pidfile-test-sleeper'], { stdio: 'ignore' });
  children.push(c);
  return c.pid!;
}

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  const pid = c.pid!;
  await new Promise((r) => c.once('exit', r));
  return pid;
}

describe('pid files', () => {
  it('written in the HDB lock format cl_lock_pidfile uses: ten right-aligned digits and a newline', () => {
    const file = path.join(dir, 'heartbeat.pid');
    createPidFile(file, 1234);
    expect(fs.readFileSync(file, 'utf8')).toBe('      1234\n');
    expect(formatPidFileContent(13)).toHaveLength(11);
    expect(readPidFile(file)).toBe(1234);
    expect(fs.readdirSync(dir)).toEqual(['heartbeat.pid']); // the temp file is gone
  });

  it('absent / running / stale', async () => {
    const file = path.join(dir, 'x.pid');
    expect(pidFileState(file)).toEqual({ state: 'absent' });
    const live = liveProcess();
    fs.writeFileSync(file, `${live}\n`);
    expect(pidFileState(file)).toEqual({ state: 'running', pid: live });
    const dead = await deadPid();
    fs.writeFileSync(file, formatPidFileContent(dead));
    expect(pidFileState(file)).toEqual({ state: 'stale', pid: dead });
    fs.writeFileSync(file, 'garbage\n');
    expect(pidFileState(file)).toEqual({ state: 'stale' });
    fs.writeFileSync(file, `${process.pid}\n`);
    expect(pidFileState(file)).toEqual({ state: 'stale', pid: process.pid });
  });

  it('refuses while another instance runs, naming its pid', () => {
    const file = path.join(dir, 'heartbeat.pid');
    const live = liveProcess();
    fs.writeFileSync(file, formatPidFileContent(live));
    let err: unknown;
    try {
      createPidFile(file, 4242);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PidFileBusyError);
    expect((err as PidFileBusyError).code).toBe('PIDFILE_BUSY');
    expect((err as PidFileBusyError).pid).toBe(live);
    expect((err as PidFileBusyError).message).toBe(`already running [pid ${live}].`);
    expect(readPidFile(file)).toBe(live);
  });

  it('replaces a stale file', async () => {
    const file = path.join(dir, 'heartbeat.pid');
    fs.writeFileSync(file, formatPidFileContent(await deadPid()));
    createPidFile(file, 4242);
    expect(readPidFile(file)).toBe(4242);
  });

  it('ldirectord counts a pid as live only when its cmdline names it', () => {
    const live = liveProcess();
    expect(isProcessRunning(live)).toBe(true);
    expect(isProcessRunning(live, { cmdlineContains: 'hbts-pidfile-test-sleeper' })).toBe(true);
    expect(isProcessRunning(live, { cmdlineContains: 'ldirectord' })).toBe(false);
    const file = path.join(dir, 'ldirectord.golden.cf.pid');
    fs.writeFileSync(file, `${live}\n`);
    expect(pidFileState(file, { cmdlineContains: 'ldirectord' })).toEqual({ state: 'stale', pid: live });
  });

  it('an injected /proc decides liveness', () => {
    const proc = path.join(dir, 'proc');
    fs.mkdirSync(path.join(proc, '77'), { recursive: true });
    expect(isProcessRunning(77, { procRoot: proc })).toBe(true);
    expect(isProcessRunning(78, { procRoot: proc })).toBe(false);
  });

  it('removes the file only while it still names us', () => {
    const file = path.join(dir, 'heartbeat.pid');
    createPidFile(file, 4242);
    expect(removePidFile(file, 4343)).toBe(false);
    expect(fs.existsSync(file)).toBe(true);
    expect(removePidFile(file, 4242)).toBe(true);
    expect(fs.existsSync(file)).toBe(false);
    expect(removePidFile(file, 4242)).toBe(false);
  });

  it('of two starters (both live processes) the first wins, the second is refused', async () => {
    const file = path.join(dir, 'race.pid');
    const a = liveProcess();
    const b = liveProcess();
    const results = [a, b].map((pid) => {
      try {
        createPidFile(file, pid);
        return 'won';
      } catch (e) {
        return e instanceof PidFileBusyError ? 'busy' : String(e);
      }
    });
    expect(results.sort()).toEqual(['busy', 'won']);
  });
});
