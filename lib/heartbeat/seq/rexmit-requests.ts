/**
 * Receiver side of retransmission (hb_rexmit.c): for every packet missing from
 * a peer, ask it to resend, first after a random delay (packets often just
 * arrive out of order), then every `maxRexmitDelayMs`, until the packet
 * arrives, the peer NAKs it, or the peer is no longer up/active.
 *
 * Pure: time comes in with every call, randomness is injected, and the shell
 * arms one timer for `nextDeadline`.
 */
import { HbError } from '../../shared/errors.js';
import type { HaMessage } from '../wire/message.js';
import { rexmitRequest } from './messages.js';

export interface RexmitConfig {
  /** ha.cf `max_rexmit_delay` in ms (default 250). */
  readonly maxRexmitDelayMs?: number;
  /** Uniform in [0, 1); Math.random in production, seeded in tests. */
  readonly random: () => number;
}

export type RexmitAction =
  /** Send this `NS_rexmit` to the cluster. */
  | { readonly kind: 'send'; readonly node: string; readonly seq: number; readonly message: HaMessage }
  /** The peer answered `NS_nak_rexmit`: the packet is gone for good. */
  | { readonly kind: 'lost'; readonly node: string; readonly seq: number; readonly log: string | undefined };

export type LostPacket = Extract<RexmitAction, { kind: 'lost' }>;

export const DEFAULT_MAX_REXMIT_DELAY_MS = 250;

export class RetransmitRequests {
  private readonly maxDelay: number;
  private readonly random: () => number;
  /** node -> seq -> when to ask next. */
  private readonly due = new Map<string, Map<number, number>>();

  constructor(config: RexmitConfig) {
    this.maxDelay = config.maxRexmitDelayMs ?? DEFAULT_MAX_REXMIT_DELAY_MS;
    if (!Number.isInteger(this.maxDelay) || this.maxDelay <= 0) {
      throw new HbError('REXMIT_CONFIG', `max_rexmit_delay must be a positive whole number of ms, got ${this.maxDelay}`);
    }
    this.random = config.random;
  }

  /** The first delay: in [50, max] ms (in [0, max] when max < 100), as the original draws it. */
  private firstDelay(): number {
    const low = this.maxDelay < 100 ? 0 : 50;
    const r = Math.min(Math.max(this.random(), 0), 1);
    return low + Math.round(r * (this.maxDelay - low));
  }

  /** Sequence numbers `first..last` from `node` are missing (the membership's `missingPackets`). */
  missing(node: string, first: number, last: number, now: number): void {
    let table = this.due.get(node);
    if (table === undefined) this.due.set(node, (table = new Map()));
    for (let seq = first; seq <= last; seq++) if (!table.has(seq)) table.set(seq, now + this.firstDelay());
  }

  /** A missing packet arrived after all. */
  arrived(node: string, seq: number): void {
    this.due.get(node)?.delete(seq);
  }

  /**
   * An `NS_nak_rexmit` from `node` for `seq`. Every receiver stops asking (all
   * nodes track all sequence numbers); only the addressee logs, as the original does.
   */
  nak(node: string, seq: number, addressedToUs: boolean): LostPacket {
    this.due.get(node)?.delete(seq);
    return { kind: 'lost', node, seq, log: addressedToUs ? `Irretrievably lost packet: node ${node} seq ${seq}` : undefined };
  }

  /** Sequence tracking for `node` restarted (restart, death, huge gap): stop asking it. */
  forget(node: string): void {
    this.due.delete(node);
  }

  /** Numbers still being asked for, for views and tests. */
  pending(node: string): number[] {
    return [...(this.due.get(node)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /**
   * Sends the requests that are due. `isUp(node)`: the peer's status is up or
   * active; asking a dead node is pointless, and the original then stops for good.
   */
  tick(now: number, isUp: (node: string) => boolean): RexmitAction[] {
    const actions: RexmitAction[] = [];
    for (const [node, table] of this.due) {
      for (const [seq, at] of [...table].sort((a, b) => a[0] - b[0])) {
        if (at > now) continue;
        if (!isUp(node)) {
          table.delete(seq);
          continue;
        }
        actions.push({ kind: 'send', node, seq, message: rexmitRequest(node, seq) });
        table.set(seq, now + this.maxDelay);
      }
      if (table.size === 0) this.due.delete(node);
    }
    return actions;
  }

  /** When `tick` must be called next; undefined when nothing is missing. */
  get nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const table of this.due.values()) for (const at of table.values()) if (next === undefined || at < next) next = at;
    return next;
  }
}
