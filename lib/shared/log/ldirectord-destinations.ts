import { FileSink } from './file-sink.js';
import { ldirectordDebugModeLine, ldirectordFileLine, ldirectordSupervisedLine, ldirectordSyslogBody } from './ldirectord-format.js';
import type { Destination } from './sink.js';
import { FdSink } from './stream-sink.js';
import { syslogFacility, SyslogSink } from './syslog-sink.js';

export const LDIRECTORD_DEFAULT_LOGFILE = '/var/log/ldirectord.log';

export interface LdirectordLoggingOptions {
  /** `logfile=` as written: `/abs/path` is a file, anything else a syslog facility. */
  readonly logfile?: string;
  readonly supervised?: boolean;
  /** `-d`: everything to stderr, nothing else. */
  readonly debugMode?: boolean;
  /** Basename of the config argument (`ldirectord` without one). */
  readonly cfgName: string;
  readonly pid?: number;
  readonly syslogSocket?: string;
}

/** ldirectord's ld_log routing: -d wins, then supervised (stdout), then logfile. */
export function ldirectordDestinations(o: LdirectordLoggingOptions): Destination[] {
  if (o.debugMode) return [{ name: 'stderr', minPriority: 'debug', format: ldirectordDebugModeLine, sink: new FdSink(2) }];
  if (o.supervised) return [{ name: 'stdout', minPriority: 'info', format: ldirectordSupervisedLine, sink: new FdSink(1) }];
  const logfile = o.logfile ?? LDIRECTORD_DEFAULT_LOGFILE;
  if (logfile.startsWith('/')) {
    return [{ name: 'logfile', minPriority: 'info', format: ldirectordFileLine(o.cfgName), sink: new FileSink(logfile, { openPerLine: true, lineToStderrOnFailure: true }) }];
  }
  return [
    {
      name: 'syslog',
      minPriority: 'info',
      format: ldirectordSyslogBody,
      sink: new SyslogSink({
        ident: 'ldirectord',
        facility: syslogFacility(logfile),
        logPid: o.pid ?? process.pid,
        fixedPriority: 'info',
        ...(o.syslogSocket !== undefined ? { socketPath: o.syslogSocket } : {}),
      }),
    },
  ];
}
