/**
 * Value syntaxes shared by ha.cf directives, as cluster-glue reads them
 * (cl_get_msec, cl_str_to_boolean) but stricter where glue silently accepts junk.
 */

const TIME_RE = /^(\d+(?:\.\d*)?|\.\d+)(ms|msec|us|usec)?$/i;

/**
 * A time value in milliseconds: plain number = seconds (fractions allowed),
 * `ms`/`msec` = milliseconds, `us`/`usec` = microseconds; rounded half up to
 * whole milliseconds like glue. Undefined when the text is not a time.
 * (Glue also takes `1.2.3` or `10msfoo`; we refuse those, see docs/compatibility.md.)
 */
export function parseTimeMs(text: string): number | undefined {
  const m = TIME_RE.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  const ms = unit === '' ? n * 1000 : unit.startsWith('m') ? n : n / 1000;
  const rounded = Math.floor(ms + 0.5);
  return Number.isSafeInteger(rounded) ? rounded : undefined;
}

const TRUE_WORDS = new Set(['true', 'on', 'yes', 'y', '1']);
const FALSE_WORDS = new Set(['false', 'off', 'no', 'n', '0']);

/** cl_str_to_boolean: case-insensitive true/on/yes/y/1 and false/off/no/n/0. */
export function parseBoolean(text: string): boolean | undefined {
  const w = text.toLowerCase();
  if (TRUE_WORDS.has(w)) return true;
  if (FALSE_WORDS.has(w)) return false;
  return undefined;
}

/**
 * A whole decimal integer. C's atoi would read `12abc` as 12 and `abc` as 0;
 * we refuse trailing junk instead of guessing.
 */
export function parseInteger(text: string): number | undefined {
  if (!/^[+-]?\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}

/** Dotted-quad IPv4 text, each part 0-255. */
export function isIPv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** An IPv4 multicast group (224.0.0.0/4). */
export function isIPv4Multicast(text: string): boolean {
  if (!isIPv4(text)) return false;
  const first = Number(text.split('.')[0]);
  return first >= 224 && first <= 239;
}

/** Loose IPv6 text check (hex groups, at most one `::`). */
export function isIPv6(text: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return false;
  const dbl = text.split('::').length - 1;
  if (dbl > 1) return false;
  const groups = text.split(':').filter((g) => g !== '');
  if (groups.length > 8 || (dbl === 0 && groups.length !== 8 && !text.includes('.'))) return false;
  return groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g) || isIPv4(g));
}

export function isIPv6Multicast(text: string): boolean {
  return isIPv6(text) && /^ff/i.test(text);
}

/** A host name as resolvers accept it (letters, digits, `-`, `_`, dots). */
export function isHostName(text: string): boolean {
  // All digits and dots is an address attempt, not a name (the resolver would refuse 10.0.0.300).
  if (/^[\d.]+$/.test(text)) return isIPv4(text);
  return /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/.test(text) && text.length <= 253;
}

/** Syslog facility names cl_syslogfac_str2int knows (glibc's list, case-sensitive), plus `none`. */
export const SYSLOG_FACILITIES: readonly string[] = [
  'auth', 'authpriv', 'cron', 'daemon', 'ftp', 'kern', 'lpr', 'mail', 'mark', 'news', 'security', 'syslog', 'user', 'uucp',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7', 'none',
];

/** Serial speeds StringToBaud accepts. */
export const BAUD_RATES: readonly number[] = [9600, 19200, 38400, 57600, 115200, 230400, 460800];
