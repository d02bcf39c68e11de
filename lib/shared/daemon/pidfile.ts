import * as fs from 'node:fs';
import * as path from 'node:path';
import { HbError } from '../errors.js';

/**
 * Pid files as cluster-glue's cl_lock_pidfile keeps them: the pid as ten
 * right-aligned digits and a newline (the HDB lock format), written to
 * `FILE.PID` and hard-linked into place so two starters cannot both win.
 */

export type PidFileState =
  | { readonly state: 'absent' }
  | { readonly state: 'running'; readonly pid: number }
  /** The file names no live process (or holds no pid): heartbeat -s exits 1, ldirectord status says "stale". */
  | { readonly state: 'stale'; readonly pid?: number };

export interface ProcessProbe {
  /** /proc, injectable for tests. */
  readonly procRoot?: string;
  /**
   * Only count the process as ours when its /proc/PID/cmdline contains this
   * (ldirectord's check, against a recycled pid).
   */
  readonly cmdlineContains?: string;
}

export function formatPidFileContent(pid: number): string {
  return String(pid).padStart(10, ' ') + '\n';
}

/** The pid in a pid file (leading blanks allowed, like sscanf %lu); undefined when absent or unparsable. */
export function readPidFile(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HbError('PIDFILE_READ', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  const m = /^\s*(\d+)/.exec(text);
  if (m === null) return undefined;
  const pid = Number(m[1]);
  return pid > 0 && Number.isSafeInteger(pid) ? pid : undefined;
}

/**
 * A killed daemon whose parent does not reap it (an orphan under an init that
 * is slow to, or a container's pid 1 that never does) stays a zombie: dead,
 * though /proc/PID still exists.
 */
function isZombie(dir: string): boolean {
  try {
    const stat = fs.readFileSync(path.join(dir, 'stat'), 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}

/** Whether pid is a live process (and, when asked, one whose command line names us). */
export function isProcessRunning(pid: number, probe: ProcessProbe = {}): boolean {
  const dir = path.join(probe.procRoot ?? '/proc', String(pid));
  if (isZombie(dir)) return false;
  if (probe.cmdlineContains === undefined) return fs.existsSync(dir);
  try {
    const cmdline = fs.readFileSync(path.join(dir, 'cmdline'), 'latin1').replace(/\0/g, ' ');
    return cmdline.includes(probe.cmdlineContains);
  } catch {
    return false;
  }
}

export function pidFileState(file: string, probe: ProcessProbe = {}): PidFileState {
  if (!fs.existsSync(file)) return { state: 'absent' };
  const pid = readPidFile(file);
  if (pid === undefined) return { state: 'stale' };
  // Our own pid in the file is a leftover of a previous life (pid reused), as cl_pidfile treats it.
  if (pid !== process.pid && isProcessRunning(pid, probe)) return { state: 'running', pid };
  return { state: 'stale', pid };
}

/** HbError for "another instance is running"; `pid` is the other one. */
export class PidFileBusyError extends HbError {
  constructor(
    readonly file: string,
    readonly pid: number,
  ) {
    super('PIDFILE_BUSY', `already running [pid ${pid}].`);
    this.name = 'PidFileBusyError';
  }
}

/**
 * Takes the pid file for `pid` (this process by default): a stale file is
 * removed, a live one refused with PidFileBusyError. Atomic: write a private
 * temp file, then link() it into place; link fails if someone else won.
 */
export function createPidFile(file: string, pid: number = process.pid, probe: ProcessProbe = {}): void {
  for (let attempt = 0; attempt < 3; attempt++) {
    const st = pidFileState(file, probe);
    if (st.state === 'running') throw new PidFileBusyError(file, st.pid);
    if (st.state === 'stale') fs.rmSync(file, { force: true });
    const tmp = `${file}.${pid}`;
    try {
      fs.writeFileSync(tmp, formatPidFileContent(pid), { flag: 'wx', mode: 0o644 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new HbError('PIDFILE_WRITE', `cannot write ${tmp}: ${(e as Error).message}`, { cause: e });
      }
      fs.rmSync(tmp, { force: true }); // our own leftover: same pid, earlier life
      continue;
    }
    try {
      fs.linkSync(tmp, file);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new HbError('PIDFILE_WRITE', `cannot create ${file}: ${(e as Error).message}`, { cause: e });
      }
      // Lost a race: look again at who holds it.
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  const st = pidFileState(file, probe);
  if (st.state === 'running') throw new PidFileBusyError(file, st.pid);
  throw new HbError('PIDFILE_WRITE', `cannot create ${file}: it keeps changing under us`);
}

/** Removes the pid file if it still names `pid`; returns whether it did. Never throws (runs at exit). */
export function removePidFile(file: string, pid: number = process.pid): boolean {
  try {
    if (readPidFile(file) !== pid) return false;
    fs.unlinkSync(file);
    return true;
  } catch {
    return false;
  }
}

/** Removes our pid file when the process exits, however it exits normally. */
export function removePidFileOnExit(file: string, pid: number = process.pid): () => void {
  const handler = () => removePidFile(file, pid);
  process.on('exit', handler);
  return () => process.off('exit', handler);
}
