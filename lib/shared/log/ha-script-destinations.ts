import { FileSink } from './file-sink.js';
import type { HaLoggingDirectives } from './hacf-destinations.js';
import { haScriptDebugfileLine, haScriptLogfileLine } from './heartbeat-format.js';
import { CL_LOG_WORD } from './levels.js';
import type { LineFormat, LogRecord } from './record.js';
import type { Destination } from './sink.js';
import { FdSink } from './stream-sink.js';
import { syslogFacility, SyslogSink } from './syslog-sink.js';

/**
 * Lines of the resource-script layer (ResourceManager, harc, mach_down,
 * req_resource) when we write them from TypeScript, laid out as the shell's
 * ha_log does, so that one ha-log interleaves both kinds exactly like the
 * recordings. The text starts with its level word as the scripts write it:
 * `info: Running ...`, `ERROR: Return code 1 from ...`, `CRIT: ...`.
 */
export const haScriptText = (r: LogRecord): string => `${CL_LOG_WORD[r.priority]}: ${r.msg}`;

/** `2026/11/22_03:00:34  ResourceManager(default)[390]:    info: ...` */
export function haScriptLogfileFormat(tag: string): LineFormat {
  return (r) => haScriptLogfileLine(tag, r.time, haScriptText(r));
}

/** `ResourceManager(default)[508]:\t2026/11/22_02:44:58 info: ...` */
export function haScriptDebugfileFormat(tag: string): LineFormat {
  return (r) => haScriptDebugfileLine(tag, r.time, haScriptText(r));
}

export interface HaScriptDestinationOptions {
  /** haScriptTag(): `ResourceManager(default)[1234]`. */
  readonly tag: string;
  /** ha_log run from a terminal writes to stderr only. */
  readonly terminal?: boolean;
  readonly syslogSocket?: string;
}

/**
 * ha_log's routing: terminal → stderr only; otherwise syslog with the tag as
 * ident (`logger -t TAG`) when a facility is set, logfile (not debug) and
 * debugfile (everything).
 */
export function haScriptDestinations(d: HaLoggingDirectives, o: HaScriptDestinationOptions): Destination[] {
  if (o.terminal) return [{ name: 'stderr', minPriority: 'debug', format: haScriptText, sink: new FdSink(2) }];
  const out: Destination[] = [];
  if (d.logfacility !== undefined && d.logfacility.toLowerCase() !== 'none') {
    out.push({
      name: 'syslog',
      minPriority: 'debug',
      format: haScriptText,
      sink: new SyslogSink({
        ident: o.tag,
        facility: syslogFacility(d.logfacility),
        ...(o.syslogSocket !== undefined ? { socketPath: o.syslogSocket } : {}),
      }),
    });
  }
  if (d.logfile !== undefined) out.push({ name: 'logfile', minPriority: 'info', format: haScriptLogfileFormat(o.tag), sink: new FileSink(d.logfile, { openPerLine: true }) });
  if (d.debugfile !== undefined) out.push({ name: 'debugfile', minPriority: 'debug', format: haScriptDebugfileFormat(o.tag), sink: new FileSink(d.debugfile, { openPerLine: true }) });
  return out;
}
