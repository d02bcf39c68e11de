import { haTimestamp, syslogStyleTimestamp } from './clock.js';
import { CL_LOG_WORD } from './levels.js';
import type { LineFormat, LogRecord } from './record.js';

/**
 * The line layouts of cluster-glue's cl_log (heartbeat, ipfail, ccm,
 * cl_status) and of the shell ha_log used by resource scripts.
 */

/** `syslogmsgfmt false`: `heartbeat[1234]: 2008/07/06_23:27:46 info: Link node2:eth0 up.` */
export function haClassicLine(entity: string): LineFormat {
  return (r) => `${entity}[${r.pid}]: ${haTimestamp(r.time)} ${CL_LOG_WORD[r.priority]}: ${r.msg}`;
}

/** `syslogmsgfmt true` (3.0.6 default): `Nov 22 03:00:34 node1 heartbeat: [13]: info: ...`. */
export function haSyslogFmtLine(entity: string, hostname: string): LineFormat {
  return (r) => `${syslogStyleTimestamp(r.time)} ${hostname} ${entity}: [${r.pid}]: ${CL_LOG_WORD[r.priority]}: ${r.msg}`;
}

/** The text cl_log hands to syslog(3) under ident `{entity}`: `[13]: info: ...`. */
export function haSyslogBody(r: LogRecord): string {
  return `[${r.pid}]: ${CL_LOG_WORD[r.priority]}: ${r.msg}`;
}

/**
 * ha_log tag of a resource script: `ResourceManager(default)[1234]`
 * (resource-agents 4.x; `default` for non-OCF scripts), or `harc[20]` classic.
 */
export function haScriptTag(script: string, pid: number, instance?: string): string {
  return instance === undefined ? `${script}[${pid}]` : `${script}(${instance})[${pid}]`;
}

/**
 * Script lines carry their own level word in the text (`info: Running ...`,
 * `INFO:  Success`), so these layouts take the text as is.
 * Logfile (resource-agents 4.x): `2026/11/22_03:00:34  tag:    text`.
 */
export function haScriptLogfileLine(tag: string, time: number, text: string): string {
  return `${haTimestamp(time)}  ${tag}:    ${text}`;
}

/** Debug file, and classic logfile: `tag:\t2026/11/22_02:44:58 text`. */
export function haScriptDebugfileLine(tag: string, time: number, text: string): string {
  return `${tag}:\t${haTimestamp(time)} ${text}`;
}
