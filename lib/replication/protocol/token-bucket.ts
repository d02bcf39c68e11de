/**
 * The fixed resync rate (c-plan-ahead 0, drbd-spec §5.4) as a token bucket
 * on an injected clock: `rate` bytes per second, at most `burst` bytes
 * saved up. Pure arithmetic, no timers.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private rateBytesPerSec: number,
    private readonly burstBytes: number,
    now: number,
  ) {
    if (!(rateBytesPerSec > 0) || !(burstBytes > 0)) throw new RangeError('token bucket needs a positive rate and burst');
    this.tokens = burstBytes;
    this.last = now;
  }

  get rate(): number {
    return this.rateBytesPerSec;
  }

  setRate(rateBytesPerSec: number, now: number): void {
    this.refill(now);
    if (rateBytesPerSec > 0) this.rateBytesPerSec = rateBytesPerSec;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burstBytes, this.tokens + ((now - this.last) * this.rateBytesPerSec) / 1000);
      this.last = now;
    }
  }

  available(now: number): number {
    this.refill(now);
    return Math.floor(this.tokens);
  }

  /** Takes `n` bytes if there are enough tokens. */
  take(n: number, now: number): boolean {
    this.refill(now);
    if (this.tokens + 1e-9 < n) return false;
    this.tokens -= n;
    return true;
  }

  /** When `n` bytes will be available (now if they already are). */
  readyAt(n: number, now: number): number {
    this.refill(now);
    if (this.tokens >= n) return now;
    return now + Math.ceil(((n - this.tokens) * 1000) / this.rateBytesPerSec);
  }
}
