import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signalDaemon, stopDaemon } from '../../lib/shared/daemon/control.js';
import { formatPidFileContent } from '../../lib/shared/daemon/pidfile.js';

let dir: string;
const children: ChildProcess[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbts-ctl-'));
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A stand-in daemon: prints "up" once its handlers are in place, then runs `body`. */
async function daemon(body: string): Promise<ChildProcess> {
  const c = spawn(process.execPath, ['-e', `${body}; setInterval(() => {}, 1e6); console.log('up')`], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(c);
  await new Promise<void>((resolve, reject) => {
    c.stdout!.once('data', () => resolve());
    c.once('exit', () => reject(new Error('stand-in daemon died')));
  });
  return c;
}

describe('controlling a running daemon through its pid file', () => {
  it('heartbeat -k: TERM and wait until it is gone', async () => {
    const c = await daemon(`process.on('SIGTERM', () => process.exit(0))`);
    const pidFile = path.join(dir, 'heartbeat.pid');
    fs.writeFileSync(pidFile, formatPidFileContent(c.pid!));
    expect(await stopDaemon(pidFile, { timeoutMs: 10_000, pollMs: 10 })).toBe('stopped');
    // stopDaemon counts a zombie as gone; Node's exit event for its child may come a moment later.
    const code = c.exitCode ?? (await new Promise((r) => c.once('exit', (code) => r(code))));
    expect(code).toBe(0);
  });

  it('not running: nothing sent (stale or absent pid file)', async () => {
    const pidFile = path.join(dir, 'heartbeat.pid');
    expect(await stopDaemon(pidFile)).toBe('not-running');
    expect(signalDaemon(pidFile, 'SIGHUP')).toEqual({ sent: false, state: { state: 'absent' } });
  });

  it('a daemon that ignores TERM: bounded wait, then timeout', async () => {
    const c = await daemon(`process.on('SIGTERM', () => {})`);
    const pidFile = path.join(dir, 'stubborn.pid');
    fs.writeFileSync(pidFile, formatPidFileContent(c.pid!));
    expect(await stopDaemon(pidFile, { timeoutMs: 300, pollMs: 20 })).toBe('timeout');
    expect(c.exitCode).toBeNull();
  });

  it('heartbeat -r / ldirectord reload: HUP reaches the daemon', async () => {
    const c = await daemon(`process.on('SIGHUP', () => console.log('reloaded'))`);
    const pidFile = path.join(dir, 'ldirectord.x.pid');
    fs.writeFileSync(pidFile, `${c.pid}\n`);
    const got = new Promise<string>((resolve) => c.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
    expect(signalDaemon(pidFile, 'SIGHUP')).toEqual({ sent: true, pid: c.pid });
    expect(await got).toBe('reloaded\n');
  });
});
