/**
 * Per-sender sequence and generation tracking: which packets to keep, which
 * are duplicates, which are replays (heartbeat-wire.md §4.3). Pure data; the
 * machine decides what to log and do with the verdict.
 */
import { MAX_MISSING_TRACKED, MAX_SEQUENCE_GAP } from './timing.js';

export type SequenceVerdict =
  | { readonly kind: 'keep'; readonly gap?: { readonly first: number; readonly last: number; readonly previous: number };
      readonly resetAfterBigGap?: boolean; readonly filledGap?: boolean }
  /** Same seq as the last one: refreshes the link only. */
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'drop'; readonly reason: 'badSequence' | 'replayedGeneration' | 'staleAfterDeath' | 'oldDuplicate' };

/** What the sequence rules need to know about the sender beyond the tracker. */
export interface SenderFacts {
  readonly isDead: boolean;
  /** seq of the last status packet we processed from it (0: none). */
  readonly lastStatusSeq: number;
}

/** Generation/restart observations made while judging one packet. */
export interface GenerationNews {
  restarted: boolean;
  previousGeneration: number;
  healedPartition: boolean;
}

export class SequenceTracker {
  /** Highest generation seen in a status packet; 0 until the first one. */
  generation = 0;
  private last: number | undefined;
  private readonly missing = new Set<number>();

  /** Highest seq accepted since the last reset. */
  get lastSeq(): number | undefined {
    return this.last;
  }

  /** Lowest seq still missing (for the ACK policy), if any. */
  get firstMissing(): number | undefined {
    return this.missing.size === 0 ? undefined : Math.min(...this.missing);
  }

  /** The sender said it cannot resend `seq`: stop counting it as missing. */
  giveUp(seq: number): void {
    this.missing.delete(seq);
  }

  /** Forget the ordering state (node declared dead, restart, huge gap); the generation stays. */
  reset(): void {
    this.last = undefined;
    this.missing.clear();
  }

  /** Bounded like the original: when full, the lowest missing number is given up. */
  private rememberMissing(seq: number): void {
    if (this.missing.size >= MAX_MISSING_TRACKED) this.missing.delete(Math.min(...this.missing));
    this.missing.add(seq);
  }

  /**
   * Judges a packet of a non-`NS_` type. `news` is filled in when a status
   * packet reveals a restart or a healed partition.
   */
  judge(
    seq: number | undefined,
    generation: number | undefined,
    isStatus: boolean,
    sender: SenderFacts,
    news: GenerationNews,
  ): SequenceVerdict {
    if (seq === undefined || !Number.isSafeInteger(seq) || seq <= 0) return { kind: 'drop', reason: 'badSequence' };
    const gen = generation !== undefined && Number.isSafeInteger(generation) && generation >= 0 ? generation : 0;
    if (gen < this.generation) return { kind: 'drop', reason: 'replayedGeneration' };
    if (isStatus) {
      if (gen === this.generation && gen > 0) {
        if (sender.isDead) {
          if (seq <= sender.lastStatusSeq) return { kind: 'drop', reason: 'staleAfterDeath' };
          news.healedPartition = true;
        }
      } else if (gen > this.generation) {
        news.restarted = true;
        news.previousGeneration = this.generation;
        this.reset();
      }
      this.generation = gen;
    }

    const last = this.last;
    if (last === undefined || seq === last + 1) {
      this.last = seq;
      return { kind: 'keep' };
    }
    if (seq === last) return { kind: 'duplicate' };
    if (seq > last) {
      const lost = seq - (last + 1);
      if (lost > MAX_SEQUENCE_GAP) {
        this.reset();
        this.last = seq;
        return { kind: 'keep', resetAfterBigGap: true };
      }
      for (let k = last + 1; k < seq; k++) this.rememberMissing(k);
      this.last = seq;
      return { kind: 'keep', gap: { first: last + 1, last: seq - 1, previous: last } };
    }
    if (this.missing.delete(seq)) return { kind: 'keep', filledGap: true };
    if (news.healedPartition || news.restarted) {
      this.reset();
      this.last = seq;
      return { kind: 'keep' };
    }
    return { kind: 'drop', reason: 'oldDuplicate' };
  }
}
