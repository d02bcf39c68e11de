import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { HbError } from '../errors.js';

/**
 * Node cannot fork(), so "go to the background" is: start ourselves again,
 * detached (setsid), stdio on /dev/null, cwd `/`, with an environment marker
 * telling the copy it is the daemon. The parent stays until the daemon says
 * how its start went over an extra pipe (fd 3), then exits with that status:
 * `heartbeat` returns 0 only once the daemon holds its pid file, and a
 * start-up failure in the daemon still reaches the admin's terminal.
 */

/** Set in the daemon's environment; removed again by daemonChildChannel(). */
export const DAEMON_CHILD_ENV = 'HBTS_DAEMON_CHILD';
/** The status pipe's descriptor in the daemon. */
export const STATUS_FD = 3;

export type DaemonStartResult =
  | { readonly ok: true; readonly pid: number }
  | { readonly ok: false; readonly exitCode: number; readonly message: string };

export interface SpawnDaemonOptions {
  /** Defaults to this very process: node, its exec flags, the script and its arguments. */
  readonly command?: string;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** `/` like a classic daemon, so it never holds a mount busy. */
  readonly cwd?: string;
  /** How long to wait for the daemon's verdict. */
  readonly timeoutMs?: number;
}

const LINE_MAX = 4096;

/** Starts the daemon copy and waits (bounded) for READY or FAIL from it. */
export function spawnDaemon(opts: SpawnDaemonOptions = {}): Promise<DaemonStartResult> {
  const command = opts.command ?? process.execPath;
  const args = opts.args ?? [...process.execArgv, ...process.argv.slice(1)];
  const child = spawn(command, args, {
    cwd: opts.cwd ?? '/',
    env: { ...(opts.env ?? process.env), [DAEMON_CHILD_ENV]: '1' },
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  });
  const status = child.stdio[STATUS_FD] as Readable | null;
  return new Promise<DaemonStartResult>((resolve) => {
    let buf = '';
    let settled = false;
    const finish = (r: DaemonStartResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      status?.destroy();
      // From here on the daemon lives on its own; the parent may exit.
      child.unref();
      resolve(r);
    };
    const timer = setTimeout(
      () => finish({ ok: false, exitCode: 1, message: `daemon did not report its start within ${opts.timeoutMs ?? 30_000} ms` }),
      opts.timeoutMs ?? 30_000,
    );
    child.on('error', (e) => finish({ ok: false, exitCode: 1, message: `cannot start daemon: ${e.message}` }));
    child.on('exit', (code, signal) => {
      const exited = () =>
        finish({
          ok: false,
          exitCode: code ?? 1,
          message: signal !== null ? `daemon killed by ${signal} during start-up` : `daemon exited with status ${code} during start-up`,
        });
      // A FAIL line written just before exit may still be in the pipe: read to
      // its end first (bounded, a grandchild might hold the pipe open).
      if (status === null || status.readableEnded || status.destroyed) return exited();
      const grace = setTimeout(exited, 1000);
      status.once('close', () => {
        clearTimeout(grace);
        exited();
      });
    });
    status?.setEncoding('utf8');
    status?.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > LINE_MAX) finish({ ok: false, exitCode: 1, message: 'daemon sent a garbled start report' });
        return;
      }
      finish(parseStatusLine(buf.slice(0, nl)));
    });
    status?.on('error', () => {});
  });
}

export function parseStatusLine(line: string): DaemonStartResult {
  const ready = /^READY (\d+)$/.exec(line);
  if (ready) return { ok: true, pid: Number(ready[1]) };
  const fail = /^FAIL (\d+) ?(.*)$/.exec(line);
  if (fail) return { ok: false, exitCode: Number(fail[1]), message: fail[2] ?? '' };
  return { ok: false, exitCode: 1, message: `daemon sent a garbled start report: ${line}` };
}

/** The daemon's end of the status pipe; report exactly once. */
export class DaemonChildChannel {
  private open = true;
  constructor(private readonly fd: number = STATUS_FD) {}

  /** Call once the pid file is written and the daemon is serving. */
  ready(pid: number = process.pid): void {
    this.send(`READY ${pid}\n`);
  }

  /** The start failed: the parent prints `message` and exits with `exitCode`. */
  failed(exitCode: number, message: string): void {
    this.send(`FAIL ${exitCode} ${message.replace(/\n/g, ' ')}\n`);
  }

  private send(line: string): void {
    if (!this.open) throw new HbError('DAEMON_REPORTED', 'daemon start already reported');
    this.open = false;
    try {
      fs.writeSync(this.fd, line);
    } catch {
      /* parent gone (timed out or killed): nobody to tell */
    }
    try {
      fs.closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}

/**
 * In the daemon copy: the channel to report on, with the marker removed from
 * the environment so our own children (resource scripts) do not inherit it.
 * Undefined when this process was not started by spawnDaemon.
 */
export function daemonChildChannel(env: NodeJS.ProcessEnv = process.env, fd: number = STATUS_FD): DaemonChildChannel | undefined {
  if (env[DAEMON_CHILD_ENV] !== '1') return undefined;
  delete env[DAEMON_CHILD_ENV];
  // A stray marker in an admin's environment must not make us write into
  // whatever fd 3 happens to be: spawnDaemon's status pipe is a socket.
  try {
    if (!fs.fstatSync(fd).isSocket()) return undefined;
  } catch {
    return undefined;
  }
  return new DaemonChildChannel(fd);
}
