import { spawn, type ChildProcess } from 'node:child_process';
import { HbError } from '../errors.js';
import { SYSLOG_SEVERITY, type Priority } from './levels.js';
import type { LogRecord } from './record.js';
import type { LineSink } from './sink.js';

/** syslog facility codes (sys/syslog.h), by the names ha.cf and ldirectord.cf accept. */
export const SYSLOG_FACILITIES: Readonly<Record<string, number>> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7,
  uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

/** The facility number for a name; HbError LOG_BAD_FACILITY otherwise. `none` is the caller's business. */
export function syslogFacility(name: string): number {
  const code = SYSLOG_FACILITIES[name.toLowerCase()];
  if (code === undefined) throw new HbError('LOG_BAD_FACILITY', `unknown syslog facility ${name}`);
  return code;
}

export const DEV_LOG = '/dev/log';

export interface SyslogSinkOptions {
  /** openlog ident: `heartbeat`, `ldirectord`. */
  readonly ident: string;
  readonly facility: number;
  /** openlog(LOG_PID): syslog adds `[pid]` after the ident (ldirectord does, cl_log puts it in the text). */
  readonly logPid?: number;
  /** The local syslog socket; injectable for tests. */
  readonly socketPath?: string;
  /** ldirectord sends everything at one priority (info); cl_log uses each message's own. */
  readonly fixedPriority?: Priority;
  /** The util-linux logger binary. */
  readonly loggerCommand?: string;
}

/**
 * syslog(3) to the local datagram socket. Node has no AF_UNIX datagram
 * sockets, so one long-lived util-linux `logger` child does the sending:
 * each stdin line `<PRI>text` becomes one datagram
 * `<PRI>Mon DD HH:MM:SS ident: text`, as glibc's syslog(3) sends it.
 * Lost messages when syslog is down are lost silently, as with syslog(3).
 */
export class SyslogSink implements LineSink {
  private child: ChildProcess | undefined;
  readonly socketPath: string;

  constructor(private readonly opts: SyslogSinkOptions) {
    this.socketPath = opts.socketPath ?? DEV_LOG;
  }

  private start(): ChildProcess {
    const args = ['--prio-prefix', '--socket-errors=off', '--size', '8192', '-u', this.socketPath, '-t', this.opts.ident];
    if (this.opts.logPid !== undefined) args.push(`--id=${this.opts.logPid}`);
    const child = spawn(this.opts.loggerCommand ?? 'logger', args, { stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', () => {}); // no logger binary: syslog is silently lost, like an absent /dev/log
    child.stdin?.on('error', () => {});
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    // The logger must not keep a finished daemon alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  }

  write(line: string, rec: LogRecord): void {
    const pri = this.opts.facility * 8 + SYSLOG_SEVERITY[this.opts.fixedPriority ?? rec.priority];
    // One record must stay one datagram: logger would split at newlines.
    const text = line.replace(/\r?\n/g, ' ');
    this.child ??= this.start();
    this.child.stdin?.write(`<${pri}>${text}\n`);
  }

  reopen(): void {}

  /** Ends the logger child after it has sent everything written so far. */
  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
      child.stdin?.end();
    });
  }
}
