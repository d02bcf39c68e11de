import * as fs from 'node:fs';
import { HbError } from '../errors.js';
import { isProcessRunning, pidFileState, type PidFileState, type ProcessProbe } from './pidfile.js';

/**
 * What `heartbeat -k`, `heartbeat -r`, `ldirectord stop|reload` do to a
 * running daemon found through its pid file.
 */

export type SignalOutcome = { readonly sent: true; readonly pid: number } | { readonly sent: false; readonly state: Exclude<PidFileState, { state: 'running' }> };

/** Sends `signal` to the daemon named by the pid file, if it runs. HbError DAEMON_KILL when kill() fails (EPERM). */
export function signalDaemon(pidFile: string, signal: NodeJS.Signals, probe: ProcessProbe = {}): SignalOutcome {
  const st = pidFileState(pidFile, probe);
  if (st.state !== 'running') return { sent: false, state: st };
  try {
    process.kill(st.pid, signal);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return { sent: false, state: { state: 'stale', pid: st.pid } };
    // heartbeat -k: `ERROR: Could not kill pid {pid}` + perror
    throw new HbError('DAEMON_KILL', `Could not kill pid ${st.pid}: ${(e as Error).message}`, { cause: e });
  }
  return { sent: true, pid: st.pid };
}

export type StopOutcome = 'stopped' | 'not-running' | 'timeout';

export interface StopOptions extends ProcessProbe {
  readonly timeoutMs?: number;
  /** How often to look whether it is gone. */
  readonly pollMs?: number;
}

/** SIGTERM, then wait (bounded) until the process is gone. */
export async function stopDaemon(pidFile: string, opts: StopOptions = {}): Promise<StopOutcome> {
  const r = signalDaemon(pidFile, 'SIGTERM', opts);
  if (!r.sent) return 'not-running';
  const deadline = Date.now() + (opts.timeoutMs ?? 30 * 60_000);
  const probe: ProcessProbe = opts.procRoot !== undefined ? { procRoot: opts.procRoot } : {};
  while (isProcessRunning(r.pid, probe) && !isZombie(r.pid, opts.procRoot)) {
    if (Date.now() >= deadline) return 'timeout';
    await new Promise((res) => setTimeout(res, opts.pollMs ?? 100));
  }
  return 'stopped';
}

/** A process that has exited but not been reaped yet (state Z in /proc/PID/stat) is gone for our purposes. */
function isZombie(pid: number, procRoot = '/proc'): boolean {
  let stat: string;
  try {
    stat = fs.readFileSync(`${procRoot}/${pid}/stat`, 'latin1');
  } catch {
    return false;
  }
  // `pid (comm) S ...`: comm may contain blanks and parentheses, the state follows the last `)`.
  return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z';
}
