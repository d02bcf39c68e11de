/**
 * Runs one resource script call with a time limit. The original had none (a
 * hung script blocked heartbeat for good); here every call is bounded, and a
 * call that runs out of time is killed with its whole process group and
 * counts as a failure.
 */
import { spawn } from 'node:child_process';

export interface ScriptRun {
  /** Exit status; 128+n for a signal; undefined when it could not be started. */
  readonly rc: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** Why it could not be started (ENOENT, EACCES, …). */
  readonly spawnError?: string;
}

export interface RunScriptOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  /** After SIGTERM on timeout, how long before SIGKILL (and before giving up on the pipes). */
  readonly killGraceMs?: number;
  /** Output beyond this many bytes per stream is dropped. */
  readonly maxOutput?: number;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGSEGV: 11, SIGABRT: 6, SIGPIPE: 13 };

export function runScript(file: string, args: readonly string[], o: RunScriptOptions): Promise<ScriptRun> {
  const grace = o.killGraceMs ?? 2_000;
  const max = o.maxOutput ?? 1 << 20;
  return new Promise((resolve) => {
    let child;
    try {
      // Its own process group, so a timeout kills what the script started too.
      child = spawn(file, [...args], { env: o.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (e) {
      resolve({ rc: undefined, stdout: '', stderr: '', timedOut: false, spawnError: (e as Error).message });
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    child.stdout.on('data', (b: Buffer) => {
      if (outLen < max) out.push(b);
      outLen += b.length;
    });
    child.stderr.on('data', (b: Buffer) => {
      if (errLen < max) err.push(b);
      errLen += b.length;
    });
    let timedOut = false;
    let done = false;
    let killTimer: NodeJS.Timeout | undefined;
    let giveUpTimer: NodeJS.Timeout | undefined;
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        /* already gone */
      }
    };
    const finish = (r: ScriptRun) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      if (giveUpTimer) clearTimeout(giveUpTimer);
      resolve(r);
    };
    const text = (bs: Buffer[]) => Buffer.concat(bs).toString('utf8');
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => {
        killGroup('SIGKILL');
        // A grandchild outside the group may hold the pipes open: do not wait for it.
        giveUpTimer = setTimeout(() => finish({ rc: 137, stdout: text(out), stderr: text(err), timedOut: true }), grace);
      }, grace);
    }, o.timeoutMs);
    child.on('error', (e) => finish({ rc: undefined, stdout: text(out), stderr: text(err), timedOut, spawnError: e.message }));
    child.on('close', (code, signal) => {
      const rc = code ?? (signal !== null ? 128 + (SIGNALS[signal] ?? 0) : undefined);
      finish({ rc, stdout: text(out), stderr: text(err), timedOut });
    });
  });
}
