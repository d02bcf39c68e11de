/**
 * Runs the checks: each target on its own cycle of checkinterval, at most
 * `concurrency` probes at once, each with its own timeout, so a slow or hung
 * real never delays the others (the original checks serially and a hung
 * server stalls every check and even TERM, spec §7). Results are reported as
 * they come; the caller applies them one at a time.
 */
import { setMaxListeners } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LdirectordConfig } from '../../config/ldirectord/model.js';
import type { CheckTarget } from '../director/targets.js';
import { checkPort, runProbe, type ProbeKind } from '../checks/index.js';
import { down, type CheckOutcome } from '../checks/types.js';

export interface CheckLoopOptions {
  readonly config: LdirectordConfig;
  readonly targets: readonly CheckTarget[];
  readonly concurrency?: number;
  readonly hostname: string;
  readonly onResult: (target: CheckTarget, outcome: CheckOutcome, kind: ProbeKind | 'maintenance') => void;
  /** The probe; the real one by default (tests inject theirs). */
  readonly probe?: typeof runProbe;
}

/** A counting semaphore for the concurrency bound. */
class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/** Maintenance files for a real (spec §6.9): `RIP:PORT`, `RIP`. Name lookups are left out: they would block the loop. */
export function inMaintenance(dir: string | undefined, address: string, port: number): boolean {
  if (dir === undefined) return false;
  return [`${address}:${port}`, address].some((n) => fs.existsSync(path.join(dir, n)));
}

export class CheckLoop {
  private readonly ac = new AbortController();
  private readonly gate: Gate;
  private readonly loops: Promise<void>[] = [];
  /** combined (checktype=N): connect checks done since the last good negotiate, per target. */
  private readonly connectsSinceNegotiate = new Map<string, number>();

  constructor(private readonly o: CheckLoopOptions) {
    this.gate = new Gate(o.concurrency ?? 256);
    // One listener per running cycle and probe: thousands with 1,000 reals, all removed when they end.
    setMaxListeners(0, this.ac.signal);
  }

  start(): void {
    for (const t of this.o.targets) this.loops.push(this.cycle(t));
  }

  /** Stops every cycle; running probes are aborted. */
  async stop(): Promise<void> {
    this.ac.abort();
    await Promise.allSettled(this.loops);
  }

  private intervalMs(t: CheckTarget): number {
    const v = t.members[0]!.virtual;
    return this.o.config.globals.fork ? v.checkIntervalMs : this.o.config.globals.checkIntervalMs;
  }

  private kindFor(t: CheckTarget): ProbeKind {
    const v = t.members[0]!.virtual;
    if (v.checkType === 'combined') {
      const n = this.connectsSinceNegotiate.get(t.id);
      return n === undefined || n >= (v.combinedConnects ?? 0) ? 'negotiate' : 'connect';
    }
    return v.checkType as ProbeKind;
  }

  private noteCombined(t: CheckTarget, kind: ProbeKind, ok: boolean): void {
    if (t.members[0]!.virtual.checkType !== 'combined') return;
    if (!ok) this.connectsSinceNegotiate.delete(t.id); // next round negotiates
    else if (kind === 'negotiate') this.connectsSinceNegotiate.set(t.id, 0);
    else this.connectsSinceNegotiate.set(t.id, (this.connectsSinceNegotiate.get(t.id) ?? 0) + 1);
  }

  async checkOnce(t: CheckTarget): Promise<void> {
    const { virtual, real } = t.members[0]!;
    if (inMaintenance(this.o.config.globals.maintenanceDir, real.address, real.port)) {
      this.o.onResult(t, down('Server in maintenance'), 'maintenance');
      return;
    }
    const kind = this.kindFor(t);
    const timeoutMs = kind === 'negotiate' ? virtual.negotiateTimeoutMs : virtual.checkTimeoutMs;
    const probe = this.o.probe ?? runProbe;
    const outcome = await this.gate.run(() => probe(kind, {
      virtual, real, port: checkPort({ virtual, real }), timeoutMs, signal: this.ac.signal, hostname: this.o.hostname,
    }));
    if (this.ac.signal.aborted) return;
    this.noteCombined(t, kind, outcome.up);
    this.o.onResult(t, outcome, kind);
  }

  private async cycle(t: CheckTarget): Promise<void> {
    const signal = this.ac.signal;
    while (!signal.aborted) {
      const started = Date.now();
      await this.checkOnce(t);
      const wait = Math.max(0, started + this.intervalMs(t) - Date.now());
      await new Promise<void>((resolve) => {
        const onAbort = (): void => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, wait);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    }
  }
}
