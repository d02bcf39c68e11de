/**
 * The resource manager's STONITH messages: `t=stonith node=N result=R` as
 * Heartbeat 3.0.6 broadcasts it (n_stnth without a device, unneeded when the
 * peer gave up its groups, OK / bad / badhost after each fence attempt), and
 * the log lines around a fence.
 */
import { describe, expect, it } from 'vitest';
import { ResourceMachine } from '../../lib/resources/index.js';
import type { ResourceAction } from '../../lib/resources/index.js';
import { parseHaresources } from './manager-groups.js';
import { HARESOURCES, logs, sends } from './manager-sim.js';

const groups = parseHaresources(HARESOURCES);
const machine = (extra: Partial<ConstructorParameters<typeof ResourceMachine>[0]> = {}): ResourceMachine =>
  new ResourceMachine({ localNode: 'node1', peerNode: 'node2', groups, autoFailback: 'on', ...extra });
const stonithSends = (as: readonly ResourceAction[]) => sends(as).filter((m) => m['t'] === 'stonith');

/** node1 up with node2 holding its own group, then node2 dies. */
function peerHoldingThenDead(m: ResourceMachine) {
  m.handle({ kind: 'comm-up', now: 0, peer: 'active' });
  m.handle({ kind: 'message', now: 1, message: { t: 'resource', src: 'node2', rsc_hold: 'local', rtype: 'full', isstable: '1' } });
  m.handle({ kind: 'group-result', now: 2, id: 1, outcome: 'started' });
  return m.handle({ kind: 'peer-dead', now: 100 });
}

describe('resource manager: t=stonith messages', () => {
  it('no device configured: result=n_stnth before the warnings, then the takeover', () => {
    const dead = peerHoldingThenDead(machine());
    expect(stonithSends(dead.actions)).toEqual([{ t: 'stonith', node: 'node2', result: 'n_stnth' }]);
    const i = dead.actions.findIndex((a) => a.kind === 'send' && a.message['t'] === 'stonith');
    const w = dead.actions.findIndex((a) => a.kind === 'log' && a.text === 'No STONITH device configured.');
    expect(i).toBeLessThan(w);
  });

  it('a peer that said it holds nothing: result=unneeded, no fence', () => {
    const m = machine({ stonithDevice: 'NULL STONITH device' });
    m.handle({ kind: 'comm-up', now: 0, peer: 'active' });
    m.handle({ kind: 'message', now: 1, message: { t: 'resource', src: 'node2', rsc_hold: 'none', rtype: 'full', isstable: '1' } });
    const dead = m.handle({ kind: 'peer-dead', now: 100 });
    expect(stonithSends(dead.actions)).toEqual([{ t: 'stonith', node: 'node2', result: 'unneeded' }]);
    expect(dead.actions.filter((a) => a.kind === 'fence')).toEqual([]);
  });

  it('a peer that sent shutdone and then went silent: result=unneeded', () => {
    const m = machine({ stonithDevice: 'NULL STONITH device' });
    m.handle({ kind: 'comm-up', now: 0, peer: 'active' });
    m.handle({ kind: 'message', now: 1, message: { t: 'resource', src: 'node2', rsc_hold: 'local', rtype: 'full', isstable: '1' } });
    m.handle({ kind: 'message', now: 2, message: { t: 'shutdone', src: 'node2', st: 'dead' } });
    const dead = m.handle({ kind: 'peer-dead', now: 6_000 });
    expect(logs(dead.actions)).toContain('info: Dead node node2 gave up resources.');
    expect(stonithSends(dead.actions)).toEqual([{ t: 'stonith', node: 'node2', result: 'unneeded' }]);
  });

  it('each fence attempt is announced: bad, then badhost (the device says why, no "not reset" line), then OK before the takeover', () => {
    const m = machine({ stonithDevice: 'external/test' });
    const dead = peerHoldingThenDead(m);
    expect(logs(dead.actions)).toEqual(['info: Resetting node node2 with [external/test]']);
    expect(stonithSends(dead.actions)).toEqual([]);

    const bad = m.handle({ kind: 'fence-result', now: 200, node: 'node2', ok: false, result: 'bad' });
    expect(logs(bad.actions)).toEqual(['ERROR: Host node2 not reset!', 'ERROR: STONITH of node2 failed.  Retrying...']);
    expect(stonithSends(bad.actions)).toEqual([{ t: 'stonith', node: 'node2', result: 'bad' }]);

    const again = m.handle({ kind: 'tick', now: 5_200 });
    expect(logs(again.actions)).toEqual(['info: Resetting node node2 with [external/test]']);
    const badhost = m.handle({ kind: 'fence-result', now: 5_300, node: 'node2', ok: false, result: 'badhost' });
    expect(logs(badhost.actions)).toEqual(['ERROR: STONITH of node2 failed.  Retrying...']);
    expect(stonithSends(badhost.actions)).toEqual([{ t: 'stonith', node: 'node2', result: 'badhost' }]);
    expect(badhost.nextDeadline).toBe(10_300);

    m.handle({ kind: 'tick', now: 10_300 });
    const ok = m.handle({ kind: 'fence-result', now: 10_400, node: 'node2', ok: true, result: 'OK' });
    const kinds = ok.actions.filter((a) => a.kind !== 'rscstatus').map((a) => (a.kind === 'log' ? a.text : a.kind === 'send' ? `send ${a.message['t']} ${a.message['result'] ?? ''}` : a.kind));
    expect(kinds.slice(0, 3)).toEqual(['node node2 now reset.', 'send stonith OK', 'Resources being acquired from node2.']);
    expect(kinds).toContain('run-group');
  });
});
