import * as fs from 'node:fs';
import { loadPino, type SonicBoom } from './pino-loader.js';
import { HbError } from '../errors.js';
import type { LineSink } from './sink.js';

export interface FileSinkOptions {
  /**
   * Open, append and close per line, like ldirectord (and cl_log's fopen per
   * message): survives logrotate without a signal, costs a syscall or two.
   * Otherwise the file stays open (pino's SonicBoom) until reopen().
   */
  readonly openPerLine?: boolean;
  /** Where a failed write is reported; cl_log prints `Cannot open FILE: reason` to stderr. */
  readonly onError?: (text: string) => void;
  /** ldirectord: when the file cannot be written, the line itself goes to stderr instead. */
  readonly lineToStderrOnFailure?: boolean;
}

const reportToStderr = (text: string): void => {
  try {
    fs.writeSync(2, text + '\n');
  } catch {
    /* nowhere left to report */
  }
};

/** logfile / debugfile: appends lines to a file, created 0644 like fopen("a") under umask 022. */
export class FileSink implements LineSink {
  private boom: SonicBoom | undefined;
  private readonly onError: (text: string) => void;

  constructor(
    readonly path: string,
    private readonly opts: FileSinkOptions = {},
  ) {
    this.onError = opts.onError ?? reportToStderr;
    if (!opts.openPerLine) this.boom = this.open();
  }

  /** Throws HbError LOG_FILE_OPEN when the file cannot be opened at all (for start-up checks). */
  static checkWritable(path: string): void {
    try {
      fs.closeSync(fs.openSync(path, 'a'));
    } catch (e) {
      throw new HbError('LOG_FILE_OPEN', `Cannot open ${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  private open(): SonicBoom | undefined {
    try {
      const boom = loadPino().destination({ dest: this.path, sync: true, append: true, mkdir: false });
      // A failing reopen after logrotate must not crash the daemon.
      boom.on('error', (e: Error) => this.onError(`Cannot open ${this.path}: ${e.message}`));
      return boom;
    } catch (e) {
      this.onError(`Cannot open ${this.path}: ${(e as Error).message}`);
      return undefined;
    }
  }

  write(line: string): void {
    if (this.opts.openPerLine) {
      try {
        fs.appendFileSync(this.path, line + '\n');
      } catch (e) {
        this.onError(this.opts.lineToStderrOnFailure ? line : `Cannot open ${this.path}: ${(e as Error).message}`);
      }
      return;
    }
    // A file that could not be opened is retried on each line, as fopen per message would.
    this.boom ??= this.open();
    this.boom?.write(line + '\n');
  }

  reopen(): void {
    if (this.opts.openPerLine) return;
    if (this.boom === undefined) {
      this.boom = this.open();
      return;
    }
    try {
      this.boom.reopen();
    } catch (e) {
      this.onError(`Cannot open ${this.path}: ${(e as Error).message}`);
      this.boom = undefined;
    }
  }

  async close(): Promise<void> {
    const boom = this.boom;
    this.boom = undefined;
    if (boom === undefined) return;
    boom.flushSync();
    boom.end();
  }
}
