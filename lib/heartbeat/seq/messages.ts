/**
 * The `NS_*` control messages of the reliability layer, built with the field
 * order and number bases of Heartbeat 3.0.6 (heartbeat-wire.md §4.4-4.6). The
 * shell adds the control fields (src, srcuuid, hg, ts, ttl, auth) when sending.
 */
import { HaMessage } from '../wire/message.js';

/** `t=NS_rexmit`: ask `node` to resend one packet; seq numbers in *decimal*. */
export const rexmitRequest = (node: string, seq: number): HaMessage =>
  new HaMessage().add('t', 'NS_rexmit').add('dest', node).setDecimal('firstseq', seq).setDecimal('lastseq', seq);

/** `t=NS_nak_rexmit`: we cannot resend `seq` to `node`; seq in *hex*. */
export const nakRexmit = (node: string, seq: number, reason: NakReason): HaMessage =>
  new HaMessage().add('t', 'NS_nak_rexmit').setHex('firstseq', seq).add('dest', node).add('info', reason);

/** `t=NS_ackmsg`: everything from `node` up to `seq` arrived; seq in *hex*. */
export const ackMessage = (node: string, seq: number): HaMessage => new HaMessage().add('t', 'NS_ackmsg').add('dest', node).setHex('ackseq', seq);

export type NakReason = 'seqno too low' | 'seqno not found';
