/** Retransmission requests, transmit history and ACK policy (heartbeat-wire.md §4.4-4.5). */
import { describe, expect, it } from 'vitest';
import {
  FLOW_CONTROL_LIMIT,
  HISTORY_SIZE,
  MAX_REXMIT_BATCH,
  RetransmitRequests,
  TransmitHistory,
  ackAfterGapFilled,
  ackMessage,
  drawAckTrigger,
  shouldAck,
  type HistoryAction,
  type RexmitAction,
} from '../../lib/heartbeat/seq/index.js';
import { encodeNetstring } from '../../lib/heartbeat/wire/index.js';

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const up = () => true;
const sends = (a: readonly RexmitAction[]) => a.filter((x) => x.kind === 'send').map((x) => x.seq);
const kinds = (a: readonly HistoryAction[]) => a.map((x) => (x.kind === 'resend' ? `resend ${x.seq}` : x.kind === 'send' ? `nak ${x.message.get('firstseq')} ${x.message.get('info')}` : `log ${x.text}`));

describe('retransmission requests', () => {
  it('asks after a random 50-250 ms, then every 250 ms, until the packet arrives', () => {
    const r = new RetransmitRequests({ random: () => 0.5 });
    r.missing('node1', 5, 6, 1000);
    expect(r.nextDeadline).toBe(1150);
    expect(r.tick(1149, up)).toEqual([]);
    const first = r.tick(1150, up);
    expect(sends(first)).toEqual([5, 6]);
    const msg = first[0]!.kind === 'send' ? first[0]!.message : undefined;
    expect(text(encodeNetstring(msg!))).toBe('###\n14:(0)t=NS_rexmit,13:(0)dest=node1,13:(0)firstseq=5,12:(0)lastseq=5,%%%\n');
    expect(r.nextDeadline).toBe(1400);
    r.arrived('node1', 5);
    expect(sends(r.tick(1400, up))).toEqual([6]);
    r.arrived('node1', 6);
    expect(r.nextDeadline).toBeUndefined();
  });

  it('draws the first delay from [0, max] when max_rexmit_delay is under 100 ms', () => {
    const r = new RetransmitRequests({ random: () => 0, maxRexmitDelayMs: 80 });
    r.missing('n', 1, 1, 0);
    expect(r.nextDeadline).toBe(0);
    const s = new RetransmitRequests({ random: () => 0.999999, maxRexmitDelayMs: 250 });
    s.missing('n', 1, 1, 0);
    expect(s.nextDeadline).toBe(250);
  });

  it('stops for good when the peer is not up, when it NAKs, and when tracking is reset', () => {
    const r = new RetransmitRequests({ random: () => 0 });
    r.missing('a', 1, 3, 0);
    r.missing('b', 7, 7, 0);
    expect(r.nak('a', 2, true)).toEqual({ kind: 'lost', node: 'a', seq: 2, log: 'Irretrievably lost packet: node a seq 2' });
    expect(r.nak('a', 9, false).log).toBeUndefined();
    expect(sends(r.tick(50, (n) => n === 'a'))).toEqual([1, 3]);
    expect(r.pending('b')).toEqual([]);
    r.forget('a');
    expect(r.nextDeadline).toBeUndefined();
  });

  it('does not reschedule a number already being asked for', () => {
    const r = new RetransmitRequests({ random: () => 0 });
    r.missing('a', 1, 1, 0);
    r.missing('a', 1, 1, 40);
    expect(r.nextDeadline).toBe(50);
  });
});

describe('transmit history', () => {
  const pkt = (seq: number) => Uint8Array.of(seq & 0xff, seq >> 8);

  it('resends what it holds, unchanged, at most once per 240 ms', () => {
    const h = new TransmitHistory();
    for (let s = 1; s <= 10; s++) h.record(s, pkt(s), 2);
    const a = h.onRexmitRequest('node2', 3, 4, 1000);
    expect(kinds(a)).toEqual(['resend 3', 'resend 4']);
    expect(a[0]).toMatchObject({ packet: pkt(3) });
    expect(h.onRexmitRequest('node2', 3, 3, 1239)).toEqual([]);
    expect(kinds(h.onRexmitRequest('node2', 3, 3, 1240))).toEqual(['resend 3']);
  });

  it('NAKs what it no longer holds and ignores what it never sent', () => {
    const h = new TransmitHistory();
    for (let s = 1; s <= HISTORY_SIZE + 5; s++) h.record(s, pkt(s), 1);
    expect(h.lowSeq).toBe(5);
    const a = h.onRexmitRequest('node2', 5, 6, 0);
    expect(kinds(a)).toEqual(['log Cannot rexmit pkt 5 for node2: seqno too low', 'nak 5 seqno too low', 'resend 6']);
    const nak = a[1]!.kind === 'send' ? a[1]!.message : undefined;
    expect(text(encodeNetstring(nak!))).toBe('###\n18:(0)t=NS_nak_rexmit,13:(0)firstseq=5,13:(0)dest=node2,21:(0)info=seqno too low,%%%\n');
    expect(kinds(h.onRexmitRequest('node2', HISTORY_SIZE + 6, HISTORY_SIZE + 9, 0))).toEqual([`log Rexmit of seq ${HISTORY_SIZE + 6} requested. ${HISTORY_SIZE + 5} is max.`]);
    expect(kinds(h.onRexmitRequest('node2', 0, 3, 0))).toEqual(['log Invalid rexmit seqnos']);
  });

  it('resends at most 50 packets for one request', () => {
    const h = new TransmitHistory();
    for (let s = 1; s <= 100; s++) h.record(s, pkt(s), 2);
    expect(h.onRexmitRequest('node2', 1, 100, 0).filter((a) => a.kind === 'resend')).toHaveLength(MAX_REXMIT_BATCH);
  });

  it('a hostile range costs bounded work', () => {
    const h = new TransmitHistory();
    for (let s = 1; s <= 2000; s++) h.record(s, pkt(s), 1);
    expect(h.onRexmitRequest('x', 1, 1e12, 0).length).toBeLessThan(2 * HISTORY_SIZE + 100);
  });

  it('forgets what every live peer acknowledged and skips requests for acknowledged packets', () => {
    const h = new TransmitHistory();
    for (let s = 1; s <= 30; s++) h.record(s, pkt(s), 3);
    const live = ['me', 'node2', 'node3'];
    h.onAck('node2', 20, live, 'me');
    expect(h.ackSeq).toBe(0);
    h.onAck('node3', 10, live, 'me');
    expect(h.ackSeq).toBe(10);
    expect(h.held()[0]).toBe(11);
    expect(h.onRexmitRequest('node2', 15, 15, 0)).toEqual([]);
    expect(kinds(h.onRexmitRequest('node3', 15, 15, 0))).toEqual(['resend 15']);
    expect(h.onRexmitRequest('node3', 9, 9, 0)).toEqual([]);
    expect(kinds(h.onRexmitRequest('node4', 9, 9, 0))).toEqual(['log Cannot rexmit pkt 9 for node4: seqno too low', 'nak 9 seqno too low']);
    expect(h.onAck('node3', 99, live, 'me')[0]).toMatchObject({ kind: 'log', level: 'ERROR' });
    expect(h.onAck('node3', 5, live, 'me')).toEqual([]);
    expect(h.peerAck('node3')).toBe(10);
  });

  it('engages flow control past 250 unacknowledged messages, and warns as the history fills', () => {
    const h = new TransmitHistory();
    const logs: string[] = [];
    for (let s = 1; s <= 460; s++) for (const a of h.record(s, pkt(s), 2)) if (a.kind === 'log') logs.push(`${a.level} ${a.text}`);
    expect(h.congested(2)).toBe(true);
    expect(h.congested(1)).toBe(false);
    expect(logs[0]).toBe('WARN Message hist queue is filling up (376 messages in queue)');
    expect(logs[logs.length - 1]).toBe('ERROR Message hist queue is filling up (460 messages in queue)');
    h.onAck('node2', 300, ['me', 'node2'], 'me');
    expect(h.congested(2)).toBe(false);
  });

  it('alone, it trims itself to the flow-control limit', () => {
    const h = new TransmitHistory();
    for (let s = 1; s <= 400; s++) h.record(s, pkt(s), 1);
    h.onAck('node2', 1, ['me'], 'me');
    expect(h.hiSeq - h.ackSeq).toBe(FLOW_CONTROL_LIMIT - 1);
  });

  it('refuses out-of-order recording', () => {
    const h = new TransmitHistory();
    h.record(5, pkt(5), 1);
    expect(() => h.record(5, pkt(5), 1)).toThrow(expect.objectContaining({ code: 'XMIT_HISTORY_ORDER' }));
  });
});

describe('ACK policy', () => {
  it('acks in-order packets ending in the trigger digit while nothing earlier is missing', () => {
    expect(shouldAck(23, 3, undefined)).toBe(true);
    expect(shouldAck(24, 3, undefined)).toBe(false);
    expect(shouldAck(23, 3, 20)).toBe(false);
    expect(shouldAck(13, 3, 20)).toBe(true);
  });

  it('after a gap is filled, acks the highest complete number ending in the trigger', () => {
    expect(ackAfterGapFilled(20, undefined, 37, 3)).toBe(33);
    expect(ackAfterGapFilled(20, 30, 37, 3)).toBe(23);
    expect(ackAfterGapFilled(20, 30, 37, 5)).toBe(25);
    expect(ackAfterGapFilled(25, undefined, 29, 3)).toBeUndefined();
    expect(ackAfterGapFilled(20, 22, 37, 3)).toBeUndefined();
  });

  it('draws a digit 0-9 and builds the NS_ackmsg of the captures', () => {
    expect([0, 0.05, 0.5, 0.999999].map((r) => drawAckTrigger(() => r))).toEqual([0, 0, 5, 9]);
    expect(text(encodeNetstring(ackMessage('node1', 0x1e)))).toBe('###\n14:(0)t=NS_ackmsg,13:(0)dest=node1,12:(0)ackseq=1e,%%%\n');
  });
});
