import type { Priority } from './levels.js';

/** One log event as the formatters see it (after pino has stamped time and pid). */
export interface LogRecord {
  readonly priority: Priority;
  /** Milliseconds since the epoch, from the logger's clock. */
  readonly time: number;
  readonly pid: number;
  readonly msg: string;
  /** For debug records: the debug level the message was logged at (1 = `debug 1`). */
  readonly debugLevel?: number;
}

/** Turns a record into one line, without the trailing newline. */
export type LineFormat = (rec: LogRecord) => string;
