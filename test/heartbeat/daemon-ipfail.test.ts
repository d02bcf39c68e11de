/**
 * Ping nodes, respawn and ipfail in an hbnet cluster of our daemons (root,
 * namespaces). The ping node is an address on hbnet's switch bridge, reached
 * by both nodes; node1 "loses" it through a blackhole route in its own
 * namespace, so node2 still sees it. ipfail runs as the original config runs
 * it: `respawn hacluster /usr/lib/heartbeat/ipfail` (our bin/ipfail stands in).
 */
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect } from 'vitest';
import { execFileSync, itWithTools } from '../helpers/env.js';
import { DEADTIME_MS, HBNET_TOOLS, HbCluster, ORIGINAL } from './daemon-harness.js';

const PING_NODE = '10.77.0.254';
const STARTUP_MS = 20_000;
const clusters: HbCluster[] = [];
const downAll = (): void => {
  for (const c of clusters.splice(0)) c.down();
};

/** Bounded wait until `cl_status rscstatus` on `node` is one of `values`. */
async function waitForRsc(c: HbCluster, node: string, values: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = c.exec(node, [c.ourClStatus, 'rscstatus']).stdout.trim();
    if (values.includes(v)) return;
    if (Date.now() > deadline) throw new Error(`${node}: rscstatus ${v}, not one of ${values.join('/')}\n${c.log(node)}`);
    await new Promise((r) => setTimeout(r, 100)); // poll interval of a bounded condition wait
  }
}

const running = (c: HbCluster, node: string): boolean => existsSync(path.join(c.state, 'nodes', node, 'run/hbdummy/svc1'));

/**
 * Two nodes with a ping node on the switch. ipfail runs as hacluster and
 * cannot append to the root-owned ha-log the daemon creates; the test
 * creates the log files first, writable for all, so ipfail's lines land there too.
 */
function ipfailCluster(autoFailback: 'on' | 'off' | 'legacy', ipfailPath = '/usr/lib/heartbeat/ipfail'): HbCluster {
  const c = new HbCluster({
    HBNET_MEDIA: 'ucast',
    HBNET_AUTO_FAILBACK: autoFailback,
    HBNET_HARESOURCES: 'node1 hbdummy::svc1',
    HBNET_HACF_EXTRA: `ping ${PING_NODE}\\nrespawn hacluster ${ipfailPath}`,
  });
  clusters.push(c);
  c.hbnet(['up', 'node1', 'node2']);
  execFileSync('ip', ['-n', `${c.env.HBNET_PREFIX}-sw`, 'addr', 'add', `${PING_NODE}/24`, 'dev', 'br0']);
  for (const n of ['node1', 'node2']) {
    for (const f of ['ha-log', 'ha-debug']) {
      const p = path.join(c.state, 'nodes', n, 'log', f);
      writeFileSync(p, '', { mode: 0o666 });
      execFileSync('chmod', ['0666', p]);
    }
  }
  return c;
}

describe('heartbeat daemon: ping nodes and ipfail', () => {
  afterEach(downAll);
  afterAll(downAll);

  itWithTools([...HBNET_TOOLS, 'ping'], 'node1 loses the ping node, node2 still sees it: svc1 moves to node2; the ping node back: it returns (auto_failback on)', async () => {
    const c = ipfailCluster('on');
    await c.startOurs(['node1', 'node2']);
    await c.waitForHbdummyCall('node1', 'start', STARTUP_MS);
    for (const n of ['node1', 'node2']) {
      await c.waitForClStatus(n, ['nodestatus', PING_NODE], 'ping', STARTUP_MS);
      await c.waitForClStatus(n, ['nodetype', PING_NODE], 'ping', 5000);
    }
    // The ipfail that signs on second hears the other's join and asks; the other answers "balanced".
    await Promise.any(['node1', 'node2'].map((n) => c.waitForLog(n, /ipfail: \[\d+\]: info: Ping node count is balanced\./, STARTUP_MS)));
    expect(c.exec('node1', [c.ourClStatus, 'listnodes']).stdout.split('\n')).toContain(PING_NODE);
    expect(c.log('node1')).toContain(`info: Status update for node ${PING_NODE}: status ping`);
    expect(c.log('node1')).toContain('info: Starting child client "/usr/lib/heartbeat/ipfail" (');
    // (node2 may say `local` instead of `none` here: at start the two ipfails find the counts
    // balanced and, with auto_failback on, node1's asks to give up `foreign`, which sets
    // node2's optimistic local bit as in the original.)
    await c.waitForClStatus('node1', ['rscstatus'], 'local', 10_000);

    // respawn: ipfail crashing (SIGKILL) on node2 is started again (after the 1 s back-off of a short run), as the same user.
    const startedRe = /info: Starting "\/usr\/lib\/heartbeat\/ipfail" as uid (\d+) {2}gid (\d+) \(pid (\d+)\)/g;
    const firstPid = [...c.log('node2').matchAll(startedRe)].at(-1)![3]!;
    const log2 = c.log('node2').length;
    expect(c.exec('node2', ['kill', '-9', firstPid]).status).toBe(0);
    await c.waitForLog('node2', `ERROR: Client /usr/lib/heartbeat/ipfail (pid=${firstPid}) killed by signal 9.`, 5000, log2);
    await c.waitForLog('node2', 'ERROR: Respawning client "/usr/lib/heartbeat/ipfail":', 5000, log2);
    await c.waitForLog('node2', new RegExp(startedRe.source), 5000, log2);
    const again = [...c.log('node2').slice(log2).matchAll(startedRe)][0]!;
    expect(again[3]).not.toBe(firstPid);
    expect(c.exec('node2', ['ps', '-o', 'user=', '-p', again[3]!]).stdout.trim()).toBe('hacluster');
    // The new ipfail's join makes node1's ask again; node2's answers.
    await c.waitForLog('node2', /ipfail: \[\d+\]: info: Ping node count is balanced\./, 10_000, log2);

    // node1 can no longer reach the ping node; node2 can.
    const n1 = c.hbdummyCalls('node1').length;
    const n2 = c.hbdummyCalls('node2').length;
    const log1 = c.log('node1').length;
    const cutAt = Date.now();
    expect(c.exec('node1', ['ip', 'route', 'add', 'blackhole', `${PING_NODE}/32`]).status).toBe(0);
    await c.waitForLog('node1', `WARN: node ${PING_NODE}: is dead`, DEADTIME_MS + 5000, log1);
    await c.waitForLog('node1', 'info: Giving up because we were told that we have less ping nodes.', 10_000, log1);
    const released = await c.waitForHbdummyCall('node1', 'stop', 10_000, n1);
    const taken = await c.waitForHbdummyCall('node2', 'start', 10_000, n2);
    expect(taken.at).toBeGreaterThanOrEqual(released.at);
    // deadping (= deadtime) + 2 x keepalive + the standby hand-over.
    expect(taken.at - cutAt).toBeLessThan(DEADTIME_MS + 5000);
    expect(running(c, 'node2')).toBe(true);
    expect(running(c, 'node1')).toBe(false);
    expect(c.exec('node1', [c.ourClStatus, 'nodestatus', PING_NODE])).toEqual({ status: 1, stdout: 'dead\n' });
    await waitForRsc(c, 'node2', ['foreign', 'all'], 10_000);
    await c.waitForClStatus('node1', ['rscstatus'], 'none', 10_000);
    // A ping node's death alone moves nothing: it was ipfail's standby request.
    expect(c.log('node1').slice(log1)).toContain('info: node1 wants to go standby [all]');
    expect(c.log('node2')).not.toContain(`Resources being acquired from ${PING_NODE}`);

    // The ping node answers node1 again: counts are balanced, node2 gives node1's group back (auto_failback on).
    const back1 = c.hbdummyCalls('node1').length;
    const back2 = c.hbdummyCalls('node2').length;
    expect(c.exec('node1', ['ip', 'route', 'del', 'blackhole', `${PING_NODE}/32`]).status).toBe(0);
    await c.waitForClStatus('node1', ['nodestatus', PING_NODE], 'ping', 10_000);
    const given = await c.waitForHbdummyCall('node2', 'stop', 20_000, back2);
    const returned = await c.waitForHbdummyCall('node1', 'start', 20_000, back1);
    expect(returned.at).toBeGreaterThanOrEqual(given.at);
    await c.waitForClStatus('node1', ['rscstatus'], 'local', 10_000);
    expect(c.log('node2')).toContain('info: Giving up foreign resources (auto_failback).');

    // A graceful stop ends ipfail after the groups are released, and does not restart it.
    const pid1 = [...c.log('node1').matchAll(startedRe)].at(-1)![3]!;
    const stopFrom = c.log('node1').length;
    c.hbnet(['stop', 'node1']);
    await c.waitForLog('node1', 'info: node1 Heartbeat shutdown complete.', 15_000, stopFrom);
    const tail = c.log('node1').slice(stopFrom);
    expect(tail).toContain(`info: killing /usr/lib/heartbeat/ipfail process group ${pid1} with signal 15`);
    expect(tail.indexOf('All HA resources relinquished.')).toBeLessThan(tail.indexOf('info: killing /usr/lib/heartbeat/ipfail'));
    expect(tail).not.toContain('Respawning client');
  }, 120_000);
  itWithTools([...HBNET_TOOLS, 'ping'], 'auto_failback legacy: ipfail exits 100 and is not restarted; the ping node is still tracked', async () => {
    const c = ipfailCluster('legacy');
    await c.startOurs(['node1', 'node2']);
    await c.waitForLog('node1', 'ERROR: auto_failback set to incompatible legacy option.', STARTUP_MS);
    await c.waitForLog('node1', 'ERROR: Client /usr/lib/heartbeat/ipfail exited with return code 100.', 5000);
    await c.waitForClStatus('node1', ['nodestatus', PING_NODE], 'ping', 5000);
    expect(c.log('node1')).not.toContain('Respawning client');
  }, 60_000);

  itWithTools([...HBNET_TOOLS, 'ping', ORIGINAL, '/usr/libexec/heartbeat/ipfail'], "mixed: the original heartbeat and its ipfail on node1, ours on node2: node1 loses the ping node, svc1 moves to our node2", async () => {
    // /usr/libexec/heartbeat/ipfail: the original runs its own binary there, ours runs bin/ipfail for that line.
    const c = ipfailCluster('off', '/usr/libexec/heartbeat/ipfail');
    c.start('node1', ORIGINAL);
    await c.startOurs(['node2']);
    await c.waitForHbdummyCall('node1', 'start', 40_000);
    await c.waitForClStatus('node2', ['nodestatus', PING_NODE], 'ping', STARTUP_MS);
    // Both ipfails are up and have compared counts.
    await Promise.any(['node1', 'node2'].map((n) => c.waitForLog(n, /ipfail: \[\d+\]: info: Ping node count is balanced\./, 40_000)));
    const n2 = c.hbdummyCalls('node2').length;
    const log1 = c.log('node1').length;
    expect(c.exec('node1', ['ip', 'route', 'add', 'blackhole', `${PING_NODE}/32`]).status).toBe(0);
    await c.waitForHbdummyCall('node2', 'start', 30_000, n2);
    // The original ipfail on node1 was told so by ours on node2 (you_are_dead).
    expect(c.log('node1').slice(log1)).toMatch(/Giving up because we were told that we have less ping nodes\./);
    expect(running(c, 'node2')).toBe(true);
    expect(running(c, 'node1')).toBe(false);
  }, 150_000);
});
