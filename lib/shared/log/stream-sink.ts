import { loadPino, type SonicBoom } from './pino-loader.js';
import type { LineSink } from './sink.js';

/** stderr (foreground, -d) or stdout (ldirectord supervised=yes), written synchronously. */
export class FdSink implements LineSink {
  private readonly boom: SonicBoom;
  constructor(readonly fd: 1 | 2) {
    this.boom = loadPino().destination({ fd, sync: true });
  }
  write(line: string): void {
    this.boom.write(line + '\n');
  }
  reopen(): void {}
  async close(): Promise<void> {
    this.boom.flushSync();
  }
}

/** Collects lines in memory: for tests and for `-v` style dumps. */
export class MemorySink implements LineSink {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  reopen(): void {}
  async close(): Promise<void> {}
}
