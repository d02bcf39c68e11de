/**
 * Sender side of retransmission and flow control (heartbeat.c
 * add2_xmit_hist / process_rexmit / HBDoMsg_T_ACKMSG): the last 500 packets we
 * sent, kept as the exact bytes so a resend carries the original seq, ts and
 * signatures; answers to `NS_rexmit`; peers' ACKs that let us forget packets.
 * Pure: time comes in with every call.
 */
import { HbError } from '../../shared/errors.js';
import type { HaMessage } from '../wire/message.js';
import { DEFAULT_MAX_REXMIT_DELAY_MS } from './rexmit-requests.js';
import { nakRexmit } from './messages.js';

/** MAXMSGHIST */
export const HISTORY_SIZE = 500;
/** At most this many packets are resent for one request (serial links are slow). */
export const MAX_REXMIT_BATCH = 50;
/** More unacknowledged messages than this, with two or more live nodes: pause API clients. */
export const FLOW_CONTROL_LIMIT = HISTORY_SIZE / 2;

export interface HistoryConfig {
  /** ha.cf `max_rexmit_delay`; a packet resent less than this minus 10 ms ago is not resent again. */
  readonly maxRexmitDelayMs?: number;
}

export type HistoryAction =
  /** Send these stored bytes again, unchanged, on every medium. */
  | { readonly kind: 'resend'; readonly seq: number; readonly packet: Uint8Array }
  /** Send this `NS_nak_rexmit` to the cluster. */
  | { readonly kind: 'send'; readonly message: HaMessage }
  | { readonly kind: 'log'; readonly level: 'ERROR' | 'WARN'; readonly text: string };

interface Slot {
  readonly seq: number;
  readonly packet: Uint8Array;
  lastResentAt: number | undefined;
}

export class TransmitHistory {
  private readonly slots = new Map<number, Slot>();
  private readonly recentGap: number;
  /** Highest seq recorded. */
  hiSeq = 0;
  /** Highest seq forgotten (pushed out or acknowledged by everyone); 0 when none. */
  lowSeq = 0;
  /** Lowest ACK among live peers: everything up to here reached everybody. */
  ackSeq = 0;
  private readonly peerAcks = new Map<string, number>();

  constructor(config: HistoryConfig = {}) {
    const max = config.maxRexmitDelayMs ?? DEFAULT_MAX_REXMIT_DELAY_MS;
    if (!Number.isInteger(max) || max <= 0) throw new HbError('REXMIT_CONFIG', `max_rexmit_delay must be a positive whole number of ms, got ${max}`);
    this.recentGap = max - 10;
  }

  /**
   * Records a packet we just sent (every type not starting with `NS_`).
   * `liveNodes` counts live normal nodes, ourselves included: the fill-up
   * warnings only matter when someone else should be acknowledging.
   */
  record(seq: number, packet: Uint8Array, liveNodes: number): HistoryAction[] {
    if (!Number.isSafeInteger(seq) || seq <= this.hiSeq) throw new HbError('XMIT_HISTORY_ORDER', `seq ${seq} recorded after ${this.hiSeq}`);
    this.slots.set(seq, { seq, packet, lastResentAt: undefined });
    this.hiSeq = seq;
    while (this.slots.size > HISTORY_SIZE) this.forgetOldest();
    const inQueue = this.hiSeq - this.lowSeq;
    if (liveNodes > 1 && inQueue > (HISTORY_SIZE * 3) / 4) {
      const level = inQueue > (HISTORY_SIZE * 9) / 10 ? 'ERROR' : 'WARN';
      return [{ kind: 'log', level, text: `Message hist queue is filling up (${inQueue} messages in queue)` }];
    }
    return [];
  }

  private forgetOldest(): void {
    const oldest = this.slots.keys().next();
    if (oldest.done === true) return;
    this.slots.delete(oldest.value);
    this.lowSeq = Math.max(this.lowSeq, oldest.value);
  }

  /** Packets still held, oldest first (for views and tests). */
  held(): number[] {
    return [...this.slots.keys()];
  }

  /** The highest seq `node` acknowledged (0: none). */
  peerAck(node: string): number {
    return this.peerAcks.get(node) ?? 0;
  }

  /**
   * Answers `NS_rexmit firstseq..lastseq` from `node`: resend what we hold
   * (unless resent very recently), NAK what we no longer have, ignore what the
   * node already acknowledged or what we never sent.
   */
  onRexmitRequest(node: string, first: number | undefined, last: number | undefined, now: number): HistoryAction[] {
    if (first === undefined || last === undefined || first <= 0 || last < first) {
      return [{ kind: 'log', level: 'ERROR', text: 'Invalid rexmit seqnos' }];
    }
    const actions: HistoryAction[] = [];
    let resent = 0;
    // Bounded by the history: numbers beyond hiSeq are ignored, below lowSeq NAKed once each.
    const from = Math.max(first, this.lowSeq - HISTORY_SIZE);
    for (let seq = from; seq <= last; seq++) {
      if (seq <= this.peerAck(node)) continue;
      if (seq <= this.lowSeq) {
        actions.push(...this.nak(node, seq, 'seqno too low'));
        continue;
      }
      if (seq > this.hiSeq) {
        actions.push({ kind: 'log', level: 'WARN', text: `Rexmit of seq ${seq} requested. ${this.hiSeq} is max.` });
        break;
      }
      const slot = this.slots.get(seq);
      if (slot === undefined) {
        actions.push(...this.nak(node, seq, 'seqno not found'));
        continue;
      }
      if (slot.lastResentAt !== undefined && now - slot.lastResentAt < this.recentGap) continue;
      if (++resent > MAX_REXMIT_BATCH) break;
      slot.lastResentAt = now;
      actions.push({ kind: 'resend', seq, packet: slot.packet });
    }
    return actions;
  }

  private nak(node: string, seq: number, reason: 'seqno too low' | 'seqno not found'): HistoryAction[] {
    return [
      { kind: 'log', level: 'ERROR', text: `Cannot rexmit pkt ${seq} for ${node}: ${reason}` },
      { kind: 'send', message: nakRexmit(node, seq, reason) },
    ];
  }

  /**
   * An `NS_ackmsg` addressed to us. `liveNodes`: the live normal nodes (ping
   * nodes and dead nodes never ACK), ourselves included. Everything up to the
   * lowest ACK among them is forgotten. With nobody else alive the history is
   * trimmed to the flow-control limit instead, so it never blocks clients.
   */
  onAck(node: string, ackSeq: number | undefined, liveNodes: readonly string[], localNode: string): HistoryAction[] {
    if (ackSeq === undefined || ackSeq <= this.peerAck(node)) return [];
    if (ackSeq > this.hiSeq) {
      return [{ kind: 'log', level: 'ERROR', text: `HBDoMsg_T_ACK: corrupted ackseq current hiseq = ${this.hiSeq} ackseq =${ackSeq} in this message` }];
    }
    this.peerAcks.set(node, ackSeq);
    const others = liveNodes.filter((n) => n !== localNode);
    let next: number;
    if (others.length === 0) next = this.hiSeq - this.ackSeq >= FLOW_CONTROL_LIMIT ? this.hiSeq - (FLOW_CONTROL_LIMIT - 1) : this.ackSeq;
    else next = Math.min(...others.map((n) => this.peerAck(n)));
    this.advanceAck(next);
    return [];
  }

  private advanceAck(next: number): void {
    if (next <= this.ackSeq) return;
    this.ackSeq = next;
    for (const seq of [...this.slots.keys()]) {
      if (seq > next) break;
      this.slots.delete(seq);
      this.lowSeq = Math.max(this.lowSeq, seq);
    }
  }

  /** Too many unacknowledged messages: API clients should be paused (only with two or more live nodes). */
  congested(liveNodeCount: number): boolean {
    return liveNodeCount >= 2 && this.hiSeq - this.ackSeq > FLOW_CONTROL_LIMIT;
  }
}
