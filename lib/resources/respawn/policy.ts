/**
 * What happens when a `respawn` / `failfast` client child exits: the pure
 * rule of Heartbeat 3.0.6 (heartbeat.c ManagedChildDied), fed times from the
 * shell's monotonic clock. A child that exits 100 is left alone; any other
 * exit outside a shutdown restarts it (after 1 s when its last run was
 * short), and the 11th run in a row shorter than 30 s is the last: "respawning
 * too fast". A failfast child that dies abnormally reboots the node.
 */

export type RespawnLogLevel = 'EMERG' | 'ERROR' | 'info' | 'debug';

export interface ChildExit {
  /** When this run of the child started (ms, the shell's monotonic clock). */
  readonly startedAt: number;
  readonly now: number;
  readonly pid: number;
  /** Exit status; null when a signal ended it. */
  readonly exitCode: number | null;
  /** Signal number that ended it, 0 when it exited. */
  readonly signal: number;
  /** Heartbeat is stopping: nothing restarts, deaths are expected. */
  readonly shuttingDown: boolean;
}

export interface RespawnDecision {
  readonly logs: readonly { readonly level: RespawnLogLevel; readonly text: string }[];
  /** Start it again (after `delayMs`). */
  readonly restart: boolean;
  readonly delayMs: number;
  /** failfast: reboot the node now. */
  readonly reboot: boolean;
}

export interface RespawnPolicyOptions {
  /** A run shorter than this counts towards "too fast" (the original's 30 s). */
  readonly shortRunMs?: number;
  /** More consecutive short runs than this and it stays down (the original's 10). */
  readonly maxShortRuns?: number;
  /** Pause before starting again after a short run (the original's child sleeps 1 s). */
  readonly backoffMs?: number;
}

/** The exit status by which a client asks not to be restarted. */
export const NO_RESPAWN_EXIT = 100;

export class RespawnPolicy {
  /** Consecutive runs shorter than shortRunMs. */
  private shortRuns = 0;
  /** Restarts so far (the original's respawncount). */
  restarts = 0;
  private readonly shortRunMs: number;
  private readonly maxShortRuns: number;
  private readonly backoffMs: number;

  constructor(
    private readonly command: string,
    private readonly failfast: boolean,
    o: RespawnPolicyOptions = {},
  ) {
    this.shortRunMs = o.shortRunMs ?? 30_000;
    this.maxShortRuns = o.maxShortRuns ?? 10;
    this.backoffMs = o.backoffMs ?? 1000;
  }

  afterExit(e: ChildExit): RespawnDecision {
    const logs: { level: RespawnLogLevel; text: string }[] = [];
    const code = e.exitCode ?? 0;
    const level: RespawnLogLevel = e.shuttingDown ? 'debug' : 'ERROR';
    if (code !== 0) logs.push({ level, text: `Client ${this.command} exited with return code ${code}.` });
    if (e.signal !== 0) logs.push({ level, text: `Client ${this.command} (pid=${e.pid}) killed by signal ${e.signal}.` });
    const reboot = this.failfast && (e.signal !== 0 || (code !== 0 && !e.shuttingDown));
    if (reboot) logs.push({ level: 'EMERG', text: `Rebooting system.  Reason: ${this.command}` });
    let restart = false;
    let delayMs = 0;
    if (!e.shuttingDown && !reboot && code !== NO_RESPAWN_EXIT) {
      this.restarts++;
      if (e.now < e.startedAt + this.shortRunMs) this.shortRuns++;
      else this.shortRuns = 0;
      if (this.shortRuns > this.maxShortRuns) {
        logs.push({ level: 'ERROR', text: `Client ${this.command} "respawning too fast"` });
        this.shortRuns = 0;
      } else {
        logs.push({ level: 'ERROR', text: `Respawning client "${this.command}":` });
        restart = true;
        delayMs = this.shortRuns > 0 ? this.backoffMs : 0;
      }
    }
    return { logs, restart, delayMs, reboot };
  }
}
