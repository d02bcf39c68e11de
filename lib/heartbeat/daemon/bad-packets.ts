/**
 * Dropped packets, counted by reason, logged at most `burst` lines per
 * source and reason per interval: a peer with the wrong key or a flood of
 * garbage must neither crash us nor fill the log.
 */
import { RateLimiter, rateLimited, type Clock } from '../../shared/log/index.js';

export interface BadPacketLog {
  warn(text: string): void;
}

export class BadPackets {
  readonly byCode = new Map<string, number>();
  private readonly limited: (key: string, emit: () => void) => boolean;

  constructor(private readonly log: BadPacketLog, clock: Clock, intervalMs = 10_000, burst = 3) {
    this.limited = rateLimited(new RateLimiter({ clock, intervalMs, burst }), (text) => log.warn(text));
  }

  get total(): number {
    let n = 0;
    for (const v of this.byCode.values()) n += v;
    return n;
  }

  drop(code: string, reason: string, source: string, link: string): void {
    this.byCode.set(code, (this.byCode.get(code) ?? 0) + 1);
    const key = `bad packet from ${source} on ${link} (${code})`;
    this.limited(key, () => this.log.warn(`${key}: ${reason}; dropped`));
  }
}
