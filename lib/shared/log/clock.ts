/**
 * Time for log lines. The clock is injectable so tests can pin the timestamp;
 * fields are taken in local time, as the originals' localtime(3) does.
 */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

const pad2 = (n: number): string => String(n).padStart(2, '0');

function hms(d: Date): string {
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** cl_log's ha_timestamp: `YYYY/MM/DD_HH:MM:SS`. */
export function haTimestamp(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getFullYear()).padStart(4, '0')}/${pad2(d.getMonth() + 1)}/${pad2(d.getDate())}_${hms(d)}`;
}

/** cl_log's syslogmsgfmt stamp: `Mon DD HH:MM:SS`, day zero-padded (not syslog's blank padding). */
export function syslogStyleTimestamp(ms: number): string {
  const d = new Date(ms);
  return `${MONTHS[d.getMonth()]} ${pad2(d.getDate())} ${hms(d)}`;
}

/** Perl's scalar localtime: `Sun Nov 22 02:45:34 2026`, day padded with a blank. */
export function perlLocaltime(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${hms(d)} ${d.getFullYear()}`;
}
