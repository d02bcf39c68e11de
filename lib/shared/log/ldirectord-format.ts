import { perlLocaltime } from './clock.js';
import type { LineFormat } from './record.js';

/** ldirectord's logfile line: `[Sun Nov 22 02:45:38 2026|golden.cf|31726] Added virtual server: ...`. */
export function ldirectordFileLine(cfgName: string): LineFormat {
  return (r) => `[${perlLocaltime(r.time)}|${cfgName}|${r.pid}] ${r.msg}`;
}

/** supervised=yes, on stdout: `[Sun Nov 22 02:46:26 2026] Added virtual server: ...`. */
export const ldirectordSupervisedLine: LineFormat = (r) => `[${perlLocaltime(r.time)}] ${r.msg}`;

/** -d, on stderr: the bare message; debug lines as `DEBUG2: message`. */
export const ldirectordDebugModeLine: LineFormat = (r) =>
  r.priority === 'debug' ? `DEBUG${r.debugLevel ?? 0}: ${r.msg}` : r.msg;

/** Syslog body: ident `ldirectord` with the pid option carries the rest, so the text is bare. */
export const ldirectordSyslogBody: LineFormat = (r) => r.msg;
