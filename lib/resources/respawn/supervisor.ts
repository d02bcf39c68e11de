/**
 * The I/O shell of `respawn` / `failfast`: each client child runs as
 * `/bin/sh -c "exec COMMAND"` under the ha.cf user's uid and primary gid, in
 * its own process group, with stdio on /dev/null, as the original starts it.
 * Exits go through RespawnPolicy; at shutdown the children are stopped one
 * at a time, last one first (SIGTERM to the process group, then the next).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { IPFAIL_PATHS } from '../../config/hacf/directives.js';
import { RespawnPolicy, type RespawnLogLevel, type RespawnPolicyOptions } from './policy.js';

export interface ClientChildSpec {
  readonly user: string;
  /** The command line as written in ha.cf. */
  readonly command: string;
  /** Its program (first word, absolute). */
  readonly path: string;
  readonly failfast: boolean;
}

export interface SupervisorLog {
  emerg(msg: string): void;
  error(msg: string): void;
  info(msg: string): void;
  debug(level: number, msg: string): void;
}

export interface SupervisorOptions {
  readonly children: readonly ClientChildSpec[];
  readonly log: SupervisorLog;
  /** The children's environment (HA_* logging variables, HEARTBEAT_RUN_DIR ...). */
  readonly env: NodeJS.ProcessEnv;
  /** Our bin folder: a respawn line naming the original's ipfail runs `<binDir>/ipfail`. */
  readonly binDir?: string;
  /** /etc for the passwd lookup (tests). */
  readonly etcDir?: string;
  readonly policy?: RespawnPolicyOptions;
  /** failfast's reboot (default `reboot -f`; env HA_FAILFAST_COMMAND overrides, for tests). */
  readonly rebootCommand?: readonly string[];
  /** How long a child may take to die at shutdown before SIGKILL (the original waits forever). */
  readonly stopTimeoutMs?: number;
  readonly now?: () => number;
}

interface Running {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly startedAt: number;
  readonly exited: Promise<void>;
}

interface Entry {
  readonly spec: ClientChildSpec;
  /** What actually runs (the ipfail stand-in substituted). */
  readonly command: string;
  readonly policy: RespawnPolicy;
  running: Running | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** uid and primary gid of a user from passwd (getpwnam). */
export function lookupUser(user: string, etcDir = '/etc'): { uid: number; gid: number } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(etcDir, 'passwd'), 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === user && /^\d+$/.test(f[2] ?? '') && /^\d+$/.test(f[3] ?? '')) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

/** The command to run: the original's ipfail paths become our bin/ipfail, the arguments kept. */
export function clientCommand(spec: ClientChildSpec, binDir: string | undefined): string {
  if (binDir === undefined || !IPFAIL_PATHS.includes(spec.path)) return spec.command;
  return path.join(binDir, 'ipfail') + spec.command.slice(spec.path.length);
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

export class RespawnSupervisor {
  private readonly entries: Entry[];
  private shuttingDown = false;
  private readonly now: () => number;

  constructor(private readonly o: SupervisorOptions) {
    this.now = o.now ?? (() => performance.now());
    this.entries = o.children.map((spec) => ({
      spec,
      command: clientCommand(spec, o.binDir),
      policy: new RespawnPolicy(spec.command, spec.failfast, o.policy),
      running: undefined,
      timer: undefined,
    }));
  }

  /** Pids of the children running now, in ha.cf order (tests, debug). */
  pids(): (number | undefined)[] {
    return this.entries.map((e) => e.running?.pid);
  }

  /** Starts every child (at comm-up). */
  start(): void {
    for (const e of this.entries) this.startOne(e);
  }

  private stopping: Promise<void> | undefined;

  /** Stops the children one at a time, the last one first; resolves when all are gone (idempotent). */
  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    this.shuttingDown = true;
    for (const e of [...this.entries].reverse()) {
      if (e.timer !== undefined) clearTimeout(e.timer);
      e.timer = undefined;
      const r = e.running;
      if (r === undefined) {
        this.o.log.info(`client [${e.spec.command}] is not running.`);
        continue;
      }
      this.o.log.info(`killing ${e.spec.command} process group ${r.pid} with signal 15`);
      this.signal(r.pid, 'SIGTERM');
      const limit = this.o.stopTimeoutMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), limit);
      });
      if ((await Promise.race([r.exited, late])) === 'late') {
        this.o.log.error(`client ${e.spec.command} did not stop within ${limit} ms; killing process group ${r.pid} with signal 9`);
        this.signal(r.pid, 'SIGKILL');
        await r.exited;
      }
      clearTimeout(timer);
    }
  }

  private signal(pid: number, sig: NodeJS.Signals): void {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
  }

  private startOne(e: Entry): void {
    if (this.shuttingDown) return;
    const { spec } = e;
    const who = lookupUser(spec.user, this.o.etcDir);
    if (who === undefined) {
      this.o.log.error(`Invalid uid [${spec.user}] specified for client child`);
      return;
    }
    this.o.log.info(`Starting child client "${spec.command}" (${who.uid},${who.gid})`);
    const program = e.command.split(/[ \t]+/)[0]!;
    try {
      fs.accessSync(program, fs.constants.X_OK);
    } catch (err) {
      this.o.log.error(`Cannot exec ${spec.command}: ${(err as NodeJS.ErrnoException).message}`);
      return;
    }
    const asOther = process.getuid?.() === 0 || who.uid !== process.getuid?.();
    let child: ChildProcess;
    try {
      child = spawn('/bin/sh', ['-c', `exec ${e.command}`], {
        cwd: '/',
        env: this.o.env,
        stdio: 'ignore',
        detached: true,
        ...(asOther ? { uid: who.uid, gid: who.gid } : {}),
      });
    } catch (err) {
      this.o.log.error(`Cannot setup child process ${spec.command}: ${(err as Error).message}`);
      return;
    }
    const startedAt = this.now();
    let signalled = 0;
    let code: number | null = null;
    const exited = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        this.o.log.error(`Cannot exec ${spec.command}: ${err.message}`);
        code = 100; // as the original's child exits 100 when its exec fails: no respawn
        resolve();
      });
      child.once('exit', (c, sig) => {
        code = c;
        signalled = sig !== null ? (SIGNALS[sig] ?? 0) : 0;
        resolve();
      });
    });
    const pid = child.pid ?? 0;
    e.running = { child, pid, startedAt, exited };
    if (pid !== 0) this.o.log.info(`Starting "${spec.command}" as uid ${who.uid}  gid ${who.gid} (pid ${pid})`);
    void exited.then(() => this.exited(e, pid, startedAt, code, signalled));
  }

  private exited(e: Entry, pid: number, startedAt: number, code: number | null, signal: number): void {
    e.running = undefined;
    const d = e.policy.afterExit({ startedAt, now: this.now(), pid, exitCode: code, signal, shuttingDown: this.shuttingDown });
    for (const l of d.logs) this.logAt(l.level, l.text);
    if (d.reboot) {
      this.reboot();
      return;
    }
    if (!d.restart || this.shuttingDown) return;
    if (d.delayMs <= 0) this.startOne(e);
    else
      e.timer = setTimeout(() => {
        e.timer = undefined;
        this.startOne(e);
      }, d.delayMs);
  }

  private reboot(): void {
    const fromEnv = process.env['HA_FAILFAST_COMMAND'];
    const cmd = fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv.trim().split(/\s+/) : (this.o.rebootCommand ?? ['reboot', '-f']);
    const r = spawnSync(cmd[0]!, cmd.slice(1), { stdio: 'ignore' });
    if (r.error !== undefined || r.status !== 0) this.o.log.error(`failfast: ${cmd.join(' ')} failed: ${r.error?.message ?? `exit ${r.status}`}`);
  }

  private logAt(level: RespawnLogLevel, text: string): void {
    if (level === 'EMERG') this.o.log.emerg(text);
    else if (level === 'ERROR') this.o.log.error(text);
    else if (level === 'info') this.o.log.info(text);
    else this.o.log.debug(1, text);
  }
}
