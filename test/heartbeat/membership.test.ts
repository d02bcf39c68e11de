import { describe, expect, it } from 'vitest';
import { HbError } from '../../lib/shared/errors.js';
import { MembershipMachine } from '../../lib/heartbeat/membership/index.js';
import { BASE_CONFIG, Harness } from './membership-harness.js';

/** A started two-node cluster where node2 is heard at 100 ms and the node list exchange is done. */
function upPair(overrides = {}): Harness {
  const h = new Harness(overrides);
  h.start(0);
  h.status(100, 'node2', { st: 'up' });
  h.packet(150, { from: 'node2', link: 'eth0', type: 'repnodes', seq: 2, generation: 1 });
  return h;
}

describe('start-up', () => {
  it('announces init then up, advertising deadtime + 2 s', () => {
    const h = new Harness();
    const step = h.start(0);
    expect(step.actions.filter((a) => a.kind === 'sendStatus')).toEqual([
      { kind: 'sendStatus', status: 'init', deadtimeMs: 7000, protocol: true },
      { kind: 'sendStatus', status: 'up', deadtimeMs: 7000, protocol: true },
    ]);
    expect(h.logs()).toEqual(["info: Local status now set to: 'up'"]);
    expect(step.nextDeadline).toBe(1000);
  });

  it('sends a status every keepalive on the start-time grid, and drops the extra 2 s at exactly 5 s', () => {
    const h = new Harness({ initdeadMs: 60000, deadtimeMs: 30000 });
    h.start(7);
    h.runUntil(7 + 6000);
    const sends = h.of('sendStatus').map((x) => [x.at, x.action.deadtimeMs]);
    expect(sends).toEqual([
      [7, 32000],
      [7, 32000],
      [1007, 32000],
      [2007, 32000],
      [3007, 32000],
      [4007, 32000],
      [5007, 32000], // the keepalive of that instant still carries the old dt…
      [5007, 30000], // …then one extra status with the plain deadtime, as observed
      [6007, 30000],
    ]);
  });

  it('a node alone declares its peer dead at exactly initdead, then goes active without reqnodes', () => {
    const h = new Harness();
    h.start(0);
    h.runUntil(9999);
    expect(h.of('nodeStatus')).toEqual([]);
    h.runUntil(10000);
    expect(h.of('nodeStatus')).toEqual([
      { at: 10000, action: { kind: 'nodeStatus', node: 'node2', nodeKind: 'normal', status: 'dead', previous: 'init', gaveUpResources: false } },
    ]);
    expect(h.logs(10000)).toEqual([
      'WARN: node node2: is dead',
      'info: Comm_now_up(): updating status to active',
      "info: Local status now set to: 'active'",
    ]);
    expect(h.of('sendReqnodes')).toEqual([]);
    expect(h.of('commUp').map((x) => x.at)).toEqual([10000]);
  });

  it('hearing the peer brings its link up, asks for the node list every second, and goes active on repnodes', () => {
    const h = new Harness();
    h.start(0);
    h.status(1060, 'node2', { st: 'up' });
    expect(h.logs(1060)).toEqual(['info: Link node2:eth0 up.', 'info: Status update for node node2: status up']);
    expect(h.of('sendReqnodes').map((x) => [x.at, x.action.dest])).toEqual([[1060, 'node2']]);
    h.runUntil(3060);
    expect(h.of('sendReqnodes').map((x) => x.at)).toEqual([1060, 2060, 3060]);
    h.packet(3100, { from: 'node2', link: 'eth0', type: 'repnodes', seq: 2, generation: 1 });
    expect(h.machine.isCommUp).toBe(true);
    expect(h.logs(3100)).toEqual(['info: Comm_now_up(): updating status to active', "info: Local status now set to: 'active'"]);
    expect(h.of('sendStatus').at(-1)).toEqual({ at: 3100, action: { kind: 'sendStatus', status: 'active', deadtimeMs: 7000, protocol: true } });
    h.runUntil(10000);
    expect(h.of('sendReqnodes').length).toBe(3);
  });

  it('a repnodes goes active at once, even before every node was heard; initdead still applies then', () => {
    const h = new Harness({ nodes: ['node1', 'node2', 'node3'] });
    h.start(0);
    h.status(100, 'node2', { st: 'up' });
    h.packet(200, { from: 'node2', link: 'eth0', type: 'repnodes', seq: 2, generation: 1 });
    expect(h.of('commUp').map((x) => x.at)).toEqual([200]);
    h.runUntil(10000);
    // node2 stays silent after 100 ms, yet initdead (not deadtime) applies until node3 is accounted for.
    expect(h.logs().filter((l) => l.includes('is dead'))).toEqual(['WARN: node node3: is dead', 'WARN: node node2: is dead']);
    expect(h.whenLogged('node node2: is dead')).toBe(10000);
    expect(h.of('sendReqnodes')).toEqual([]);
    expect(h.of('commUp')).toHaveLength(1);
  });

  it('before comm-up, resource messages are lost (as the original); NS_ and shutdone are not', () => {
    const h = new Harness();
    h.start(0);
    h.status(100, 'node2', { st: 'up' }); // links up, reqnodes sent, waiting for repnodes
    h.packet(200, { from: 'node2', link: 'eth0', type: 'starting', seq: 2, generation: 1, ref: 'lost' });
    h.packet(210, { from: 'node2', link: 'eth0', type: 'NS_ackmsg', ref: 'ack' });
    h.packet(220, { from: 'node2', link: 'eth0', type: 'repnodes', seq: 3, generation: 1 });
    h.packet(230, { from: 'node2', link: 'eth0', type: 'resource', seq: 4, generation: 1, ref: 'kept' });
    expect(h.of('deliver').map((x) => x.action.ref)).toEqual(['ack', 'kept']);
    expect(h.machine.counters().beforeCommUp).toBe(1);
  });

  it('without flow control, the message that completes comm-up is itself delivered', () => {
    const h = new Harness({ nodes: ['node1', 'node2', 'node3'] });
    h.start(0);
    h.status(100, 'node2', { st: 'up', protocol: false });
    h.packet(200, { from: 'node3', link: 'eth0', type: 'starting', seq: 1, generation: 1, ref: 'first' });
    expect(h.of('commUp').map((x) => x.at)).toEqual([200]);
    expect(h.of('deliver').map((x) => x.action.ref)).toEqual(['first']);
  });

  it('answers reqnodes with every normal node in ha.cf order and an empty deleted list', () => {
    const h = new Harness({ nodes: ['node1', 'node2', 'node3'], pingNodes: ['gw'] });
    h.start(0);
    h.packet(50, { from: 'node3', link: 'eth0', type: 'reqnodes', seq: 1, generation: 9 });
    expect(h.of('sendRepnodes').map((x) => x.action)).toEqual([
      { kind: 'sendRepnodes', dest: 'node3', nodelist: ['node1', 'node2', 'node3'], delnodelist: [] },
    ]);
  });
});

describe('death by silence', () => {
  it('declares the peer dead at exactly last heartbeat + its advertised deadtime, not a ms before', () => {
    const h = upPair();
    h.status(2000, 'node2', { dt: 7000 });
    h.runUntil(8999);
    expect(h.of('nodeStatus').filter((x) => x.action.status === 'dead')).toEqual([]);
    h.runUntil(9000);
    expect(h.of('nodeStatus').filter((x) => x.action.status === 'dead').map((x) => x.at)).toEqual([9000]);
    expect(h.logs(9000)).toEqual(['WARN: node node2: is dead', 'info: Link node2:eth0 dead.']);
  });

  it('uses the peer deadtime, not ours, in both directions', () => {
    const short = upPair({ deadtimeMs: 30000, initdeadMs: 30000 });
    short.status(1000, 'node2', { dt: 4000 });
    short.runUntil(6000);
    expect(short.whenLogged('node node2: is dead')).toBe(5000);

    const long = upPair();
    long.status(1000, 'node2', { dt: 20000 });
    long.runUntil(30000);
    expect(long.whenLogged('node node2: is dead')).toBe(21000);
  });

  it('keeps our deadtime when the peer sends no dt', () => {
    const h = upPair();
    h.status(1000, 'node2', { dt: null });
    h.runUntil(7000);
    expect(h.whenLogged('node node2: is dead')).toBe(6000);
  });

  it('a node heard once before comm-up is judged by initdead until every node was heard', () => {
    const h = new Harness({ nodes: ['node1', 'node2', 'node3'] });
    h.start(0);
    h.status(500, 'node2', { st: 'up' }); // node3 never heard: initdead still applies to node2
    h.runUntil(9999);
    expect(h.logs().filter((l) => l.includes('is dead'))).toEqual([]);
    h.runUntil(10000);
    // node3 dies at initdead; then deadtime applies and node2, silent for 9.5 s, follows at once.
    expect(h.logs(10000).filter((l) => l.includes('is dead'))).toEqual(['WARN: node node3: is dead', 'WARN: node node2: is dead']);
  });

  it('one silent medium of two is a link event, not a node death', () => {
    const h = upPair({ media: ['eth0', 'eth1'] });
    h.status(1000, 'node2', { link: 'eth1', seq: 3 });
    h.status(1000, 'node2', { link: 'eth0', seq: 3 }); // the same packet on the other medium
    for (let t = 2000; t <= 12000; t += 1000) h.status(t, 'node2', { link: 'eth0' });
    expect(h.whenLogged('Link node2:eth1 dead.')).toBe(6000);
    expect(h.of('linkStatus').map((x) => [x.at, x.action.link, x.action.status])).toEqual([
      [100, 'eth0', 'up'],
      [1000, 'eth1', 'up'],
      [6000, 'eth1', 'dead'],
    ]);
    expect(h.logs().filter((l) => l.includes('is dead'))).toEqual([]);
    // Then the last medium goes quiet: the node dies with it.
    h.runUntil(20000);
    expect(h.whenLogged('node node2: is dead')).toBe(17000);
    expect(h.whenLogged('Link node2:eth0 dead.')).toBe(17000);
    expect(h.machine.nodeView('node2')).toMatchObject({ status: 'dead', links: [{ name: 'eth0', status: 'dead' }, { name: 'eth1', status: 'dead' }] });
  });

  it('links are named after our media, tty paths included', () => {
    const h = upPair({ media: ['/dev/ttyS0', 'eth1'] });
    h.status(1000, 'node2', { link: '/dev/ttyS0', st: 'up' });
    expect(h.logs(1000)).toEqual(['info: Link node2:/dev/ttyS0 up.']);
    h.runUntil(7000);
    expect(h.whenLogged('Link node2:/dev/ttyS0 dead.')).toBe(6000);
  });

  it('any packet on a link keeps the link up, only status packets keep the node alive', () => {
    const h = upPair();
    h.status(1000, 'node2');
    for (let t = 2000, s = 10; t <= 9000; t += 1000, s++) h.packet(t, { from: 'node2', link: 'eth0', type: 'resource', seq: s, generation: 1 });
    h.runUntil(9000);
    expect(h.whenLogged('node node2: is dead')).toBe(6000);
    expect(h.whenLogged('Link node2:eth0 dead.')).toBeUndefined();
    h.runUntil(14000);
    expect(h.whenLogged('Link node2:eth0 dead.')).toBe(14000);
  });

  it('a peer that announced shutdone is reported dead as having given up its resources', () => {
    const h = upPair();
    h.status(1000, 'node2');
    h.packet(1200, { from: 'node2', link: 'eth0', type: 'shutdone', seq: 4, generation: 1, status: 'dead' });
    expect(h.logs(1200)).toEqual(["info: Received shutdown notice from 'node2'."]);
    expect(h.of('peerShutdown').map((x) => x.at)).toEqual([1200]);
    h.runUntil(7000);
    expect(h.of('nodeStatus').at(-1)).toEqual({
      at: 6000,
      action: { kind: 'nodeStatus', node: 'node2', nodeKind: 'normal', status: 'dead', previous: 'active', gaveUpResources: true },
    });
  });
});

describe('late heartbeats', () => {
  it('warns only when the interval exceeds warntime, with the original text', () => {
    const h = upPair({ deadtimeMs: 10000, initdeadMs: 10000 });
    h.status(1000, 'node2', { dt: 10000 });
    h.status(4000, 'node2', { dt: 10000 }); // exactly warntime: silent
    h.status(7001, 'node2', { dt: 10000 });
    expect(h.logs().filter((l) => l.includes('Late'))).toEqual(['WARN: Late heartbeat: Node node2: interval 3001 ms']);
  });

  it('past our deadtime but within the peer dt: CRIT, marked dead and revived by the same packet', () => {
    const h = upPair();
    h.status(1000, 'node2', { dt: 8000 });
    h.status(7000, 'node2', { dt: 8000 });
    expect(h.logs(7000)).toEqual([
      'CRIT: Late heartbeat: Node node2: interval 6000 ms (> deadtime)',
      'WARN: node node2: is dead',
      'info: Status update for node node2: status active',
    ]);
    expect(h.of('nodeStatus').slice(-2).map((x) => [x.action.previous, x.action.status])).toEqual([
      ['active', 'dead'],
      ['dead', 'active'],
    ]);
  });

  it('no late warning for the first status after a restart', () => {
    const h = upPair();
    h.status(1000, 'node2');
    h.status(4500, 'node2', { gen: 2, seq: 1, st: 'init' });
    expect(h.logs(4500)).toEqual(['info: Heartbeat restart on node node2', 'info: Status update for node node2: status init']);
  });
});

describe('generations and sequence numbers', () => {
  it('a higher generation is a restart: logged, reported, and its seq starts over', () => {
    const h = upPair();
    h.status(1000, 'node2', { seq: 50 });
    h.status(2000, 'node2', { gen: 2, seq: 1, st: 'up' });
    expect(h.of('peerRestarted').map((x) => x.action)).toEqual([{ kind: 'peerRestarted', node: 'node2', generation: 2 }]);
    expect(h.machine.nodeView('node2')).toMatchObject({ generation: 2, status: 'up' });
    h.status(3000, 'node2', { gen: 2, seq: 2, st: 'active' });
    expect(h.machine.nodeView('node2')?.status).toBe('active');
  });

  it('an older generation is a replay: dropped, counted, logged, and it does not refresh anything', () => {
    const h = upPair();
    h.status(1000, 'node2', { gen: 5 });
    h.status(4000, 'node2', { gen: 4, seq: 99, link: 'eth0' });
    expect(h.machine.counters().replayedGeneration).toBe(1);
    expect(h.logs(4000)).toEqual(['ERROR: should_drop_message: attempted replay attack [node2]? [gen = 4, curgen = 5]']);
    h.runUntil(7000);
    expect(h.whenLogged('node node2: is dead')).toBe(6000);
  });

  it('the same seq again is a duplicate: it refreshes the link it came on and nothing else', () => {
    const h = upPair({ media: ['eth0', 'eth1'] });
    h.status(1000, 'node2', { seq: 7, link: 'eth0' });
    h.status(1001, 'node2', { seq: 7, link: 'eth1', st: 'up' });
    expect(h.machine.counters().duplicate).toBe(1);
    expect(h.machine.nodeView('node2')?.status).toBe('active');
    expect(h.logs(1001)).toEqual(['info: Link node2:eth1 up.']);
  });

  it('an old seq that was never missing is dropped as an old duplicate', () => {
    const h = upPair();
    h.status(1000, 'node2', { seq: 3 });
    h.status(1100, 'node2', { seq: 4 });
    h.status(1200, 'node2', { seq: 2 });
    expect(h.machine.counters().oldDuplicate).toBe(1);
  });

  it('a gap is reported for retransmission and the late packet is then accepted once', () => {
    const h = upPair();
    h.status(1000, 'node2', { seq: 3 });
    h.status(2000, 'node2', { seq: 6 });
    expect(h.logs(2000)).toEqual(['WARN: 2 lost packet(s) for [node2] [3:6]']);
    expect(h.of('missingPackets').map((x) => x.action)).toEqual([{ kind: 'missingPackets', node: 'node2', firstSeq: 4, lastSeq: 5 }]);
    const deliver = () => h.of('deliver').length;
    h.packet(2100, { from: 'node2', link: 'eth0', type: 'ip-request', seq: 4, generation: 1, ref: 'pkt4' });
    expect(h.of('deliver').at(-1)?.action).toEqual({ kind: 'deliver', node: 'node2', type: 'ip-request', ref: 'pkt4' });
    const n = deliver();
    h.packet(2200, { from: 'node2', link: 'eth0', type: 'ip-request', seq: 4, generation: 1 });
    expect(deliver()).toBe(n);
    expect(h.machine.counters().oldDuplicate).toBe(1);
  });

  it('a status without st is logged and otherwise ignored (the link still counts)', () => {
    const h = upPair();
    h.packet(1000, { from: 'node2', link: 'eth0', type: 'status', seq: 3, generation: 1 });
    expect(h.logs(1000)).toEqual(['ERROR: HBDoMsg_T_STATUS: status update without st field']);
    expect(h.machine.nodeView('node2')?.status).toBe('up');
  });

  it('reports each accepted sequenced packet for the ACK and retransmission layer', () => {
    const h = upPair();
    h.status(1000, 'node2', { seq: 3 });
    h.status(1100, 'node2', { seq: 6 });
    h.packet(1200, { from: 'node2', link: 'eth0', type: 'resource', seq: 4, generation: 1, toUs: false });
    h.packet(1300, { from: 'node2', link: 'eth0', type: 'NS_ackmsg' });
    expect(h.of('sequenced').filter((x) => x.at >= 1000).map((x) => x.action)).toEqual([
      { kind: 'sequenced', node: 'node2', seq: 3, order: 'inOrder', firstMissing: undefined, lastSeq: 3 },
      { kind: 'sequenced', node: 'node2', seq: 6, order: 'gap', firstMissing: 4, lastSeq: 6 },
      { kind: 'sequenced', node: 'node2', seq: 4, order: 'filledGap', firstMissing: 5, lastSeq: 6 },
    ]);
  });

  it('an NS_nak_rexmit gives the number up, for us or not, and is not delivered', () => {
    const h = upPair();
    h.status(1000, 'node2', { seq: 3 });
    h.status(1100, 'node2', { seq: 6 });
    h.packet(1200, { from: 'node2', link: 'eth0', type: 'NS_nak_rexmit', toUs: false, fields: { firstseq: '4' } });
    h.packet(1300, { from: 'node2', link: 'eth0', type: 'NS_nak_rexmit', fields: { firstseq: 'zz' } });
    expect(h.of('nakReceived').map((x) => x.action)).toEqual([{ kind: 'nakReceived', node: 'node2', seq: 4, toUs: false }]);
    expect(h.logs(1300)).toEqual(['ERROR: should_drop_message: bad nak seq number']);
    expect(h.of('deliver').filter((x) => x.at >= 1200)).toEqual([]);
    h.packet(1400, { from: 'node2', link: 'eth0', type: 'resource', seq: 4, generation: 1 });
    expect(h.machine.counters().oldDuplicate).toBe(1); // no longer missing
    h.packet(1500, { from: 'node2', link: 'eth0', type: 'resource', seq: 5, generation: 1 });
    expect(h.of('sequenced').at(-1)?.action).toMatchObject({ seq: 5, order: 'filledGap', firstMissing: undefined });
  });

  it('a packet without a usable seq is dropped as bad', () => {
    const h = upPair();
    h.packet(1000, { from: 'node2', link: 'eth0', type: 'status', status: 'active', generation: 1 });
    h.packet(1001, { from: 'node2', link: 'eth0', type: 'status', status: 'active', seq: 0, generation: 1 });
    expect(h.machine.counters().badSequence).toBe(2);
  });

  it('packets addressed to another node are sequence-tracked but neither refresh links nor get delivered', () => {
    const h = upPair({ nodes: ['node1', 'node2', 'node3'], media: ['eth0', 'eth1'] });
    h.packet(1000, { from: 'node2', link: 'eth1', type: 'ip-request-resp', seq: 3, generation: 1, toUs: false });
    expect(h.machine.counters().notForUs).toBe(1);
    expect(h.logs(1000)).toEqual([]);
    expect(h.of('deliver').filter((x) => x.at >= 1000)).toEqual([]);
    h.status(1100, 'node2', { seq: 3 });
    expect(h.machine.counters().duplicate).toBe(1);
  });

  it('a status from a node we declared dead with the same generation is a healed partition', () => {
    const h = upPair();
    h.status(1000, 'node2', { seq: 20 });
    h.runUntil(6000);
    expect(h.machine.nodeView('node2')?.status).toBe('dead');
    h.status(7000, 'node2', { seq: 20 }); // stale: not newer than the last status seen
    expect(h.machine.counters().staleAfterDeath).toBe(1);
    h.status(15000, 'node2', { seq: 30 });
    // The exact order of the original's log (vectors/ucast-2node/node2-ha-log.txt).
    expect(h.logs(15000)).toEqual([
      'CRIT: Cluster node node2 returning after partition.',
      'info: For information on cluster partitions, See URL: http://linux-ha.org/wiki/Split_Brain',
      'WARN: Deadtime value may be too small.',
      'info: See FAQ for information on tuning deadtime.',
      'info: URL: http://linux-ha.org/wiki/FAQ#Heavy_Load',
      'info: Link node2:eth0 up.',
      'CRIT: Late heartbeat: Node node2: interval 14000 ms (> deadtime)',
      'WARN: node node2: is dead',
      'info: Status update for node node2: status active',
    ]);
    expect(h.of('partitionHealed').map((x) => x.at)).toEqual([15000]);
  });

  it('an older status overtaken by a newer one is ignored', () => {
    const h = upPair();
    h.status(1000, 'node2', { seq: 10, ts: 500, st: 'active' });
    h.status(1100, 'node2', { seq: 12, ts: 502 });
    h.status(1200, 'node2', { seq: 11, ts: 501, st: 'up' }); // the missing 11 arrives late
    expect(h.machine.counters().olderStatus).toBe(1);
    expect(h.machine.nodeView('node2')?.status).toBe('active');
  });

  it('packets from unknown nodes are dropped and counted', () => {
    const h = upPair();
    h.status(1000, 'Node2');
    h.status(1000, 'intruder');
    expect(h.machine.counters().unknownNode).toBe(2);
    expect(h.logs(1000)).toEqual([
      'ERROR: process_status_message: bad node [Node2] in message',
      'ERROR: process_status_message: bad node [intruder] in message',
    ]);
  });
});

describe('flow control', () => {
  it('a peer status without protocol disables flow control: no reqnodes, our status stops carrying protocol', () => {
    const h = new Harness();
    h.start(0);
    h.status(500, 'node2', { st: 'up', protocol: false });
    expect(h.of('flowControlDisabled').map((x) => x.action.node)).toEqual(['node2']);
    expect(h.logs(500)).toContain('info: flow control disabled due to different version heartbeat');
    expect(h.of('sendReqnodes')).toEqual([]);
    expect(h.machine.isCommUp).toBe(true);
    expect(h.of('sendStatus').at(-1)?.action).toEqual({ kind: 'sendStatus', status: 'active', deadtimeMs: 7000, protocol: false });
  });
});

describe('ping nodes', () => {
  it('a ping node has one link named after itself, reports status ping and dies after deadping', () => {
    const h = new Harness({ pingNodes: ['10.0.0.254'], deadpingMs: 8000 });
    h.start(0);
    h.status(100, 'node2', { st: 'up' });
    h.packet(200, { from: '10.0.0.254', link: '10.0.0.254', type: 'NS_st', status: 'ping' });
    expect(h.logs(200)).toEqual(['info: Link 10.0.0.254:10.0.0.254 up.', 'info: Status update for node 10.0.0.254: status ping']);
    h.packet(300, { from: 'node2', link: 'eth0', type: 'repnodes', seq: 2, generation: 1 });
    h.runUntil(8300);
    expect(h.whenLogged('node 10.0.0.254: is dead')).toBe(8200);
  });
});

describe('local side', () => {
  it('graceful shutdown sends shutdone, keeps beating, and exits 2 s later', () => {
    const h = upPair();
    h.runUntil(2500);
    const step = h.shutdown(2500);
    expect(step.actions).toEqual([{ kind: 'sendShutdone' }]);
    h.runUntil(4500);
    expect(h.of('exit').map((x) => x.at)).toEqual([4500]);
    expect(h.of('sendStatus').filter((x) => x.at > 2500).map((x) => x.at)).toEqual([3000, 4000]);
    expect(h.next).toBeUndefined();
    expect(h.raw({ kind: 'tick', now: 9000 }).actions).toEqual([]);
  });

  it('reports a stalled loop as a lost local heartbeat and late heartbeats of our own', () => {
    const h = upPair();
    h.runUntil(6000);
    const step = h.raw({ kind: 'tick', now: 13500 });
    const logs = step.actions.flatMap((a) => (a.kind === 'log' ? [`${a.level}: ${a.text}`] : []));
    expect(logs.slice(0, 3)).toEqual([
      'WARN: node node1: is dead',
      'ERROR: No local heartbeat. Forcing restart.',
      'info: See URL: http://linux-ha.org/wiki/FAQ#No_Local_Heartbeat',
    ]);
    expect(logs).toContain('CRIT: Late heartbeat: Node node1: interval 7500 ms (> deadtime)');
    expect(step.actions.filter((a) => a.kind === 'localHeartbeatLost')).toHaveLength(1);
    // Only one beat for the missed ones; the grid is kept.
    expect(step.actions.filter((a) => a.kind === 'sendStatus')).toHaveLength(1);
    expect(step.nextDeadline).toBe(14000);
  });

  it('hearing our own packets on a medium only brings our own link up', () => {
    const h = upPair();
    h.packet(1000, { from: 'node1', link: 'eth0', type: 'status', status: 'active', seq: 5, generation: 3 });
    expect(h.logs(1000)).toEqual(['info: Link node1:eth0 up.']);
  });

  it('ignores events before start, and a clock going back is counted, not obeyed', () => {
    const h = new Harness();
    expect(h.raw({ kind: 'tick', now: 5 }).nextDeadline).toBeUndefined();
    h.start(1000);
    const back = h.raw({ kind: 'tick', now: 10 });
    expect(back.actions).toEqual([]);
    expect(back.nextDeadline).toBe(2000);
    expect(h.machine.counters().clockWentBack).toBe(1);
  });
});

describe('config', () => {
  const bad = (over: object) => () => new MembershipMachine({ ...BASE_CONFIG, ...over });
  it.each([
    [{ deadtimeMs: 2000 }],
    [{ initdeadMs: 4000 }],
    [{ keepaliveMs: 0 }],
    [{ warntimeMs: 1.5 }],
    [{ localNode: 'node9' }],
    [{ nodes: ['node1', 'node1'] }],
  ])('refuses %o with MEMBERSHIP_CONFIG', (over) => {
    expect(bad(over)).toThrow(HbError);
    try {
      bad(over)();
    } catch (e) {
      expect((e as HbError).code).toBe('MEMBERSHIP_CONFIG');
    }
  });
});
