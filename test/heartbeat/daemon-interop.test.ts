/**
 * A mixed cluster, the migration case: node1 runs the original Heartbeat
 * 3.0.6 (Debian package `heartbeat`), node2 runs ours, over ucast in hbnet.
 * Each sees the other active (Debian's cl_status on node1, ours on node2),
 * each detects the other's death, and the original accepts our restart as a
 * restart (higher generation), not as a healed partition.
 */
import { afterAll, describe, expect } from 'vitest';
import { itWithTools } from '../helpers/env.js';
import { DEADTIME_MS, HBNET_TOOLS, HbCluster, KEEPALIVE_MS, ORIGINAL } from './daemon-harness.js';

const TOOLS = [...HBNET_TOOLS, ORIGINAL, 'cl_status'];
const STARTUP_MS = 20_000;

describe('heartbeat daemon against the real heartbeat 3.0.6', () => {
  const clusters: HbCluster[] = [];
  afterAll(() => {
    for (const c of clusters.splice(0)) c.down();
  });

  itWithTools(TOOLS, 'original node1 + our node2: both active; kills detected both ways; our restart and graceful stop are no partition', async () => {
    const c = new HbCluster({ HBNET_MEDIA: 'ucast' });
    clusters.push(c);
    c.hbnet(['up', 'node1', 'node2']);
    c.start('node1', ORIGINAL);
    const started = await c.startOurs(['node2']);
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS, 'cl_status');
    await c.waitForClStatus('node2', ['nodestatus', 'node1'], 'active', STARTUP_MS);
    expect(c.log('node1')).toContain('Status update for node node2: status active');
    // clientstatus across nodes: query-cstatus / respond-cstatus in both directions.
    expect(c.exec('node1', ['cl_status', 'clientstatus', 'node2', 'nosuchclient', '3000'])).toEqual({ status: 1, stdout: 'offline\n' });
    expect(c.exec('node2', [c.ourClStatus, 'clientstatus', 'node1', 'nosuchclient', '3000'])).toEqual({ status: 1, stdout: 'offline\n' });

    // Ours killed: the original declares it dead.
    await c.waitUntil(started['node2']! + 5000 + 2 * KEEPALIVE_MS); // past our start-up dt (deadtime + 2 s)
    let from = c.log('node1').length;
    c.hbnet(['kill', 'node2']);
    await c.waitForLog('node1', 'node node2: is dead', DEADTIME_MS + 5000, from);

    // Ours restarted with a raised generation: a restart to the original, not a partition.
    c.start('node2');
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS, 'cl_status');
    await c.waitForClStatus('node2', ['nodestatus', 'node1'], 'active', STARTUP_MS);
    const after = c.log('node1').slice(from);
    expect(after).toContain('Status update for node node2: status');
    expect(after).not.toContain('returning after partition');
    expect(after).not.toMatch(/Heartbeat restart triggered|Restarting heartbeat|attempted replay attack/);

    // Ours stopped gracefully (SIGTERM): the original takes our shutdone.
    from = c.log('node1').length;
    c.hbnet(['stop', 'node2']);
    await c.waitForLog('node1', "Received shutdown notice from 'node2'.", 10_000, from);
    await c.waitForLog('node1', 'node node2: is dead', DEADTIME_MS + 5000, from);
    expect(c.log('node2')).toContain('info: node2 Heartbeat shutdown complete.');
    c.start('node2');
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS, 'cl_status');
    await c.waitForClStatus('node2', ['nodestatus', 'node1'], 'active', STARTUP_MS);
    expect(c.log('node1').slice(from)).not.toContain('returning after partition');

    // The original killed: ours declares it dead.
    from = c.log('node2').length;
    c.hbnet(['kill', 'node1']);
    await c.waitForLog('node2', 'WARN: node node1: is dead', DEADTIME_MS + 5000, from);
    await c.waitForClStatus('node2', ['nodestatus', 'node1'], 'dead', 5000);
  }, 90_000);

  itWithTools(TOOLS, "Debian's cl_status and ours give the same answers against our daemon", async () => {
    const c = new HbCluster({ HBNET_MEDIA: 'ucast' });
    clusters.push(c);
    c.hbnet(['up', 'node1', 'node2']);
    c.start('node1');
    c.start('node2');
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS);
    for (const args of [
      ['hbstatus'],
      ['listnodes'],
      ['nodestatus', 'node2'],
      ['nodestatus', 'node1'],
      ['nodetype', 'node2'],
      ['listhblinks', 'node2'],
      ['hblinkstatus', 'node2', 'eth0'],
      ['nodestatus', 'nosuchnode'],
      ['hbparameter', '-p', 'keepalive'],
      ['hbparameter', '-p', 'deadtime'],
      ['rscstatus'],
    ]) {
      const theirs = c.exec('node1', ['cl_status', ...args]);
      const ours = c.exec('node1', [c.ourClStatus, ...args]);
      expect({ args, ...ours }).toEqual({ args, ...theirs });
    }
  }, 60_000);
});
