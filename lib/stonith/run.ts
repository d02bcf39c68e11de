/**
 * Runs a plugin program with a bound: its own process group (so a timeout
 * kills the whole pipeline a script may have started), stdout collected up to
 * a limit, stderr logged line by line.
 */
import { spawn } from 'node:child_process';

export interface RunResult {
  /** Exit status; -1 when it could not start, was killed by a signal or timed out. */
  readonly code: number;
  readonly stdout: string;
  readonly timedOut: boolean;
  readonly error?: string;
}

const MAX_OUTPUT = 64 * 1024;

export function runProgram(
  file: string,
  args: readonly string[],
  o: { env?: NodeJS.ProcessEnv | undefined; timeoutMs?: number | undefined; onStderr?: (line: string) => void; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    let out = '';
    let errBuf = '';
    let timedOut = false;
    let done = false;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, [...args], { env: o.env ?? process.env, stdio: [o.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'], detached: true });
    } catch (e) {
      resolve({ code: -1, stdout: '', timedOut: false, error: (e as Error).message });
      return;
    }
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer =
      o.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            killGroup();
          }, o.timeoutMs)
        : undefined;
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      if (out.length < MAX_OUTPUT) out += d;
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      errBuf += d;
      let i: number;
      while ((i = errBuf.indexOf('\n')) >= 0) {
        const line = errBuf.slice(0, i);
        errBuf = errBuf.slice(i + 1);
        if (line.trim() !== '') o.onStderr?.(line);
      }
    });
    if (o.input !== undefined) child.stdin!.end(o.input);
    const finish = (r: RunResult): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      if (errBuf.trim() !== '') o.onStderr?.(errBuf.trim());
      resolve(r);
    };
    child.on('error', (e) => finish({ code: -1, stdout: out, timedOut, error: e.message }));
    child.on('close', (code, signal) => {
      // A script's background children may hold the pipes: the group goes with it.
      if (timedOut) killGroup();
      finish({ code: code ?? -1, stdout: out, timedOut, ...(signal !== null ? { error: `killed by signal ${signal}` } : {}) });
    });
  });
}
