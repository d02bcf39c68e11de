/**
 * Real daemons (background mode, pid files in a temp run folder):
 * - execute=: `ldirectord main.cf start` also starts the listed instance,
 *   `status` reports both, a reload with another list stops the dropped
 *   instance and starts the new one, `stop` stops them all;
 * - resource.d/ldirectord, as heartbeat runs it: start, status on stdout
 *   with exit 0 while running, stop, then "stopped" with exit 3.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runBin } from '../helpers/env.js';

const work = mkdtempSync(path.join(tmpdir(), 'ldexec-'));
const env = { LDIRECTORD_RUN_DIR: work };

function cf(name: string, extra = ''): string {
  const file = path.join(work, name);
  writeFileSync(file, `backend=userspace\nlogfile="${path.join(work, `${name}.log`)}"\n${extra}`);
  return file;
}

const pidFile = (name: string): string => path.join(work, `ldirectord.${name}.pid`);

function alive(name: string): boolean {
  if (!existsSync(pidFile(name))) return false;
  const pid = Number(readFileSync(pidFile(name), 'utf8').trim());
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

afterAll(() => {
  // Anything a failed test left running: by our own pid files only.
  for (const n of ['main.cf', 'child.cf', 'child2.cf', 'rsc.cf']) {
    if (!existsSync(pidFile(n))) continue;
    try {
      process.kill(Number(readFileSync(pidFile(n), 'utf8').trim()), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  rmSync(work, { recursive: true, force: true });
});

describe('ldirectord daemons', () => {
  it('execute= starts, reports, reloads and stops the other instances', async () => {
    const child = cf('child.cf');
    const child2 = cf('child2.cf');
    const main = cf('main.cf', `execute=${child}\n`);
    expect(runBin('ldirectord', [main, 'start'], { env }).status).toBe(0);
    await until('main and child running', () => alive('main.cf') && alive('child.cf'));

    const status = runBin('ldirectord', [main, 'status'], { env });
    expect(status.status).toBe(0);
    expect(status.stdout).toContain(`ldirectord for ${main} is running with pid: `);
    expect(status.stdout).toContain(`ldirectord for ${child} is running with pid: `);

    writeFileSync(main, `backend=userspace\nlogfile="${path.join(work, 'main.cf.log')}"\nexecute=${child2}\n`);
    expect(runBin('ldirectord', [main, 'reload'], { env }).status).toBe(0);
    await until('child stopped and child2 started', () => !alive('child.cf') && alive('child2.cf'));

    expect(runBin('ldirectord', [main, 'stop'], { env }).status).toBe(0);
    await until('all stopped', () => !alive('main.cf') && !alive('child2.cf'));
    expect(runBin('ldirectord', [child2, 'status'], { env }).status).toBe(3);
  }, 90_000);

  it('resource.d/ldirectord start, status (stdout, 0 / 3), stop', async () => {
    const rsc = cf('rsc.cf');
    const script = path.join(REPO_ROOT, 'resource.d', 'ldirectord');
    const run = (op: string): { status: number; stdout: string } => {
      const r = spawnSync(script, [rsc, op], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
      return { status: r.status ?? -1, stdout: r.stdout };
    };
    const before = run('status');
    expect(before).toEqual({ status: 3, stdout: `ldirectord is stopped for ${rsc}\n` });
    expect(run('start').status).toBe(0);
    await until('running', () => alive('rsc.cf'));
    const running = run('status');
    expect(running.status).toBe(0);
    expect(running.stdout).toMatch(new RegExp(`^ldirectord for ${rsc.replace(/[.]/g, '\\.')} is running with pid: \\d+\\n$`));
    expect(run('stop').status).toBe(0);
    expect(alive('rsc.cf')).toBe(false); // our stop waits until the daemon is gone
    expect(run('status')).toEqual({ status: 3, stdout: `ldirectord is stopped for ${rsc}\n` });
  }, 90_000);
});
