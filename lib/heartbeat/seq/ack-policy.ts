/**
 * When a receiver acknowledges (heartbeat.c send_ack_if_needed): not every
 * packet, only those whose seq ends in a per-sender random digit, and only
 * while nothing earlier from that sender is missing; plus once a gap is filled,
 * for the highest number ending in that digit that is now complete.
 */

/** ACK_MSG_DIV */
export const ACK_DIVISOR = 10;

/** Draws a sender's trigger digit, 0-9, once at start-up. */
export const drawAckTrigger = (random: () => number): number => Math.min(ACK_DIVISOR - 1, Math.floor(Math.max(random(), 0) * ACK_DIVISOR));

/**
 * After an accepted in-order packet: should we ACK `seq`? `firstMissing` is
 * the lowest seq still missing from that sender (undefined: none).
 */
export function shouldAck(seq: number, trigger: number, firstMissing: number | undefined): boolean {
  if (firstMissing !== undefined && seq > firstMissing) return false;
  return seq % ACK_DIVISOR === trigger;
}

/**
 * The missing packet `filled` (which was the first missing one) arrived. The
 * seq to ACK now, or undefined. `nextMissing`: the lowest still missing after
 * it (undefined: none); `lastSeq`: the highest seq seen from the sender.
 */
export function ackAfterGapFilled(filled: number, nextMissing: number | undefined, lastSeq: number, trigger: number): number | undefined {
  const complete = nextMissing === undefined ? lastSeq : nextMissing - 1;
  const tens = Math.floor(complete / ACK_DIVISOR);
  const ack = complete % ACK_DIVISOR >= trigger ? tens * ACK_DIVISOR + trigger : (tens - 1) * ACK_DIVISOR + trigger;
  if (ack < filled || ack <= 0) return undefined;
  return shouldAck(ack, trigger, nextMissing) ? ack : undefined;
}
