/**
 * The resource manager core, one event flow at a time, compared with
 * resources-spec §2.5 and the timelines of heartbeat-live.md §3.
 */
import { describe, expect, it } from 'vitest';
import { ResourceMachine } from '../../lib/resources/index.js';
import type { ResourceAction } from '../../lib/resources/index.js';
import { HbError } from '../../lib/shared/errors.js';
import { parseHaresources } from './manager-groups.js';
import { HARESOURCES, Sim, logs, runs, sends } from './manager-sim.js';

const G1 = 'IPaddr::10.0.0.10/24';
const G2 = '10.0.0.20';
const groups = parseHaresources(HARESOURCES);

function machine(extra: Partial<ConstructorParameters<typeof ResourceMachine>[0]> = {}): ResourceMachine {
  return new ResourceMachine({ localNode: 'node1', peerNode: 'node2', groups, autoFailback: 'on', ...extra });
}
const only = <K extends ResourceAction['kind']>(as: readonly ResourceAction[], k: K) => as.filter((a) => a.kind === k) as Extract<ResourceAction, { kind: K }>[];

describe('resource manager: start-up', () => {
  it('both nodes start: each takes its own group as soon as the peer says it holds nothing (no 10 s wait)', () => {
    const s = new Sim();
    s.startBoth();
    const n1 = s.nodes.node1.trace;
    expect(sends(n1)).toEqual([
      { t: 'starting' },
      { t: 'resource', rsc_hold: 'none', rtype: 'full', isstable: '0' },
      { t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '1', info: 'req_our_resources()' },
    ]);
    expect(runs(n1)).toEqual([`start ${G1}: IPaddr Filesystem apache`]);
    expect(logs(n1)).toEqual(['info: Local Resource acquisition completed.', 'info: Initial resource acquisition complete (T_RESOURCES)']);
    expect(s.now).toBe(0);
    expect(s.held(s.nodes.node1)).toEqual([G1]);
    expect(s.held(s.nodes.node2)).toEqual([G2]);
    expect(s.nodes.node1.m.rscstatus()).toBe('local');
    expect(s.nodes.node2.m.rscstatus()).toBe('local');
  });

  it('start calls run left to right, stop calls right to left', () => {
    const m = machine();
    m.handle({ kind: 'comm-up', now: 0, peer: 'dead' });
    const step = m.handle({ kind: 'group-result', now: 1, id: 1, outcome: 'started' });
    const start = only(step.actions, 'run-group')[0]!;
    expect(start.calls.map((c) => `${c.script} ${c.args.join(' ')} ${c.action}`)).toEqual(['IPaddr 10.0.0.10/24 start', 'Filesystem /dev/sdb1 /srv ext4 start', 'apache  start']);
    m.handle({ kind: 'group-result', now: 2, id: 2, outcome: 'started' });
    const down = m.handle({ kind: 'shutdown', now: 3 });
    const stop = only(down.actions, 'run-group')[0]!;
    expect(stop.key).toBe(G2);
    expect(stop.calls.map((c) => c.script + ' ' + c.action)).toEqual(['mysql stop', 'IPaddr stop']);
    const next = m.handle({ kind: 'group-result', now: 4, id: 3, outcome: 'stopped' });
    expect(only(next.actions, 'run-group')[0]!.calls.map((c) => c.script)).toEqual(['apache', 'Filesystem', 'IPaddr']);
  });

  it('a lone node (peer dead after initdead) takes every group, warning that disks are unprotected', () => {
    const m = machine();
    const step = m.handle({ kind: 'comm-up', now: 10_000, peer: 'dead' });
    expect(logs(step.actions)).toEqual([
      'WARN: No STONITH device configured.',
      'WARN: Shared disks are not protected.',
      'info: Resources being acquired from node2.',
      `info: Taking over resource group ${G2}`,
    ]);
    expect(only(step.actions, 'run-group').map((a) => a.key)).toEqual([G2]);
    const s2 = m.handle({ kind: 'group-result', now: 10_100, id: 1, outcome: 'started' });
    expect(only(s2.actions, 'run-group').map((a) => a.key)).toEqual([G1]);
    const s3 = m.handle({ kind: 'group-result', now: 10_200, id: 2, outcome: 'started' });
    expect(sends(s3.actions)).toEqual([
      { t: 'resource', rsc_hold: 'all', rtype: 'full', isstable: '1', info: 'req_our_resources()' },
      { t: 'resource', rsc_hold: 'foreign', info: 'mach_down' },
    ]);
    expect(logs(s3.actions)).toEqual([
      'info: mach_down takeover complete for node node2.',
      'info: mach_down takeover complete.',
      'info: Initial resource acquisition complete (mach_down)',
    ]);
    expect(m.rscstatus()).toBe('all');
  });

  it('a returning node does not take groups the running peer holds (auto_failback off)', () => {
    const s = new Sim({ autoFailback: 'off' });
    s.startBoth();
    s.crash(s.nodes.node1);
    s.clearTraces();
    const n1 = s.restart('node1');
    expect(logs(n1.trace)).toEqual([
      'info: remote resource transition completed.',
      'info: Local Resource acquisition completed. (none)',
      'info: Initial resource acquisition complete (T_RESOURCES(them))',
    ]);
    expect(s.held(n1)).toEqual([]);
    expect(s.held(s.nodes.node2)).toEqual([G1, G2]);
    expect(n1.m.rscstatus()).toBe('none');
  });

  it('auto_failback on: the peer gives the returning node its group back through the standby protocol', () => {
    const s = new Sim({ autoFailback: 'on' });
    s.startBoth();
    s.crash(s.nodes.node1);
    s.clearTraces();
    const n1 = s.restart('node1');
    const n2 = s.nodes.node2;
    expect(sends(n2.trace)).toEqual([
      // on peer-alive: what we run, in case it ran alone (a still-starting peer drops it)
      { t: 'resource', rsc_hold: 'all', rtype: 'full', isstable: '1', info: 'partition' },
      { t: 'resource', rsc_hold: 'all', rtype: 'full', isstable: '1' },
      { t: 'ask_resources', rsc_hold: 'foreign', info: 'me' },
      { t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '0', info: 'standby' },
      { t: 'ask_resources', rsc_hold: 'foreign', info: 'done' },
      { t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '1' },
    ]);
    expect(logs(n2.trace)).toContain('debug: Auto failback triggered.');
    expect(runs(n2.trace)).toEqual([`stop ${G1}: apache Filesystem IPaddr`]);
    expect(runs(n1.trace)).toEqual([`start ${G1}: IPaddr Filesystem apache`]);
    expect(s.held(n1)).toEqual([G1]);
    expect(s.held(n2)).toEqual([G2]);
  });

  it('legacy: each node asks for its keys with ip-request and takes them on ip-request-resp', () => {
    const s = new Sim({ autoFailback: 'legacy' });
    s.startBoth();
    expect(sends(s.nodes.node1.trace)).toEqual([
      { t: 'ip-request', ipaddr: G1 },
      { t: 'ip-request-resp', dest: 'node2', ipaddr: G2, weown: 'no', ok: 'OK' },
    ]);
    expect(logs(s.nodes.node1.trace)).toEqual([
      'info: Local Resource acquisition completed.',
      `info: received ip-request-resp ${G1} OK no`,
      'info: Initial resource acquisition complete (ip-request-resp)',
    ]);
    expect(s.held(s.nodes.node1)).toEqual([G1]);
    expect(s.held(s.nodes.node2)).toEqual([G2]);
  });

  it('legacy: the primary takes its group back (the holder releases, then answers weown=yes)', () => {
    const s = new Sim({ autoFailback: 'legacy' });
    s.startBoth();
    s.crash(s.nodes.node1);
    expect(s.held(s.nodes.node2)).toEqual([G1, G2]);
    s.clearTraces();
    s.restart('node1');
    expect(runs(s.nodes.node2.trace)).toEqual([`stop ${G1}: apache Filesystem IPaddr`]);
    expect(sends(s.nodes.node2.trace)).toEqual([
      { t: 'ip-request', ipaddr: G2 }, // on peer-alive, in case it ran alone; dropped before its comm-up
      { t: 'ip-request-resp', dest: 'node1', ipaddr: G1, weown: 'yes', ok: 'OK' },
    ]);
    expect(s.held(s.nodes.node1)).toEqual([G1]);
    expect(s.held(s.nodes.node2)).toEqual([G2]);
  });

  it('without an answer from a starting peer, local groups are taken after the request delay', () => {
    const m = machine({ requestDelayMs: 10_000 });
    const s1 = m.handle({ kind: 'comm-up', now: 0, peer: 'active' });
    expect(s1.nextDeadline).toBe(10_000);
    expect(m.handle({ kind: 'tick', now: 9_999 }).actions).toEqual([]);
    const s2 = m.handle({ kind: 'tick', now: 10_000 });
    expect(logs(s2.actions)).toEqual(['info: local resource transition completed.']);
    expect(only(s2.actions, 'run-group').map((a) => a.key)).toEqual([G1]);
  });
});

describe('resource manager: node death, STONITH, shutdown', () => {
  it('takes over after the peer dies (mach_down) and reports all', () => {
    const s = new Sim();
    s.startBoth();
    s.clearTraces();
    s.crash(s.nodes.node1);
    const n2 = s.nodes.node2.trace;
    expect(logs(n2)).toEqual([
      'WARN: No STONITH device configured.',
      'WARN: Shared disks are not protected.',
      'info: Resources being acquired from node1.',
      `info: Taking over resource group ${G1}`,
      'info: mach_down takeover complete for node node1.',
      'info: mach_down takeover complete.',
    ]);
    expect(runs(n2)).toEqual([`start ${G1}: IPaddr Filesystem apache`]);
    expect(s.nodes.node2.m.rscstatus()).toBe('all');
  });

  it('waits for a successful fence before taking over; a failed fence is retried every 5 s', () => {
    const m = machine({ stonithDevice: 'external/test' });
    m.handle({ kind: 'comm-up', now: 0, peer: 'active' });
    m.handle({ kind: 'message', now: 1, message: { t: 'resource', src: 'node2', rsc_hold: 'local', rtype: 'full', isstable: '1' } });
    m.handle({ kind: 'group-result', now: 2, id: 1, outcome: 'started' });
    const dead = m.handle({ kind: 'peer-dead', now: 100 });
    expect(dead.actions.filter((a) => a.kind !== 'rscstatus')).toEqual([
      { kind: 'log', level: 'info', text: 'Resetting node node2 with [external/test]' },
      { kind: 'fence', node: 'node2', device: 'external/test' },
    ]);
    const failed = m.handle({ kind: 'fence-result', now: 200, node: 'node2', ok: false });
    expect(logs(failed.actions)).toEqual(['ERROR: Host node2 not reset!', 'ERROR: STONITH of node2 failed.  Retrying...']);
    expect(failed.nextDeadline).toBe(5_200);
    expect(only(failed.actions, 'run-group')).toEqual([]);
    const again = m.handle({ kind: 'tick', now: 5_200 });
    expect(only(again.actions, 'fence')).toEqual([{ kind: 'fence', node: 'node2', device: 'external/test' }]);
    const ok = m.handle({ kind: 'fence-result', now: 5_300, node: 'node2', ok: true });
    expect(logs(ok.actions).slice(0, 2)).toEqual(['info: node node2 now reset.', 'info: Resources being acquired from node2.']);
    expect(only(ok.actions, 'run-group').map((a) => a.key)).toEqual([G2]);
  });

  it('no fence for a peer that said it holds nothing', () => {
    const m = machine({ stonithDevice: 'external/test' });
    m.handle({ kind: 'comm-up', now: 0, peer: 'active' });
    m.handle({ kind: 'message', now: 1, message: { t: 'resource', src: 'node2', rsc_hold: 'none', rtype: 'full', isstable: '1' } });
    const dead = m.handle({ kind: 'peer-dead', now: 100 });
    expect(only(dead.actions, 'fence')).toEqual([]);
    expect(logs(dead.actions)[0]).toBe('info: Dead node node2 gave up resources.');
  });

  it('graceful shutdown stops every group in the file and hands everything to the peer without STONITH', () => {
    const s = new Sim({ stonithDevice: 'external/test' });
    s.startBoth();
    s.clearTraces();
    s.feed(s.nodes.node2, { kind: 'shutdown', now: 0 });
    s.settle();
    const n2 = s.nodes.node2.trace;
    expect(sends(n2)).toEqual([
      { t: 'resource', rsc_hold: 'none', rtype: 'full', isstable: '0', info: 'shutdown' },
      { t: 'shutdone', st: 'dead' },
    ]);
    expect(runs(n2)).toEqual([`stop ${G2}: mysql IPaddr`, `stop ${G1}: apache Filesystem IPaddr`]);
    expect(logs(n2)).toEqual(['info: Giving up all HA resources.', 'info: All HA resources relinquished.']);
    expect(n2.filter((a) => a.kind !== 'rscstatus').at(-1)).toEqual({ kind: 'shutdown-done' });
    expect(s.nodes.node2.m.rscstatus()).toBe('none');
    expect(logs(s.nodes.node1.trace).slice(0, 2)).toEqual(["info: Received shutdown notice from 'node2'.", 'info: Resources being acquired from node2.']);
    expect(s.held(s.nodes.node1)).toEqual([G1, G2]);
    s.clearTraces();
    s.feed(s.nodes.node1, { kind: 'peer-dead', now: 6_000 });
    expect(logs(s.nodes.node1.trace)).toEqual(['info: Dead node node2 gave up resources.']);
    expect(only(s.nodes.node1.trace, 'fence')).toEqual([]);
  });

  it('shutdown while a group is starting waits for it', () => {
    const m = machine();
    m.handle({ kind: 'comm-up', now: 0, peer: 'dead' });
    const s = m.handle({ kind: 'shutdown', now: 1 });
    expect(logs(s.actions)).toEqual(['WARN: Shutdown delayed until current resource activity finishes.']);
    const s2 = m.handle({ kind: 'group-result', now: 2, id: 1, outcome: 'started' });
    expect(only(s2.actions, 'run-group').map((a) => `${a.op} ${a.key}`)).toEqual([`stop ${G2}`]);
  });

  it('a stop that fails on a running resource escalates and the node goes silent', () => {
    const m = machine({ stopFailureCommand: ['/bin/echo', 'reboot'] });
    m.handle({ kind: 'comm-up', now: 0, peer: 'dead' });
    m.handle({ kind: 'group-result', now: 1, id: 1, outcome: 'started' });
    m.handle({ kind: 'group-result', now: 2, id: 2, outcome: 'started' });
    m.handle({ kind: 'shutdown', now: 3 });
    const s = m.handle({ kind: 'group-result', now: 4, id: 3, outcome: 'stop-failed', failed: 'mysql' });
    expect(s.actions).toEqual([
      { kind: 'log', level: 'CRIT', text: 'Resource STOP failure. Reboot required!' },
      { kind: 'log', level: 'CRIT', text: 'Killing heartbeat ungracefully!' },
      { kind: 'escalate', resource: 'mysql', command: ['/bin/echo', 'reboot'] },
    ]);
    expect(m.handle({ kind: 'tick', now: 5 }).actions).toEqual([]);
    expect(m.handle({ kind: 'message', now: 6, message: { t: 'starting', src: 'node2' } }).actions).toEqual([]);
    expect(m.rscstatus()).toBe('transition');
  });

  it('a failed start leaves the group down; its class stays advertised, as in 3.0.6 (the bits do not follow script results)', () => {
    const m = machine();
    m.handle({ kind: 'comm-up', now: 0, peer: 'dead' });
    m.handle({ kind: 'group-result', now: 1, id: 1, outcome: 'started' });
    const s = m.handle({ kind: 'group-result', now: 2, id: 2, outcome: 'start-failed', failed: 'apache' });
    expect(sends(s.actions)[0]).toEqual({ t: 'resource', rsc_hold: 'all', rtype: 'full', isstable: '1', info: 'req_our_resources()' });
    expect(m.heldKeys()).toEqual([G2]);
    expect(m.rscstatus()).toBe('all');
  });
});

describe('resource manager: standby and takeover', () => {
  it('hb_standby all hands everything to the peer (live §3.3 message order)', () => {
    const s = new Sim();
    s.startBoth();
    s.clearTraces();
    s.feed(s.nodes.node1, { kind: 'command', now: 0, command: 'standby', set: 'all' });
    s.settle();
    const n1 = s.nodes.node1.trace;
    const n2 = s.nodes.node2.trace;
    expect(sends(n1)).toEqual([
      { t: 'ask_resources', rsc_hold: 'all', info: 'me' },
      { t: 'resource', rsc_hold: 'none', rtype: 'full', isstable: '0', info: 'standby' },
      { t: 'ask_resources', rsc_hold: 'all', info: 'done' },
      { t: 'resource', rsc_hold: 'none', rtype: 'full', isstable: '1' },
    ]);
    expect(logs(n1)).toEqual([
      'info: Going standby [all].',
      'info: node1 wants to go standby [all]',
      'info: standby: node2 can take our all resources',
      'info: give up all HA resources (standby).',
      'info: all HA resource release completed (standby).',
      'info: Local standby process completed [all].',
      'info: Other node completed standby takeover of all resources.',
    ]);
    expect(sends(n2)).toEqual([
      { t: 'ask_resources', rsc_hold: 'all', info: 'other' },
      { t: 'ask_resources', rsc_hold: 'all', info: 'done' },
      { t: 'resource', rsc_hold: 'all', rtype: 'full', isstable: '1' },
    ]);
    expect(logs(n2)).toEqual([
      'info: node1 wants to go standby [all]',
      'info: standby: acquire [all] resources from node1',
      'info: acquire all HA resources (standby).',
      'info: all HA resource acquisition completed (standby).',
      'info: Standby resource acquisition done [all].',
    ]);
    // the peer starts only after node1 stopped (never both)
    const order = [...runs(n1).map((r) => 'n1 ' + r)];
    expect(order).toEqual([`n1 stop ${G1}: apache Filesystem IPaddr`]);
    expect(runs(n2)).toEqual([`start ${G1}: IPaddr Filesystem apache`]);
    expect(s.held(s.nodes.node1)).toEqual([]);
    expect(s.nodes.node1.m.rscstatus()).toBe('none');
    expect(s.nodes.node2.m.rscstatus()).toBe('all');
  });

  it('hb_standby foreign (failback) gives back only the groups the peer owns', () => {
    const s = new Sim({ autoFailback: 'off' });
    s.startBoth();
    s.crash(s.nodes.node1);
    s.restart('node1');
    s.clearTraces();
    s.feed(s.nodes.node2, { kind: 'command', now: 0, command: 'standby', set: 'failback' });
    s.settle();
    expect(logs(s.nodes.node2.trace)[0]).toBe('info: Going standby [foreign].');
    expect(s.held(s.nodes.node1)).toEqual([G1]);
    expect(s.held(s.nodes.node2)).toEqual([G2]);
  });

  it('hb_takeover local on node1 makes node2 go standby foreign; failback means the same (fixed mapping)', () => {
    for (const word of ['local', 'failback'] as const) {
      const s = new Sim({ autoFailback: 'off' });
      s.startBoth();
      s.crash(s.nodes.node1);
      s.restart('node1');
      s.clearTraces();
      s.feed(s.nodes.node1, { kind: 'command', now: 0, command: 'takeover', set: word });
      s.settle();
      expect(sends(s.nodes.node1.trace)[0]).toEqual({ t: 'hb_takeover', rsc_hold: word });
      expect(sends(s.nodes.node2.trace)[0]).toEqual({ t: 'ask_resources', rsc_hold: 'foreign', info: 'me' });
      expect(s.held(s.nodes.node1)).toEqual([G1]);
      expect(s.held(s.nodes.node2)).toEqual([G2]);
    }
  });

  it('hb_takeover all takes everything from the peer (live §3.3 message order)', () => {
    const s = new Sim();
    s.startBoth();
    s.clearTraces();
    s.feed(s.nodes.node1, { kind: 'command', now: 0, command: 'takeover', set: 'all' });
    s.settle();
    expect(sends(s.nodes.node1.trace)).toEqual([
      { t: 'hb_takeover', rsc_hold: 'all' },
      { t: 'ask_resources', rsc_hold: 'all', info: 'other' },
      { t: 'ask_resources', rsc_hold: 'all', info: 'done' },
      { t: 'resource', rsc_hold: 'all', rtype: 'full', isstable: '1' },
    ]);
    expect(sends(s.nodes.node2.trace)).toEqual([
      { t: 'ask_resources', rsc_hold: 'all', info: 'me' },
      { t: 'resource', rsc_hold: 'none', rtype: 'full', isstable: '0', info: 'standby' },
      { t: 'ask_resources', rsc_hold: 'all', info: 'done' },
      { t: 'resource', rsc_hold: 'none', rtype: 'full', isstable: '1' },
    ]);
    expect(logs(s.nodes.node1.trace).slice(0, 2)).toEqual(['info: node2 wants to go standby [all]', 'info: standby: acquire [all] resources from node2']);
  });

  it('hb_takeover all leaves the peer with nothing', () => {
    const s = new Sim();
    s.startBoth();
    s.feed(s.nodes.node1, { kind: 'command', now: 0, command: 'takeover', set: 'all' });
    s.settle();
    expect(s.held(s.nodes.node1)).toEqual([G1, G2]);
    expect(s.held(s.nodes.node2)).toEqual([]);
  });

  it('no reply within 10 s cancels the standby request; nothing moves', () => {
    const s = new Sim();
    s.startBoth();
    s.connected = false;
    s.clearTraces();
    s.feed(s.nodes.node1, { kind: 'command', now: 0, command: 'standby', set: 'all' });
    expect(s.nodes.node1.deadline).toBe(10_000);
    s.advance(10_000);
    expect(logs(s.nodes.node1.trace).at(-1)).toBe('WARN: No reply to standby request.  Standby request cancelled.');
    expect(s.held(s.nodes.node1)).toEqual([G1]);
    expect(s.nodes.node1.m.rscstatus()).toBe('local');
  });

  it('a second request during a standby is refused with the seconds left', () => {
    const s = new Sim();
    s.startBoth();
    s.connected = false;
    s.clearTraces();
    s.feed(s.nodes.node1, { kind: 'command', now: 0, command: 'standby', set: 'all' });
    s.now = 3_000;
    s.feed(s.nodes.node1, { kind: 'command', now: 3_000, command: 'standby', set: 'local' });
    expect(logs(s.nodes.node1.trace).at(-1)).toBe('WARN: Standby in progress- new request from node1 ignored [7 seconds left]');
  });

  it('legacy: hb_standby and hb_takeover are refused as the original refuses them', () => {
    const s = new Sim({ autoFailback: 'legacy' });
    s.startBoth();
    s.clearTraces();
    s.feed(s.nodes.node1, { kind: 'command', now: 0, command: 'standby', set: 'all' });
    s.feed(s.nodes.node1, { kind: 'command', now: 0, command: 'takeover', set: 'all' });
    expect(logs(s.nodes.node1.trace)).toEqual(['info: Standby mode only implemented when nice_failback on', 'info: Standby mode only implemented when nice_failback on']);
    expect(sends(s.nodes.node1.trace)).toEqual([]);
  });

  it('peer death during a standby cancels it and takes over', () => {
    const s = new Sim();
    s.startBoth();
    s.connected = false;
    s.feed(s.nodes.node1, { kind: 'command', now: 0, command: 'standby', set: 'all' });
    s.clearTraces();
    s.feed(s.nodes.node1, { kind: 'peer-dead', now: 1 });
    expect(logs(s.nodes.node1.trace)[0]).toBe('info: Cancelling pending standby operation');
  });
});

describe('resource manager: partitions', () => {
  it('two-way partition heal: each node keeps what it owns, no group is ever without a holder', () => {
    const s = new Sim({ autoFailback: 'off' });
    s.startBoth();
    s.connected = false;
    s.feed(s.nodes.node1, { kind: 'peer-dead', now: 1 });
    s.feed(s.nodes.node2, { kind: 'peer-dead', now: 1 });
    s.settle();
    expect(s.held(s.nodes.node1)).toEqual([G1, G2]);
    expect(s.held(s.nodes.node2)).toEqual([G1, G2]);
    s.connected = true;
    s.clearTraces();
    s.feed(s.nodes.node1, { kind: 'partition-healed', now: 2 });
    s.feed(s.nodes.node2, { kind: 'partition-healed', now: 2 });
    expect(logs(s.nodes.node1.trace)[0]).toBe('CRIT: Cluster node node2 returning after partition.');
    expect(sends(s.nodes.node1.trace)).toEqual([{ t: 'resource', rsc_hold: 'all', rtype: 'full', isstable: '1', info: 'partition' }]);
    s.settle();
    expect(runs(s.nodes.node1.trace)).toEqual([`stop ${G2}: mysql IPaddr`]);
    expect(runs(s.nodes.node2.trace)).toEqual([`stop ${G1}: apache Filesystem IPaddr`]);
    expect(s.held(s.nodes.node1)).toEqual([G1]);
    expect(s.held(s.nodes.node2)).toEqual([G2]);
  });

  it('heal after one side took over: a group only one side ran stays up', () => {
    // auto_failback off: node2 runs both; node1 (back, holding nothing) loses node2 and takes both.
    const s = new Sim({ autoFailback: 'off' });
    s.startBoth();
    s.crash(s.nodes.node1);
    s.restart('node1');
    s.connected = false;
    s.feed(s.nodes.node2, { kind: 'peer-dead', now: 1 });
    s.settle();
    s.connected = true;
    s.feed(s.nodes.node2, { kind: 'partition-healed', now: 2 });
    s.settle();
    // node2 saw node1 die, node1 did not: nothing was duplicated, nothing is released.
    expect(runs(s.nodes.node2.trace).filter((r) => r.startsWith('stop'))).toEqual([]);
    expect(s.held(s.nodes.node2)).toEqual([G1, G2]);
  });

  it('heal against a peer that never resyncs (3.0.6 restarts instead): a message it queued during the cut does not make us release', () => {
    const s = new Sim({ autoFailback: 'on' });
    s.startBoth();
    s.connected = false; // node1 plays 3.0.6 below: what node2 sends is lost, what it gets is injected
    s.feed(s.nodes.node2, { kind: 'peer-dead', now: 1 });
    s.settle();
    expect(s.held(s.nodes.node2)).toEqual([G1, G2]);
    s.clearTraces();
    s.feed(s.nodes.node2, { kind: 'partition-healed', now: 2 });
    // Its takeover announcement from the cut, delivered late; no info=partition, no partition-reply.
    s.feed(s.nodes.node2, { kind: 'message', now: 3, message: { t: 'resource', src: 'node1', rsc_hold: 'all', isstable: '1', info: 'req_our_resources()' } });
    s.settle();
    expect(runs(s.nodes.node2.trace)).toEqual([]);
    // Then it shuts down to restart: we keep everything (nothing was ever without a holder).
    s.feed(s.nodes.node2, { kind: 'message', now: 4, message: { t: 'resource', src: 'node1', rsc_hold: 'none', isstable: '0', info: 'shutdown' } });
    s.feed(s.nodes.node2, { kind: 'message', now: 5, message: { t: 'shutdone', src: 'node1', st: 'dead' } });
    s.settle();
    expect(runs(s.nodes.node2.trace).filter((r) => r.startsWith('stop'))).toEqual([]);
    expect(s.held(s.nodes.node2)).toEqual([G1, G2]);
  });

  it('heal between two of ours: a message queued during the cut is ignored until the peer takes part in the resync', () => {
    const s = new Sim({ autoFailback: 'off' });
    s.startBoth();
    s.connected = false;
    s.feed(s.nodes.node1, { kind: 'peer-dead', now: 1 });
    s.feed(s.nodes.node2, { kind: 'peer-dead', now: 1 });
    s.settle();
    s.wire.length = 0;
    s.clearTraces();
    s.connected = true;
    s.feed(s.nodes.node2, { kind: 'partition-healed', now: 2 });
    s.feed(s.nodes.node2, { kind: 'message', now: 2, message: { t: 'resource', src: 'node1', rsc_hold: 'all', isstable: '1', info: 'req_our_resources()' } });
    expect(runs(s.nodes.node2.trace)).toEqual([]);
    // node1's answer to node2's info=partition is what counts.
    s.settle();
    expect(runs(s.nodes.node2.trace)).toEqual([`stop ${G1}: apache Filesystem IPaddr`]);
    expect(sends(s.nodes.node1.trace)).toContainEqual({ t: 'resource', rsc_hold: 'all', rtype: 'full', isstable: '1', info: 'partition-reply' });
    expect(s.held(s.nodes.node1).concat(s.held(s.nodes.node2)).sort()).toEqual([G1, G2].sort());
  });

  it('one-way heal: the node that saw nothing learns from the resource message and releases the duplicate', () => {
    // node2 held both groups (auto_failback off), node1 took both when it lost node2's heartbeats.
    const s = new Sim({ autoFailback: 'off' });
    s.startBoth();
    s.crash(s.nodes.node1);
    s.restart('node1');
    s.connected = false;
    s.feed(s.nodes.node1, { kind: 'peer-dead', now: 1 });
    s.settle();
    expect(s.held(s.nodes.node1)).toEqual([G1, G2]);
    s.connected = true;
    s.feed(s.nodes.node1, { kind: 'partition-healed', now: 2 });
    s.settle();
    expect(s.held(s.nodes.node1)).toEqual([G1]);
    expect(s.held(s.nodes.node2)).toEqual([G2]);
  });
});

describe('resource manager: config and robustness', () => {
  it('refuses a group of a third node and equal node names', () => {
    const bad = parseHaresources('node1 a\nnode2 b\n').map((g) => ({ ...g, node: g.node === 'node2' ? 'node3' : g.node }));
    expect(() => machine({ groups: bad })).toThrow(HbError);
    expect(() => machine({ peerNode: 'node1' })).toThrow(/distinct/);
  });

  it('ignores stale group results, messages from strangers and our own echoes', () => {
    const m = machine();
    m.handle({ kind: 'comm-up', now: 0, peer: 'dead' });
    expect(m.handle({ kind: 'group-result', now: 1, id: 99, outcome: 'started' }).actions).toEqual([]);
    expect(m.handle({ kind: 'message', now: 1, message: { t: 'ip-request', src: 'node9', ipaddr: G1 } }).actions).toEqual([]);
    expect(m.handle({ kind: 'message', now: 1, message: { t: 'starting', src: 'node1' } }).actions).toEqual([]);
  });
});

/**
 * `cl_status rscstatus` (and the `rsc_hold` we send) as the class bits of
 * 3.0.6, phase by phase as vectors/ucast-2node/cl_status.txt recorded them:
 * one group, owned by node1; node2 owns none and still reports `local`.
 */
describe('resource manager: rscstatus values of 3.0.6', () => {
  const ONE = 'node1 10.77.0.100 hbdummy::svc1\n';
  const st = (s: Sim): string[] => [s.nodes.node1.m.rscstatus(), s.nodes.node2.m.rscstatus()];

  it('start-up, hb_standby, hb_takeover, SIGKILL, restart, graceful stop, start, partition, heal', () => {
    const s = new Sim({ haresources: ONE, autoFailback: 'on' });
    s.startBoth();
    expect(st(s)).toEqual(['local', 'local']);
    expect(logs(s.nodes.node2.trace)).toContain('info: No local resources [/usr/share/heartbeat/ResourceManager listkeys node2] to acquire.');
    expect(sends(s.nodes.node2.trace)).toContainEqual({ t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '1', info: 'req_our_resources()' });

    s.feed(s.nodes.node1, { kind: 'command', now: s.now, command: 'standby', set: 'all' });
    s.settle();
    expect(st(s)).toEqual(['none', 'all']);
    expect(s.held(s.nodes.node2)).toEqual(['10.77.0.100']);

    s.feed(s.nodes.node1, { kind: 'command', now: s.now, command: 'takeover', set: 'all' });
    s.settle();
    expect(st(s)).toEqual(['all', 'none']);
    expect(s.held(s.nodes.node1)).toEqual(['10.77.0.100']);

    s.crash(s.nodes.node1);
    expect(s.nodes.node2.m.rscstatus()).toBe('all');

    s.restart('node1');
    expect(st(s)).toEqual(['local', 'local']);
    expect(s.held(s.nodes.node1)).toEqual(['10.77.0.100']);
    expect(s.held(s.nodes.node2)).toEqual([]);

    s.feed(s.nodes.node1, { kind: 'shutdown', now: s.now });
    s.settle();
    expect(s.nodes.node1.m.rscstatus()).toBe('none');
    expect(s.nodes.node2.m.rscstatus()).toBe('all');
    s.crash(s.nodes.node1);
    s.restart('node1');
    expect(st(s)).toEqual(['local', 'local']);

    s.connected = false;
    s.feed(s.nodes.node1, { kind: 'peer-dead', now: s.now });
    s.feed(s.nodes.node2, { kind: 'peer-dead', now: s.now });
    s.settle();
    expect(st(s)).toEqual(['all', 'all']);
    s.connected = true;
    s.feed(s.nodes.node1, { kind: 'partition-healed', now: s.now });
    s.feed(s.nodes.node2, { kind: 'partition-healed', now: s.now });
    s.settle();
    expect(st(s)).toEqual(['local', 'local']);
    expect(s.held(s.nodes.node1)).toEqual(['10.77.0.100']);
    expect(s.held(s.nodes.node2)).toEqual([]);
  });

  it('the node without groups that took over gives the class back when the owner returns (auto_failback on), and keeps it with off', () => {
    for (const autoFailback of ['on', 'off'] as const) {
      const s = new Sim({ haresources: ONE, autoFailback });
      s.startBoth();
      s.crash(s.nodes.node2);
      expect(s.nodes.node1.m.rscstatus()).toBe('all');
      s.restart('node2');
      // node1 held node2's (empty) class: node2's acquisition says "(none)" and, with on, node1 hands the class back.
      expect(st(s)).toEqual(autoFailback === 'on' ? ['local', 'local'] : ['all', 'none']);
      expect(s.held(s.nodes.node1)).toEqual(['10.77.0.100']);
    }
  });

  it('hb_standby foreign / local move only their class bits', () => {
    const s = new Sim({ autoFailback: 'on' });
    s.startBoth();
    s.feed(s.nodes.node1, { kind: 'command', now: s.now, command: 'standby', set: 'local' });
    s.settle();
    expect(st(s)).toEqual(['none', 'all']);
    s.feed(s.nodes.node1, { kind: 'command', now: s.now, command: 'takeover', set: 'local' });
    s.settle();
    expect(st(s)).toEqual(['local', 'local']);
    s.feed(s.nodes.node1, { kind: 'command', now: s.now, command: 'takeover', set: 'foreign' });
    s.settle();
    expect(st(s)).toEqual(['all', 'none']);
    s.feed(s.nodes.node1, { kind: 'command', now: s.now, command: 'standby', set: 'failback' });
    s.settle();
    expect(st(s)).toEqual(['local', 'local']);
  });

  it('a peer that comes back and never speaks (heartbeat -M) leaves us stable, not in transition', () => {
    const s = new Sim({ haresources: ONE, autoFailback: 'on' });
    s.startBoth();
    s.feed(s.nodes.node1, { kind: 'shutdown', now: s.now });
    s.settle();
    s.crash(s.nodes.node1);
    expect(s.nodes.node2.m.rscstatus()).toBe('all');
    s.feed(s.nodes.node2, { kind: 'peer-alive', now: s.now });
    s.wire.length = 0; // nobody answers
    expect(s.nodes.node2.m.rscstatus()).toBe('all');
  });

  it('legacy mode never sets the bits: none, or transition while groups move', () => {
    const s = new Sim({ autoFailback: 'legacy' });
    s.startBoth();
    expect(st(s)).toEqual(['none', 'none']);
    expect(s.held(s.nodes.node1)).toEqual([G1]);
    s.crash(s.nodes.node2);
    expect(s.nodes.node1.m.rscstatus()).toBe('none');
    expect(s.held(s.nodes.node1)).toEqual([G1, G2]);
    const m = machine({ autoFailback: 'legacy' });
    m.handle({ kind: 'comm-up', now: 0, peer: 'dead' });
    expect(m.rscstatus()).toBe('transition');
  });
});

/** `heartbeat -R [-C CLASS]`: restarted keeping resources (resources-spec §5.1). */
describe('resource manager: restarted keeping resources', () => {
  it('nice mode: the groups of the class count as held, nothing runs, `starting` and what we hold go out', () => {
    const m = machine({ restarted: 'local' });
    expect(m.heldKeys()).toEqual([G1]);
    const up = m.handle({ kind: 'comm-up', now: 0, peer: 'active' });
    expect(only(up.actions, 'run-group')).toEqual([]);
    expect(sends(up.actions)).toEqual([{ t: 'starting' }, { t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '1' }]);
    const answer = m.handle({ kind: 'message', now: 1, message: { t: 'resource', src: 'node2', rsc_hold: 'local', rtype: 'full', isstable: '1' } });
    expect(only(answer.actions, 'run-group')).toEqual([]);
    expect(m.rscstatus()).toBe('local');
    // A standby gives away what was adopted: the stop runs.
    m.handle({ kind: 'command', now: 2, command: 'standby', set: 'local' });
    const other = m.handle({ kind: 'message', now: 3, message: { t: 'ask_resources', src: 'node2', rsc_hold: 'local', info: 'other' } });
    expect(only(other.actions, 'run-group').map((a) => `${a.op} ${a.key}`)).toEqual([`stop ${G1}`]);
  });

  it('all: both groups adopted; the peer dying later starts nothing', () => {
    const m = machine({ restarted: 'all' });
    m.handle({ kind: 'comm-up', now: 0, peer: 'active' });
    m.handle({ kind: 'message', now: 1, message: { t: 'resource', src: 'node2', rsc_hold: 'none', rtype: 'full', isstable: '1' } });
    expect(m.rscstatus()).toBe('all');
    const dead = m.handle({ kind: 'peer-dead', now: 2 });
    expect(only(dead.actions, 'run-group')).toEqual([]);
    expect(m.heldKeys()).toEqual([G1, G2]);
  });

  it('legacy: adopted groups, no ip-request, rscstatus none', () => {
    const m = machine({ autoFailback: 'legacy', restarted: 'local' });
    const up = m.handle({ kind: 'comm-up', now: 0, peer: 'active' });
    expect(up.actions.filter((a) => a.kind !== 'rscstatus')).toEqual([]);
    expect(m.heldKeys()).toEqual([G1]);
    expect(m.rscstatus()).toBe('none');
  });

  it('none: nothing adopted and no acquisition either', () => {
    const m = machine({ restarted: 'none' });
    const up = m.handle({ kind: 'comm-up', now: 0, peer: 'active' });
    m.handle({ kind: 'message', now: 1, message: { t: 'resource', src: 'node2', rsc_hold: 'local', rtype: 'full', isstable: '1' } });
    expect(only(up.actions, 'run-group')).toEqual([]);
    expect(m.heldKeys()).toEqual([]);
    expect(m.rscstatus()).toBe('none');
  });
});
