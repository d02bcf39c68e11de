/**
 * haresources groups run by our heartbeat daemon in an hbnet cluster (root,
 * network/mount/PID namespaces): the owner acquires its group at start,
 * `cl_status rscstatus` says who holds what, a SIGKILLed holder's group runs
 * on the survivor within deadtime + 1 s, auto_failback on moves it back, and
 * a graceful stop hands it over. The group is hbnet's `hbdummy` script, which
 * logs every call to the node's /var/log/hbdummy.log.
 */
import { copyFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect } from 'vitest';
import { REPO_ROOT, itWithTools } from '../helpers/env.js';
import { DEADTIME_MS, HBNET_TOOLS, HbCluster, KEEPALIVE_MS, ORIGINAL, OURS } from './daemon-harness.js';

const STARTUP_MS = 20_000;
const clusters: HbCluster[] = [];
const downAll = (): void => {
  for (const c of clusters.splice(0)) c.down();
};

/** SIGKILL every process of node1; node2 must start svc1 within deadtime + 1 s of the kill. */
async function killNode1AndExpectTakeover(c: HbCluster): Promise<void> {
  const n2calls = c.hbdummyCalls('node2').length;
  c.hbnet(['kill', 'node1']);
  const takeover = await c.waitForHbdummyCall('node2', 'start', DEADTIME_MS + 5000, n2calls);
  // From hbnet's own stamp of the kill (a stamp taken before running hbnet can be far too early under load).
  expect(takeover.at - c.killedAt('node1')).toBeLessThanOrEqual(DEADTIME_MS + 1000);
}

const running = (c: HbCluster, node: string): boolean => existsSync(path.join(c.state, 'nodes', node, 'run/hbdummy/svc1'));

const runningSvc = (c: HbCluster, node: string, svc: string): boolean => existsSync(path.join(c.state, 'nodes', node, 'run/hbdummy', svc));
function cluster(autoFailback: 'on' | 'off'): HbCluster {
  const c = new HbCluster({ HBNET_MEDIA: 'ucast', HBNET_AUTO_FAILBACK: autoFailback, HBNET_HARESOURCES: 'node1 hbdummy::svc1' });
  clusters.push(c);
  c.hbnet(['up', 'node1', 'node2']);
  return c;
}

describe('heartbeat daemon: haresources groups on two of our nodes', () => {
  afterEach(downAll);
  afterAll(downAll);

  itWithTools(HBNET_TOOLS, 'auto_failback on: node1 acquires at start; SIGKILL -> node2 within deadtime + 1 s; node1 back -> failback; graceful stop hands over', async () => {
    const c = cluster('on');
    const started = await c.startOurs(['node1', 'node2']);
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS);
    await c.waitForHbdummyCall('node1', 'start', STARTUP_MS);
    await c.waitForClStatus('node1', ['rscstatus'], 'local', 10_000);
    await c.waitForClStatus('node2', ['rscstatus'], 'local', 10_000);
    expect(running(c, 'node1')).toBe(true);
    expect(c.hbdummyCalls('node2').filter((x) => x.op === 'start')).toEqual([]);
    expect(c.log('node1')).toContain('info: Acquiring resource group: node1 hbdummy::svc1');

    // Crash of the holder: past its start-up dead time (deadtime + 2 s for 5 s), kill every process of node1.
    await c.waitUntil(started['node1']! + 5000 + 2 * KEEPALIVE_MS);
    await killNode1AndExpectTakeover(c);
    expect(running(c, 'node2')).toBe(true);
    // node2 has no groups of its own; as in 3.0.6 it reports both classes after a takeover.
    await c.waitForClStatus('node2', ['rscstatus'], 'all', 5000);

    // node1 "reboots" (hbnet reset wipes /run, so its service is gone) and comes back: auto_failback on.
    c.hbnet(['reset', 'node1']);
    const n1calls = c.hbdummyCalls('node1').length;
    const n2before = c.hbdummyCalls('node2').length;
    const restarted = await c.startOurs(['node1']);
    const given = await c.waitForHbdummyCall('node2', 'stop', STARTUP_MS, n2before);
    const back = await c.waitForHbdummyCall('node1', 'start', STARTUP_MS, n1calls);
    expect(back.at).toBeGreaterThanOrEqual(given.at);
    await c.waitForClStatus('node1', ['rscstatus'], 'local', 10_000);
    await c.waitForClStatus('node2', ['rscstatus'], 'local', 10_000);
    expect(running(c, 'node1')).toBe(true);
    expect(running(c, 'node2')).toBe(false);

    // Graceful stop of the holder: it stops the group, then node2 runs it (no STONITH wait, no deadtime).
    await c.waitUntil(restarted['node1']! + 5000 + 2 * KEEPALIVE_MS);
    const n1stop = c.hbdummyCalls('node1').length;
    const n2start = c.hbdummyCalls('node2').length;
    const stopAt = Date.now();
    c.hbnet(['stop', 'node1']);
    const released = await c.waitForHbdummyCall('node1', 'stop', 10_000, n1stop);
    const taken = await c.waitForHbdummyCall('node2', 'start', 10_000, n2start);
    expect(taken.at).toBeGreaterThanOrEqual(released.at);
    expect(taken.at - stopAt).toBeLessThan(DEADTIME_MS);
    await c.waitForLog('node1', 'info: node1 Heartbeat shutdown complete.', 10_000);
    await c.waitForClStatus('node2', ['rscstatus'], 'all', 5000);
    expect(running(c, 'node1')).toBe(false);
  }, 120_000);

  itWithTools(HBNET_TOOLS, 'hb_standby and hb_takeover (bin/ and share/heartbeat/) move the groups both ways, for every argument', async () => {
    // node1 owns svc1, node2 owns svc2 (resources-spec §2.3, §2.7).
    const c = new HbCluster({ HBNET_MEDIA: 'ucast', HBNET_AUTO_FAILBACK: 'on', HBNET_HARESOURCES: 'node1 hbdummy::svc1\\nnode2 hbdummy::svc2' });
    clusters.push(c);
    c.hbnet(['up', 'node1', 'node2']);
    await c.startOurs(['node1', 'node2']);
    const holdings = (): string => ['node1', 'node2'].map((n) => `${n}:${['svc1', 'svc2'].filter((s) => runningSvc(c, n, s)).join('+') || '-'}`).join(' ');
    const settled = async (n1: string, n2: string, held: string): Promise<void> => {
      await c.waitForClStatus('node1', ['rscstatus'], n1, 15_000);
      await c.waitForClStatus('node2', ['rscstatus'], n2, 15_000);
      const deadline = Date.now() + 5000;
      while (holdings() !== held && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20)); // poll interval of a bounded wait
      expect(holdings()).toBe(held);
    };
    await settled('local', 'local', 'node1:svc1 node2:svc2');

    const steps: [string, string, string[], string, string, string][] = [
      // node, command, args, rscstatus node1, node2, who runs what
      ['node1', 'share/heartbeat/hb_standby', [], 'none', 'all', 'node1:- node2:svc1+svc2'],
      ['node1', 'bin/hb_takeover', [], 'all', 'none', 'node1:svc1+svc2 node2:-'],
      ['node1', 'bin/hb_standby', ['foreign'], 'local', 'local', 'node1:svc1 node2:svc2'],
      ['node1', 'bin/hb_standby', ['local'], 'none', 'all', 'node1:- node2:svc1+svc2'],
      ['node1', 'share/heartbeat/hb_takeover', ['local'], 'local', 'local', 'node1:svc1 node2:svc2'],
      ['node1', 'bin/hb_takeover', ['foreign'], 'all', 'none', 'node1:svc1+svc2 node2:-'],
      ['node1', 'bin/hb_standby', ['failback'], 'local', 'local', 'node1:svc1 node2:svc2'],
      ['node2', 'bin/hb_standby', ['all'], 'all', 'none', 'node1:svc1+svc2 node2:-'],
      // Fixed mapping (compatibility.md): the original's peer went standby on all here.
      ['node2', 'bin/hb_takeover', ['failback'], 'local', 'local', 'node1:svc1 node2:svc2'],
      ['node2', 'bin/hb_takeover', ['all'], 'none', 'all', 'node1:- node2:svc1+svc2'],
    ];
    for (const [node, cmd, args, n1, n2, held] of steps) {
      const r = c.exec(node, [path.join(REPO_ROOT, cmd), ...args]);
      expect({ step: `${node} ${cmd} ${args.join(' ')}`, ...r }).toEqual({ step: `${node} ${cmd} ${args.join(' ')}`, status: 0, stdout: '' });
      await settled(n1, n2, held);
    }
    expect(c.log('node1')).toContain('info: node1 wants to go standby [foreign]');
    expect(c.log('node2')).toContain('info: standby: acquire [local] resources from node1');
  }, 150_000);

  itWithTools(HBNET_TOOLS, 'our IPaddr2 with an address of the hbnet subnet: on node1 at start, on node2 within deadtime + 1 s after node1 is killed', async () => {
    const c = new HbCluster({ HBNET_MEDIA: 'ucast', HBNET_AUTO_FAILBACK: 'on', HBNET_HARESOURCES: 'node1 IPaddr2::10.77.0.100/24/eth0 hbdummy::svc1' });
    clusters.push(c);
    c.hbnet(['up', 'node1', 'node2']);
    for (const n of ['node1', 'node2']) {
      for (const f of ['IPaddr2', 'hbts-funcs', 'hto-mapfuncs']) copyFileSync(path.join(REPO_ROOT, 'resource.d', f), path.join(c.state, 'nodes', n, 'ha.d/resource.d', f));
    }
    const hasVip = (n: string): boolean => / 10\.77\.0\.100\/24 /.test(c.exec(n, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']).stdout);
    const started = await c.startOurs(['node1', 'node2']);
    await c.waitForHbdummyCall('node1', 'start', STARTUP_MS);
    expect(hasVip('node1')).toBe(true);
    expect(hasVip('node2')).toBe(false);
    expect(c.log('node1')).toContain('info: Running /etc/ha.d/resource.d/IPaddr2 10.77.0.100/24/eth0 start');

    await c.waitUntil(started['node1']! + 5000 + 2 * KEEPALIVE_MS);
    // hbdummy comes after IPaddr2 in the group: when it starts, the address is up.
    await killNode1AndExpectTakeover(c);
    expect(hasVip('node2')).toBe(true);
  }, 90_000);

  itWithTools(HBNET_TOOLS, 'auto_failback off: the group stays on node2 when node1 returns; a lone node acquires after initdead', async () => {
    const c = cluster('off');
    // node2 alone: after initdead it takes node1's group.
    c.start('node2');
    await c.waitForHbdummyCall('node2', 'start', STARTUP_MS);
    await c.waitForClStatus('node2', ['rscstatus'], 'all', 10_000);
    const n2calls = c.hbdummyCalls('node2').length;
    await c.startOurs(['node1']);
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS);
    await c.waitForClStatus('node1', ['rscstatus'], 'none', 10_000);
    await c.waitForClStatus('node2', ['rscstatus'], 'all', 10_000);
    expect(c.hbdummyCalls('node2').slice(n2calls).filter((x) => x.op === 'stop')).toEqual([]);
    expect(c.hbdummyCalls('node1').filter((x) => x.op === 'start')).toEqual([]);
    expect(running(c, 'node2')).toBe(true);
  }, 90_000);
});

describe('heartbeat daemon: -R -C, -M and HA_RSCTMP', () => {
  afterEach(downAll);
  afterAll(downAll);

  itWithTools(HBNET_TOOLS, '-R -C local adopts the running svc1 (no status, no start); rsctmp is emptied at start; -R beside a running daemon is refused; -M manages nothing', async () => {
    const c = cluster('on');
    const sh = (node: string, script: string) => c.exec(node, ['/bin/sh', '-c', script]);
    const heartbeat = path.join(REPO_ROOT, 'bin/heartbeat');
    // What a restart keeping resources finds: the service still running, and a pseudo resource's state file.
    expect(sh('node1', 'mkdir -p /run/hbdummy /var/run/heartbeat/rsctmp && date +%s.000 >/run/hbdummy/svc1 && touch /var/run/heartbeat/rsctmp/Delay_stale').status).toBe(0);
    c.start('node1', `${OURS} -R -C local`);
    c.start('node2');
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS);
    await c.waitForClStatus('node1', ['rscstatus'], 'local', 10_000);
    await c.waitForClStatus('node2', ['rscstatus'], 'local', 10_000);
    // Adopted, not acquired: not even a status call.
    expect(c.hbdummyCalls('node1')).toEqual([]);
    expect(c.hbdummyCalls('node2')).toEqual([]);
    expect(c.log('node1')).not.toContain('Acquiring resource group');
    expect(sh('node1', 'ls -A /var/run/heartbeat/rsctmp; stat -c %a /var/run/heartbeat/rsctmp')).toEqual({ status: 0, stdout: '1777\n' });
    // node1 holds svc1 for real: a standby stops it there and node2 starts it.
    expect(c.exec('node1', [path.join(REPO_ROOT, 'bin/hb_standby')]).status).toBe(0);
    await c.waitForHbdummyCall('node1', 'stop', 10_000);
    await c.waitForHbdummyCall('node2', 'start', 10_000);
    await c.waitForClStatus('node2', ['rscstatus'], 'all', 10_000);
    // The original's -R is its own re-exec; beside a running daemon it refuses.
    expect(sh('node1', `${heartbeat} -R 2>&1`).status).toBe(1);
    expect(sh('node1', `${heartbeat} -R 2>&1`).stdout).toMatch(/^ERROR: Heartbeat already running \[pid \d+\]\.\n$/);

    // -M: node1 owns svc1 but manages nothing; node2 keeps it (auto_failback on would otherwise hand it back).
    c.hbnet(['stop', 'node1']);
    await c.waitForLog('node1', 'info: node1 Heartbeat shutdown complete.', 10_000);
    const n1calls = c.hbdummyCalls('node1').length;
    const logFrom = c.log('node1').length;
    expect(sh('node1', 'touch /var/run/heartbeat/rsctmp/Delay_stale').status).toBe(0);
    c.start('node1', `${OURS} -M`);
    await c.waitForClStatus('node2', ['nodestatus', 'node1'], 'active', STARTUP_MS);
    await c.waitForClStatus('node1', ['rscstatus'], 'none', 10_000);
    // Observation window for the negative: a managing node1 hands svc1 back within about a second of seeing node2.
    await c.waitUntil(Date.now() + 3000);
    expect(c.hbdummyCalls('node1').slice(n1calls)).toEqual([]);
    expect(c.log('node1').slice(logFrom)).not.toMatch(/Acquiring resource group|Local Resource acquisition/);
    expect(running(c, 'node2')).toBe(true);
    await c.waitForClStatus('node2', ['rscstatus'], 'all', 5000);
    expect(sh('node1', 'ls -A /var/run/heartbeat/rsctmp').stdout).toBe('');
  }, 120_000);
});

describe('heartbeat daemon: haresources with the original heartbeat 3.0.6 as node1', () => {
  afterEach(downAll);
  afterAll(downAll);

  itWithTools([...HBNET_TOOLS, ORIGINAL, 'cl_status'], 'original node1 holds svc1; SIGKILL -> our node2 takes it within deadtime + 1 s', async () => {
    const c = cluster('on');
    // node2 joins within node1's initdead: a lone original racing its own
    // mach_down takeover at start-up sometimes garbles its resource pipe
    // ("NV failure (msgfromsteam)") and never starts its group.
    const node1StartedAt = Date.now();
    c.start('node1', ORIGINAL);
    await c.startOurs(['node2']);
    await c.waitForHbdummyCall('node1', 'start', 40_000);
    await c.waitForClStatus('node2', ['nodestatus', 'node1'], 'active', STARTUP_MS);
    await c.waitForClStatus('node2', ['rscstatus'], 'local', 15_000);
    expect(c.hbdummyCalls('node2').filter((x) => x.op === 'start')).toEqual([]);
    // Past the original's start-up dead time (it advertises deadtime + 2 s for 5 s).
    await c.waitUntil(node1StartedAt + 5000 + 2 * KEEPALIVE_MS);
    await killNode1AndExpectTakeover(c);
    await c.waitForClStatus('node2', ['rscstatus'], 'all', 5000);
  }, 120_000);

  itWithTools([...HBNET_TOOLS, ORIGINAL, 'cl_status'], 'our hb_standby / hb_takeover on the original node1 move svc1 to our node2 and back; our hb_takeover on node2 makes the original go standby', async () => {
    const c = cluster('on');
    c.start('node1', ORIGINAL);
    await c.startOurs(['node2']);
    await c.waitForHbdummyCall('node1', 'start', 40_000);
    await c.waitForClStatus('node1', ['rscstatus'], 'local', 30_000);
    await c.waitForClStatus('node2', ['rscstatus'], 'local', 15_000);
    const cmd = (name: string) => path.join(REPO_ROOT, 'bin', name);

    // The original daemon takes our command's message from its API like its own FIFO's.
    let n1 = c.hbdummyCalls('node1').length;
    let n2 = c.hbdummyCalls('node2').length;
    expect(c.exec('node1', [cmd('hb_standby')])).toEqual({ status: 0, stdout: '' });
    const given = await c.waitForHbdummyCall('node1', 'stop', 15_000, n1);
    const taken = await c.waitForHbdummyCall('node2', 'start', 15_000, n2);
    expect(taken.at).toBeGreaterThanOrEqual(given.at);
    await c.waitForClStatus('node1', ['rscstatus'], 'none', 15_000);
    await c.waitForClStatus('node2', ['rscstatus'], 'all', 15_000);

    n1 = c.hbdummyCalls('node1').length;
    n2 = c.hbdummyCalls('node2').length;
    expect(c.exec('node1', [cmd('hb_takeover')])).toEqual({ status: 0, stdout: '' });
    const released = await c.waitForHbdummyCall('node2', 'stop', 15_000, n2);
    const back = await c.waitForHbdummyCall('node1', 'start', 15_000, n1);
    expect(back.at).toBeGreaterThanOrEqual(released.at);
    await c.waitForClStatus('node1', ['rscstatus'], 'all', 15_000);
    await c.waitForClStatus('node2', ['rscstatus'], 'none', 15_000);

    // Ours asks the original: its rc.d/hb_takeover runs its own hb_standby.
    n1 = c.hbdummyCalls('node1').length;
    n2 = c.hbdummyCalls('node2').length;
    expect(c.exec('node2', [cmd('hb_takeover'), 'all'])).toEqual({ status: 0, stdout: '' });
    await c.waitForHbdummyCall('node1', 'stop', 15_000, n1);
    await c.waitForHbdummyCall('node2', 'start', 15_000, n2);
    await c.waitForClStatus('node2', ['rscstatus'], 'all', 15_000);
    expect(running(c, 'node1')).toBe(false);
  }, 150_000);

  itWithTools([...HBNET_TOOLS, ORIGINAL, 'cl_status'], 'our node1 holds svc1; SIGKILL -> the original node2 takes it; our node1 back -> the original fails back to us', async () => {
    const c = cluster('on');
    c.start('node2', ORIGINAL);
    const started = await c.startOurs(['node1']);
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS);
    await c.waitForHbdummyCall('node1', 'start', STARTUP_MS);
    await c.waitForClStatus('node1', ['rscstatus'], 'local', 15_000);
    expect(c.hbdummyCalls('node2').filter((x) => x.op === 'start')).toEqual([]);

    await c.waitUntil(started['node1']! + 5000 + 2 * KEEPALIVE_MS);
    const n2calls = c.hbdummyCalls('node2').length;
    c.hbnet(['kill', 'node1']);
    await c.waitForHbdummyCall('node2', 'start', DEADTIME_MS + 10_000, n2calls);

    c.hbnet(['reset', 'node1']);
    const n1calls = c.hbdummyCalls('node1').length;
    const n2before = c.hbdummyCalls('node2').length;
    await c.startOurs(['node1']);
    const given = await c.waitForHbdummyCall('node2', 'stop', 40_000, n2before);
    const back = await c.waitForHbdummyCall('node1', 'start', 20_000, n1calls);
    expect(back.at).toBeGreaterThanOrEqual(given.at);
    await c.waitForClStatus('node1', ['rscstatus'], 'local', 15_000);
    expect(running(c, 'node2')).toBe(false);
  }, 150_000);
});
