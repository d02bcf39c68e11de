/**
 * Log priorities as syslog(3) and cl_log know them. Numbers are pino levels
 * (higher = more severe), so pino's per-destination level filter does the
 * "logfile gets everything but debug" routing for us.
 */
export type Priority = 'emerg' | 'alert' | 'crit' | 'error' | 'warn' | 'notice' | 'info' | 'debug';

export const PINO_LEVELS: Readonly<Record<Priority, number>> = {
  debug: 20,
  info: 30,
  notice: 35,
  warn: 40,
  error: 50,
  crit: 60,
  alert: 70,
  emerg: 80,
};

/** syslog severity (RFC 5424: 0 emerg .. 7 debug). */
export const SYSLOG_SEVERITY: Readonly<Record<Priority, number>> = {
  emerg: 0,
  alert: 1,
  crit: 2,
  error: 3,
  warn: 4,
  notice: 5,
  info: 6,
  debug: 7,
};

/** The words cl_log prints after the timestamp, exactly (mixed case is the original's). */
export const CL_LOG_WORD: Readonly<Record<Priority, string>> = {
  emerg: 'EMERG',
  alert: 'ALERT',
  crit: 'CRIT',
  error: 'ERROR',
  warn: 'WARN',
  notice: 'notice',
  info: 'info',
  debug: 'debug',
};

const BY_PINO_LEVEL = new Map<number, Priority>(
  (Object.entries(PINO_LEVELS) as [Priority, number][]).map(([p, n]) => [n, p]),
);

export function priorityFromPinoLevel(level: number): Priority {
  return BY_PINO_LEVEL.get(level) ?? 'info';
}

export function isPriority(s: string): s is Priority {
  return Object.prototype.hasOwnProperty.call(PINO_LEVELS, s);
}
