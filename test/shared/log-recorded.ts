import * as fs from 'node:fs';
import * as path from 'node:path';
import { REFERENCE } from '../helpers/env.js';
import type { Priority } from '../../lib/shared/log/levels.js';

/** Parsers for lines in the recorded logs under shared/reference, for format tests. */

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const WORD_TO_PRIORITY: Record<string, Priority> = {
  EMERG: 'emerg', ALERT: 'alert', CRIT: 'crit', ERROR: 'error', WARN: 'warn', notice: 'notice', info: 'info', debug: 'debug',
};

export function readReference(...parts: string[]): string[] {
  return fs.readFileSync(path.join(REFERENCE, ...parts), 'utf8').split('\n').filter((l) => l !== '');
}

/** Local time, as the originals print it: the formatters must give back the same fields. */
export function localMs(y: number, mon: number, d: number, h: number, mi: number, s: number): number {
  return new Date(y, mon, d, h, mi, s).getTime();
}

export interface DaemonLine {
  line: string;
  time: number;
  host: string;
  entity: string;
  pid: number;
  priority: Priority;
  msg: string;
}

const SYSLOGFMT = /^([A-Z][a-z]{2}) (\d{2}) (\d{2}):(\d{2}):(\d{2}) (\S+) (\S+): \[(\d+)\]: (EMERG|ALERT|CRIT|ERROR|WARN|notice|info|debug): (.*)$/;

/** `Nov 22 03:00:34 node1 heartbeat: [13]: info: text` (the year is not in the line; the recordings are 2026). */
export function parseSyslogFmtLine(line: string, year = 2026): DaemonLine | undefined {
  const m = SYSLOGFMT.exec(line);
  if (m === null) return undefined;
  const [, mon, d, h, mi, s, host, entity, pid, word, msg] = m as unknown as string[];
  return {
    line,
    time: localMs(year, MONTHS.indexOf(mon!), Number(d), Number(h), Number(mi), Number(s)),
    host: host!,
    entity: entity!,
    pid: Number(pid),
    priority: WORD_TO_PRIORITY[word!]!,
    msg: msg!,
  };
}

const HA_TS = /(\d{4})\/(\d{2})\/(\d{2})_(\d{2}):(\d{2}):(\d{2})/;
const haTs = (m: string[], i: number): number =>
  localMs(Number(m[i]), Number(m[i + 1]) - 1, Number(m[i + 2]), Number(m[i + 3]), Number(m[i + 4]), Number(m[i + 5]));

/** `2026/11/22_03:00:26  ResourceManager(default)[138]:    info: ...` */
export function parseScriptLogfileLine(line: string): { tag: string; time: number; text: string } | undefined {
  const m = new RegExp(`^${HA_TS.source}  (\\S.*?\\]):    (.*)$`).exec(line);
  if (m === null) return undefined;
  return { time: haTs(m as unknown as string[], 1), tag: m[7]!, text: m[8]! };
}

/** `harc(default)[20]:\t2026/11/22_03:00:14 info: ...` */
export function parseScriptDebugfileLine(line: string): { tag: string; time: number; text: string } | undefined {
  const m = new RegExp(`^(\\S.*?\\]):\\t${HA_TS.source} (.*)$`).exec(line);
  if (m === null) return undefined;
  return { tag: m[1]!, time: haTs(m as unknown as string[], 2), text: m[8]! };
}

const PERL_TIME = /([A-Z][a-z]{2}) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})/;
const perlMs = (m: string[], i: number): number =>
  localMs(Number(m[i + 6]), MONTHS.indexOf(m[i + 1]!), Number(m[i + 2]!.trim()), Number(m[i + 3]), Number(m[i + 4]), Number(m[i + 5]));

/** `[Sun Nov 22 02:45:38 2026|golden.cf|31726] text` */
export function parseLdirectordFileLine(line: string): { time: number; cfg: string; pid: number; msg: string } | undefined {
  const m = new RegExp(`^\\[${PERL_TIME.source}\\|([^|]+)\\|(\\d+)\\] (.*)$`).exec(line);
  if (m === null) return undefined;
  return { time: perlMs(m as unknown as string[], 1), cfg: m[8]!, pid: Number(m[9]), msg: m[10]! };
}

/** `[Sun Nov 22 02:46:26 2026] text` */
export function parseLdirectordSupervisedLine(line: string): { time: number; msg: string } | undefined {
  const m = new RegExp(`^\\[${PERL_TIME.source}\\] (.*)$`).exec(line);
  if (m === null) return undefined;
  return { time: perlMs(m as unknown as string[], 1), msg: m[8]! };
}
