import type { Clock } from './clock.js';

/**
 * Per-key rate limit for messages caused by the network (bad packets, auth
 * failures): a peer flooding us must not flood the log. A burst of `burst`
 * messages per `intervalMs` passes; the rest are counted, and the count is
 * reported once the key may log again.
 */
export interface RateLimitOptions {
  readonly clock: Clock;
  readonly intervalMs: number;
  readonly burst: number;
}

interface Window {
  start: number;
  passed: number;
  suppressed: number;
}

export interface RateDecision {
  readonly allow: boolean;
  /** Messages dropped for this key since the last one let through (only when allow). */
  readonly suppressedBefore: number;
}

export class RateLimiter {
  private readonly windows = new Map<string, Window>();
  constructor(private readonly opts: RateLimitOptions) {}

  check(key: string): RateDecision {
    const now = this.opts.clock();
    let w = this.windows.get(key);
    if (w === undefined || now - w.start >= this.opts.intervalMs) {
      const suppressedBefore = w?.suppressed ?? 0;
      w = { start: now, passed: 1, suppressed: 0 };
      this.windows.set(key, w);
      return { allow: true, suppressedBefore };
    }
    if (w.passed < this.opts.burst) {
      w.passed++;
      return { allow: true, suppressedBefore: 0 };
    }
    w.suppressed++;
    return { allow: false, suppressedBefore: 0 };
  }

  /** Keys with messages still held back, and how many; clears them. For shutdown. */
  drain(): [key: string, suppressed: number][] {
    const out: [string, number][] = [];
    for (const [k, w] of this.windows) if (w.suppressed > 0) out.push([k, w.suppressed]);
    this.windows.clear();
    return out;
  }
}

/** The line reporting dropped messages, e.g. `bad packet from 10.0.0.2: 41 similar messages suppressed`. */
export function suppressedText(key: string, n: number): string {
  return `${key}: ${n} similar messages suppressed`;
}

/**
 * Wraps a log call: `limited(key, () => log.error(...))`; logs the suppressed
 * count (through `report`) before the first message let through again.
 */
export function rateLimited(limiter: RateLimiter, report: (text: string) => void) {
  return (key: string, emit: () => void): boolean => {
    const d = limiter.check(key);
    if (!d.allow) return false;
    if (d.suppressedBefore > 0) report(suppressedText(key, d.suppressedBefore));
    emit();
    return true;
  };
}
