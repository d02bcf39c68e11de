import * as os from 'node:os';
import type { Priority } from './levels.js';
import { haSyslogBody, haClassicLine, haSyslogFmtLine } from './heartbeat-format.js';
import { FileSink } from './file-sink.js';
import { FdSink } from './stream-sink.js';
import type { Destination } from './sink.js';
import { syslogFacility, SyslogSink } from './syslog-sink.js';

/** The ha.cf logging directives, as the ha.cf parser hands them over (values as written). */
export interface HaLoggingDirectives {
  readonly logfile?: string;
  readonly debugfile?: string;
  /** A facility name, or `none` to turn syslog off. */
  readonly logfacility?: string;
  readonly useLogd?: boolean;
  /** Default true in 3.0.6. */
  readonly syslogmsgfmt?: boolean;
}

export interface HaDestinationOptions {
  /** `heartbeat`, `ipfail`, `ccm`, `cl_status`. */
  readonly entity: string;
  /** uname -n, printed in syslogmsgfmt lines; os.hostname() by default. */
  readonly hostname?: string;
  /** Also write to stderr (foreground `-f`, and the parent until it has daemonized). */
  readonly stderr?: boolean;
  /** Injected /dev/log for tests. */
  readonly syslogSocket?: string;
}

/** When ha.cf names none of logfile/debugfile/logfacility, heartbeat would use logd; logd's default is syslog `daemon`. */
export const DEFAULT_FACILITY = 'daemon';

/**
 * Maps ha.cf to destinations as cl_log routes messages: the debugfile gets
 * everything, the logfile everything but debug, syslog everything (syslogd
 * filters by priority). We have no logd: `use_logd yes` logs directly, which is
 * what cl_log does whenever logd is not there.
 */
export function haDestinations(d: HaLoggingDirectives, o: HaDestinationOptions): Destination[] {
  const fileFormat = d.syslogmsgfmt === false ? haClassicLine(o.entity) : haSyslogFmtLine(o.entity, o.hostname ?? os.hostname());
  const out: Destination[] = [];
  const file = (name: string, path: string, minPriority: Priority): Destination => ({
    name,
    minPriority,
    format: fileFormat,
    // cl_log opens and closes the file per message, so the shipped logrotate
    // config needs no signal; we do the same.
    sink: new FileSink(path, { openPerLine: true }),
  });
  if (d.logfile !== undefined) out.push(file('logfile', d.logfile, 'info'));
  if (d.debugfile !== undefined) out.push(file('debugfile', d.debugfile, 'debug'));
  const noEntry = d.logfile === undefined && d.debugfile === undefined && d.logfacility === undefined;
  const facility = d.logfacility ?? (noEntry ? DEFAULT_FACILITY : undefined);
  if (facility !== undefined && facility.toLowerCase() !== 'none') {
    out.push({
      name: 'syslog',
      minPriority: 'debug',
      format: haSyslogBody,
      sink: new SyslogSink({
        ident: o.entity,
        facility: syslogFacility(facility),
        ...(o.syslogSocket !== undefined ? { socketPath: o.syslogSocket } : {}),
      }),
    });
  }
  if (o.stderr) out.push({ name: 'stderr', minPriority: 'debug', format: fileFormat, sink: new FdSink(2) });
  return out;
}

/** The environment heartbeat gives its children (resource scripts read it in ha_log). */
export function haLoggingEnv(d: HaLoggingDirectives, debugLevel = 0): Record<string, string> {
  const env: Record<string, string> = {};
  if (d.logfile !== undefined) env.HA_LOGFILE = d.logfile;
  if (d.debugfile !== undefined) env.HA_DEBUGLOG = d.debugfile;
  if (d.logfacility !== undefined && d.logfacility.toLowerCase() !== 'none') env.HA_LOGFACILITY = d.logfacility;
  if (d.useLogd !== undefined) env.HA_LOGD = d.useLogd ? 'yes' : 'no';
  if (debugLevel > 0) env.HA_debug = String(debugLevel);
  return env;
}

/** Start-up notices about logging, exact texts of 3.0.6 (the daemon decides when to log them). */
export const NO_LOG_ENTRY_NOTICE = 'No log entry found in ha.cf -- use logd';
export const LOGD_DISABLED_WARNING = 'Logging daemon is disabled --enabling logging daemon is recommended';

export function haLoggingNotices(d: HaLoggingDirectives): { priority: Priority; msg: string }[] {
  const out: { priority: Priority; msg: string }[] = [];
  if (d.logfile === undefined && d.debugfile === undefined && d.logfacility === undefined) out.push({ priority: 'info', msg: NO_LOG_ENTRY_NOTICE });
  else if (d.useLogd !== true) out.push({ priority: 'warn', msg: LOGD_DISABLED_WARNING });
  return out;
}
