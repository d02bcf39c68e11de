import type { Priority } from './levels.js';
import type { LineFormat, LogRecord } from './record.js';

/** Where formatted lines go: a file, syslog, a terminal. */
export interface LineSink {
  write(line: string, rec: LogRecord): void;
  /** Reopen after logrotate moved the file (SIGHUP); a no-op where meaningless. */
  reopen(): void;
  close(): Promise<void>;
}

/** A sink with the lowest priority it takes and the layout it wants. */
export interface Destination {
  readonly name: string;
  readonly minPriority: Priority;
  readonly format: LineFormat;
  readonly sink: LineSink;
}
