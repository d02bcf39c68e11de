/**
 * `heartbeat -k`, `-s`, `-r`: talking to a running daemon through its pid
 * file, with the original's messages and exit codes (resources-spec.md §5.1).
 */
import * as os from 'node:os';
import { HbError } from '../../shared/errors.js';
import { pidFileState, signalDaemon, stopDaemon } from '../../shared/daemon/index.js';
import type { DaemonPaths } from './paths.js';

type Write = (text: string) => void;
const out: Write = (t) => process.stdout.write(t);
const err: Write = (t) => process.stderr.write(t);

/** LSB status: 0 running, 1 dead with a pid file, 3 not running. */
export function statusCommand(paths: DaemonPaths, localNode: string, write: Write = out): number {
  const st = pidFileState(paths.pidFile);
  if (st.state === 'running') {
    write(`heartbeat OK [pid ${st.pid} et al] is running on ${os.hostname().toLowerCase()} [${localNode}]...\n`);
    return 0;
  }
  write('heartbeat is stopped. No process\n');
  return st.state === 'stale' ? 1 : 3;
}

/** TERM, then wait until it is gone; the graceful stop sends shutdone and beats 2 s more. */
export async function stopCommand(paths: DaemonPaths, opts: { timeoutMs?: number } = {}, write: Write = err): Promise<number> {
  try {
    const r = await stopDaemon(paths.pidFile, { timeoutMs: opts.timeoutMs ?? 90_000 });
    if (r === 'not-running') write('INFO: Heartbeat already stopped.\n');
    if (r === 'timeout') {
      write('ERROR: Heartbeat did not stop in time.\n');
      return 1;
    }
    return 0;
  } catch (e) {
    if (e instanceof HbError && e.code === 'DAEMON_KILL') {
      write(`ERROR: ${e.message}\n`);
      return (e.cause as NodeJS.ErrnoException | undefined)?.code === 'EPERM' ? 4 : 1;
    }
    throw e;
  }
}

/**
 * `-r` once the configuration validated: HUP to the running daemon. Returns
 * undefined when none runs (the caller then starts one, as the original does).
 */
export function reloadCommand(paths: DaemonPaths, write: Write = err): number | undefined {
  const st = pidFileState(paths.pidFile);
  if (st.state !== 'running') return undefined;
  write(`info: Signalling heartbeat pid ${st.pid} to reread config files\n`);
  try {
    const r = signalDaemon(paths.pidFile, 'SIGHUP');
    return r.sent ? 0 : undefined;
  } catch (e) {
    if (e instanceof HbError && e.code === 'DAEMON_KILL') {
      write(`ERROR: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
