/** ipfail's decisions (lib/heartbeat/ipfail/core.ts): examples from ipfail.c's flows and properties over event sequences. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IpfailMachine, type IpfailAction, type IpfailEvent } from '../../lib/heartbeat/ipfail/index.js';

const cfg = { localNode: 'node1', otherNode: 'node2', autoFailback: true, keepaliveMs: 1000 };
const texts = (a: readonly IpfailAction[]) => a.filter((x) => x.kind === 'log' && x.level !== 'debug').map((x) => (x as { text: string }).text);
const sent = (a: readonly IpfailAction[]) => a.filter((x) => x.kind === 'sendToPeer' || x.kind === 'sendToCluster');
const msg = (fields: Record<string, string>, pingCount = 1, stable = true): IpfailEvent => ({ kind: 'message', fields, pingCount, stable });

describe('IpfailMachine', () => {
  it('the side that lost its ping node: link dead -> asks with 0; told it is dead -> gives up all after 2 x keepalive', () => {
    const m = new IpfailMachine(cfg);
    const a = m.handle({ kind: 'linkStatus', node: '10.0.0.254', link: '10.0.0.254', status: 'dead', pingCount: 0 });
    expect(texts(a)).toEqual(['Link Status update: Link 10.0.0.254/10.0.0.254 now has status dead', 'We are dead. :<', 'Asking other side for ping node count.']);
    expect(sent(a)).toEqual([{ kind: 'sendToPeer', fields: [['t', 'num_ping_nodes'], ['src', 'node1'], ['num_ping', '0']] }]);

    const b = m.handle(msg({ t: 'you_are_dead' }, 0));
    expect(texts(b)).toEqual(['Giving up because we were told that we have less ping nodes.', 'Delayed giveup in 2 seconds.']);
    expect(b).toContainEqual({ kind: 'armGiveup', ms: 2000 });
    expect(m.pendingGiveup).toBe('all');

    const c = m.handle({ kind: 'giveupTimer', stable: true });
    expect(texts(c)).toEqual(['giveup() called (timeout worked)']);
    expect(sent(c)).toEqual([{ kind: 'sendToCluster', fields: [['t', 'ask_resources'], ['rsc_hold', 'all'], ['src', 'node1'], ['info', 'me']] }]);
    expect(m.pendingGiveup).toBeUndefined();
  });

  it('the side that still sees it: more ping nodes than the asker -> you_are_dead; fewer -> delayed give-up of all', () => {
    const m = new IpfailMachine(cfg);
    const a = m.handle(msg({ t: 'num_ping_nodes', src: 'node2', num_ping: '0' }, 1));
    expect(texts(a)).toEqual(['Telling other node that we have more visible ping nodes.']);
    expect(sent(a)).toEqual([{ kind: 'sendToPeer', fields: [['t', 'you_are_dead']] }]);
    const b = m.handle(msg({ t: 'num_ping_nodes', src: 'node2', num_ping: '2' }, 1));
    expect(texts(b)).toEqual(['Giving up because we have less visible ping nodes.', 'Delayed giveup in 2 seconds.']);
    expect(m.pendingGiveup).toBe('all');
  });

  it('balanced: abort_giveup to the peer; a pending give-up is cancelled, else auto_failback gives up foreign (only when stable)', () => {
    const m = new IpfailMachine(cfg);
    m.handle(msg({ t: 'you_are_dead' }));
    const a = m.handle(msg({ t: 'num_ping_nodes', src: 'node2', num_ping: '1' }, 1));
    expect(texts(a)).toEqual(['Ping node count is balanced.', 'Aborted delayed giveup (1)']);
    expect(a).toContainEqual({ kind: 'cancelGiveup' });
    expect(sent(a)).toEqual([{ kind: 'sendToPeer', fields: [['t', 'abort_giveup'], ['src', 'node1']] }]);
    expect(m.pendingGiveup).toBeUndefined();

    const b = m.handle(msg({ t: 'num_ping_nodes', src: 'node2', num_ping: '1' }, 1, true));
    expect(texts(b)).toContain('Giving up foreign resources (auto_failback).');
    expect(m.pendingGiveup).toBe('foreign');
    expect(sent(m.handle({ kind: 'giveupTimer', stable: true }))).toEqual([
      { kind: 'sendToCluster', fields: [['t', 'ask_resources'], ['rsc_hold', 'foreign'], ['src', 'node1'], ['info', 'me']] },
    ]);

    const unstable = m.handle(msg({ t: 'num_ping_nodes', src: 'node2', num_ping: '1' }, 1, false));
    expect(texts(unstable)).not.toContain('Giving up foreign resources (auto_failback).');
    const off = new IpfailMachine({ ...cfg, autoFailback: false });
    expect(off.handle(msg({ t: 'num_ping_nodes', src: 'node2', num_ping: '1' })).some((x) => x.kind === 'armGiveup')).toBe(false);
  });

  it('abort_giveup from the peer cancels ours, or says there is none', () => {
    const m = new IpfailMachine(cfg);
    expect(texts(m.handle(msg({ t: 'abort_giveup', src: 'node2' })))).toEqual(['No giveup timer to abort.']);
    m.handle(msg({ t: 'you_are_dead' }));
    expect(m.handle(msg({ t: 'abort_giveup', src: 'node2' }))).toContainEqual({ kind: 'cancelGiveup' });
    // A cancelled timer that fires anyway (a race in the shell) sends nothing.
    expect(sent(m.handle({ kind: 'giveupTimer', stable: true }))).toEqual([]);
  });

  it('a give-up while resources are in transition waits; the peer stable again -> recheck after 10 s -> asks again', () => {
    const m = new IpfailMachine(cfg);
    m.handle(msg({ t: 'you_are_dead' }));
    expect(sent(m.handle({ kind: 'giveupTimer', stable: false }))).toEqual([]);
    expect(m.waitingForStability).toBe(true);
    // Only the peer's stable `resource` without info counts.
    expect(m.handle(msg({ t: 'resource', src: 'node2', isstable: '1', info: 'standby' })).some((x) => x.kind === 'armRecheck')).toBe(false);
    expect(m.handle(msg({ t: 'resource', src: 'node1', isstable: '1' })).some((x) => x.kind === 'armRecheck')).toBe(false);
    expect(m.handle(msg({ t: 'resource', src: 'node2', isstable: '1' }))).toContainEqual({ kind: 'armRecheck', ms: 10_000 });
    expect(m.peerStable).toBe(true);
    const r = m.handle({ kind: 'recheckTimer', pingCount: 0 });
    expect(sent(r)).toEqual([{ kind: 'sendToPeer', fields: [['t', 'num_ping_nodes'], ['src', 'node1'], ['num_ping', '0']] }]);
    expect(m.waitingForStability).toBe(false);
    m.handle(msg({ t: 'resource', src: 'node2', isstable: '0' }));
    expect(m.peerStable).toBe(false);
  });

  it("the peer ipfail's join makes us compare; our own join, casual clients and leaves do not", () => {
    const m = new IpfailMachine(cfg);
    expect(sent(m.handle(msg({ t: 'hbapi-clstat', st: 'join', from_id: 'ipfail', src: 'node2' }, 3)))).toEqual([
      { kind: 'sendToPeer', fields: [['t', 'num_ping_nodes'], ['src', 'node1'], ['num_ping', '3']] },
    ]);
    expect(sent(m.handle(msg({ t: 'hbapi-clstat', st: 'join', from_id: 'ipfail', src: 'node1' })))).toEqual([]);
    expect(sent(m.handle(msg({ t: 'hbapi-clstat', st: 'join', from_id: 'other', src: 'node2' })))).toEqual([]);
    expect(sent(m.handle(msg({ t: 'hbapi-clstat', st: 'leave', from_id: 'ipfail', src: 'node2' })))).toEqual([]);
  });

  it('node status: a ping node up -> compare; dead -> only logged', () => {
    const m = new IpfailMachine(cfg);
    const up = m.handle({ kind: 'nodeStatus', node: '10.0.0.254', status: 'ping', pingCount: 1 });
    expect(texts(up)).toEqual(['Status update: Node 10.0.0.254 now has status ping', 'A ping node just came up.', 'Asking other side for ping node count.']);
    const dead = m.handle({ kind: 'nodeStatus', node: '10.0.0.254', status: 'dead', pingCount: 0 });
    expect(texts(dead)).toEqual(['Status update: Node 10.0.0.254 now has status dead', 'NS: We are dead. :<']);
    expect(sent(dead)).toEqual([]);
    expect(texts(m.handle({ kind: 'nodeStatus', node: 'gw2', status: 'dead', pingCount: 1 }))).toContain('NS: We are still alive!');
  });

  const event: fc.Arbitrary<IpfailEvent> = fc.oneof(
    fc.record({ kind: fc.constant('nodeStatus' as const), node: fc.constantFrom('gw', 'node2'), status: fc.constantFrom('ping', 'dead', 'active'), pingCount: fc.nat(3) }),
    fc.record({ kind: fc.constant('linkStatus' as const), node: fc.constantFrom('gw', 'node2'), link: fc.constant('eth0'), status: fc.constantFrom('up', 'dead'), pingCount: fc.nat(3) }),
    fc.record({
      kind: fc.constant('message' as const),
      fields: fc.oneof(
        fc.record<Record<string, string>>({ t: fc.constant('num_ping_nodes'), src: fc.constant('node2'), num_ping: fc.oneof(fc.nat(3).map(String), fc.string()) }),
        fc.constantFrom<Record<string, string>>({ t: 'you_are_dead' }, { t: 'abort_giveup' }, { t: 'resource', src: 'node2', isstable: '1' }, { t: 'resource', src: 'node2', isstable: '0' }),
        fc.dictionary(fc.constantFrom('t', 'src', 'st', 'from_id', 'isstable', 'info', 'num_ping'), fc.string()),
      ),
      pingCount: fc.nat(3),
      stable: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('giveupTimer' as const), stable: fc.boolean() }),
    fc.record({ kind: fc.constant('recheckTimer' as const), pingCount: fc.nat(3) }),
  );

  it('property: resources are only given away when an armed give-up fires while stable, and only `all` or `foreign`', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), (events) => {
        const m = new IpfailMachine(cfg);
        let armed = false;
        for (const e of events) {
          const before = m.pendingGiveup;
          const out = m.handle(e);
          for (const a of out) {
            if (a.kind === 'armGiveup') armed = true;
            if (a.kind === 'cancelGiveup') armed = false;
            if (a.kind === 'sendToCluster') {
              expect(e.kind).toBe('giveupTimer');
              expect(e.kind === 'giveupTimer' && e.stable).toBe(true);
              expect(before).toBeDefined();
              const hold = a.fields.find(([k]) => k === 'rsc_hold')?.[1];
              expect(['all', 'foreign']).toContain(hold);
            }
          }
          if (out.some((a) => a.kind === 'armGiveup')) armed = true;
          // The machine's view and the timers it asked for agree.
          if (e.kind !== 'giveupTimer') expect(m.pendingGiveup !== undefined).toBe(armed);
          else armed = m.pendingGiveup !== undefined;
        }
      }),
    );
  });
});
