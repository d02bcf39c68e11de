/**
 * What a cl_status run prints, the way the original prints it: stdout held
 * and written at exit (C stdio into a pipe), cl_log lines on stderr, and the
 * exit codes.
 */
import * as os from 'node:os';

export const EXIT = { ok: 0, normalFail: 1, parameterError: 11, timeout: 12, unknownError: 13 } as const;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => String(n).padStart(2, '0');

/** What one run prints; stdout is written at exit as C stdio does into a pipe. */
export class Output {
  private out = '';
  print(s: string): void {
    this.out += s;
  }
  /** cl_log to stderr in the syslog-like format (the default `syslogmsgfmt`). */
  logError(message: string): void {
    const d = new Date();
    const stamp = `${MONTHS[d.getMonth()]} ${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
    process.stderr.write(`${stamp} ${os.hostname()} cl_status: [${process.pid}]: ERROR: ${message}\n`);
  }
  stderr(s: string): void {
    process.stderr.write(s);
  }
  flush(): void {
    if (this.out !== '') process.stdout.write(this.out);
    this.out = '';
  }
}

