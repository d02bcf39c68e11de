import * as fs from 'node:fs';
import type pino from 'pino';
import { loadPino } from './pino-loader.js';
import { systemClock, type Clock } from './clock.js';
import { PINO_LEVELS, priorityFromPinoLevel, type Priority } from './levels.js';
import type { LogRecord } from './record.js';
import { Redactor } from './redact.js';
import type { Destination } from './sink.js';

export interface LoggerOptions {
  readonly destinations: readonly Destination[];
  readonly clock?: Clock;
  /** The pid printed in lines; the current process's by default. */
  readonly pid?: number;
  /** `debug n` in ha.cf / `-d` count: debug(n, …) is logged when n <= this. */
  readonly debugLevel?: number;
  readonly redactor?: Redactor;
}


/**
 * A pino stream that turns pino's JSON line back into a record and writes
 * it in the destination's own layout, with secrets blanked. pino does the
 * level routing (multistream) and stamps time and pid.
 */
function formattingStream(dest: Destination, redactor: Redactor, muted: ReadonlySet<string>): { write(chunk: string): void } {
  return {
    write(chunk: string) {
      if (muted.has(dest.name)) return;
      try {
        writeRecord(dest, redactor, chunk);
      } catch (e) {
        // Logging must never take a daemon down: report on stderr and go on.
        try {
          fs.writeSync(2, `log destination ${dest.name} failed: ${(e as Error).message}\n`);
        } catch {
          /* nowhere left */
        }
      }
    },
  };
}

/** pino's JSON line → our record → the destination's line. */
function writeRecord(dest: Destination, redactor: Redactor, chunk: string): void {
  const raw = JSON.parse(chunk) as { level: number; time: number; pid: number; msg?: string; dl?: number };
  const rec: LogRecord = {
    priority: priorityFromPinoLevel(raw.level),
    time: raw.time,
    pid: raw.pid,
    msg: redactor.redact(raw.msg ?? ''),
    ...(raw.dl !== undefined ? { debugLevel: raw.dl } : {}),
  };
  dest.sink.write(dest.format(rec), rec);
}

/**
 * The logging facade every daemon uses: cl_log's priorities plus numbered
 * debug levels, written through pino to the configured destinations.
 */
export class Logger {
  /** pino's per-level methods; typed by hand since all our levels are custom ones. */
  private emit: Readonly<Record<Priority, pino.LogFn>>;
  private level: number;
  private readonly muted = new Set<string>();
  private readonly clock: Clock;
  private readonly pid: number;
  readonly redactor: Redactor;
  private dests: readonly Destination[];

  constructor(opts: LoggerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.pid = opts.pid ?? process.pid;
    this.redactor = opts.redactor ?? new Redactor();
    this.dests = opts.destinations;
    this.level = opts.debugLevel ?? 0;
    this.emit = this.build(opts.destinations);
  }

  get destinations(): readonly Destination[] {
    return this.dests;
  }

  private build(destinations: readonly Destination[]): Readonly<Record<Priority, pino.LogFn>> {
    const clock = this.clock;
    const streams = destinations.map((d) => ({
      level: d.minPriority,
      stream: formattingStream(d, this.redactor, this.muted),
    }));
    const createPino = loadPino();
    const logger = createPino(
      {
        customLevels: PINO_LEVELS,
        useOnlyCustomLevels: true,
        level: 'debug',
        base: { pid: this.pid },
        timestamp: () => `,"time":${clock()}`,
      },
      createPino.multistream(streams, { levels: PINO_LEVELS, dedupe: false }),
    );
    return logger as unknown as Record<Priority, pino.LogFn>;
  }

  /**
   * New destinations (ha.cf logfile / debugfile / logfacility changed on
   * SIGHUP): lines from now on go to them; the old sinks are closed.
   * Muted names stay muted.
   */
  async replaceDestinations(destinations: readonly Destination[]): Promise<void> {
    const old = this.dests;
    this.emit = this.build(destinations);
    this.dests = destinations;
    await Promise.all(old.map((d) => d.sink.close().catch(() => {})));
  }

  emerg(msg: string): void {
    this.emit.emerg(msg);
  }
  alert(msg: string): void {
    this.emit.alert(msg);
  }
  crit(msg: string): void {
    this.emit.crit(msg);
  }
  error(msg: string): void {
    this.emit.error(msg);
  }
  warn(msg: string): void {
    this.emit.warn(msg);
  }
  notice(msg: string): void {
    this.emit.notice(msg);
  }
  info(msg: string): void {
    this.emit.info(msg);
  }
  /**
   * Logged only when the current debug level is at least `level` (heartbeat's
   * `if (DEBUGDETAILS)`); level 0 is a plain cl_log(LOG_DEBUG), always logged
   * (the recorded ha-debug has such lines with no `debug` directive).
   */
  debug(level: number, msg: string): void {
    if (level <= this.level) this.emit.debug({ dl: level }, msg);
  }
  log(priority: Priority, msg: string): void {
    if (priority === 'debug') this.debug(0, msg);
    else this.emit[priority](msg);
  }

  get debugLevel(): number {
    return this.level;
  }
  setDebugLevel(level: number): void {
    this.level = Math.max(0, Math.floor(level));
  }

  /**
   * Turns a destination off or on by name, as cl_log_enable_stderr does for
   * `stderr`: the starting parent writes to the terminal, the daemon not.
   */
  setEnabled(name: string, enabled: boolean): void {
    if (enabled) this.muted.delete(name);
    else this.muted.add(name);
  }

  /** Reopens every file (SIGHUP after logrotate). */
  reopen(): void {
    for (const d of this.dests) d.sink.reopen();
  }

  async close(): Promise<void> {
    await Promise.all(this.dests.map((d) => d.sink.close()));
  }
}
