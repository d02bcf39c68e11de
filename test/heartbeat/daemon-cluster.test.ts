/**
 * Two of our heartbeat daemons in an hbnet cluster (network, mount, UTS and
 * PID namespaces; root): membership over ucast, failure detection timing,
 * one medium of two cut, a node with the wrong key.
 */
import { afterAll, afterEach, describe, expect } from 'vitest';
import { itWithTools } from '../helpers/env.js';
import { DEADTIME_MS, HBNET_TOOLS, HbCluster, KEEPALIVE_MS } from './daemon-harness.js';

const STARTUP_MS = 20_000;
const clusters: HbCluster[] = [];
const cluster = (env: Record<string, string> = {}): HbCluster => {
  const c = new HbCluster(env);
  clusters.push(c);
  return c;
};
const downAll = (): void => {
  for (const c of clusters.splice(0)) c.down();
};

describe('heartbeat daemon: two of our nodes', () => {
  afterEach(downAll);
  afterAll(downAll);

  itWithTools(HBNET_TOOLS, 'ucast: both active in cl_status; a SIGKILLed peer is declared dead within deadtime + 0.3 s', async () => {
    const c = cluster({ HBNET_MEDIA: 'ucast' });
    c.hbnet(['up', 'node1', 'node2']);
    const started = await c.startOurs(['node1', 'node2']);
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS);
    await c.waitForClStatus('node2', ['nodestatus', 'node1'], 'active', STARTUP_MS);
    // For its first 5 s a node advertises deadtime + 2 s (as the original), and
    // peers judge it by that: kill it only once it advertises the plain deadtime.
    await c.waitUntil(started['node2']! + 5000 + 2 * KEEPALIVE_MS);

    const from = c.log('node1').length;
    c.hbnet(['kill', 'node2']);
    const seenAt = await c.waitForLog('node1', 'WARN: node node2: is dead', DEADTIME_MS + 5000, from);
    // From hbnet's own stamp of the kill; "seen" is the 10 ms poll that found the line (at most that late).
    const latency = seenAt - c.killedAt('node2');
    expect(latency).toBeLessThanOrEqual(DEADTIME_MS + 300);
    // The link dies at its last packet of any kind (an ACK may follow the last status) + dead time.
    await c.waitForLog('node1', 'info: Link node2:eth0 dead.', KEEPALIVE_MS + 1000, from);
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'dead', 5000);
  }, 60_000);

  itWithTools([...HBNET_TOOLS, 'socat'], 'ucast + serial: cutting eth0 logs the link dead, the node stays active', async () => {
    // 115200 baud: at 19200 a paced 512-byte chunk takes longer than a 200 ms keepalive.
    const c = cluster({ HBNET_MEDIA: 'ucast serial', HBNET_BAUD: '115200' });
    c.hbnet(['up', 'node1', 'node2']);
    c.hbnet(['serial', 'node1', 'node2']);
    c.hbnet(['genconf']);
    c.start('node1');
    c.start('node2');
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS);
    await c.waitForLog('node1', 'Link node2:/run/hbserial/node2 up.', STARTUP_MS);
    await c.waitForClStatus('node1', ['hblinkstatus', 'node2', 'eth0'], 'up', 5000);

    const from = c.log('node1').length;
    c.hbnet(['cut', 'node2', 'both']);
    await c.waitForLog('node1', 'info: Link node2:eth0 dead.', DEADTIME_MS + 5000, from);
    // Link and node deaths come from the same dead time: had the serial link
    // not carried node2's status, "node node2: is dead" would be logged by now.
    expect(c.log('node1').slice(from)).not.toContain('node node2: is dead');
    expect(c.exec('node1', ['/usr/bin/env', 'true']).status).toBe(0);
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', 2000);
    await c.waitForClStatus('node1', ['hblinkstatus', 'node2', '/run/hbserial/node2'], 'up', 2000);
    await c.waitForClStatus('node1', ['hblinkstatus', 'node2', 'eth0'], 'dead', 2000);

    c.hbnet(['heal', 'node2']);
    await c.waitForLog('node1', 'info: Link node2:eth0 up.', 5000, from);
  }, 60_000);

  itWithTools(HBNET_TOOLS, 'a node signing with another key is not seen, and its packets are counted and logged as dropped', async () => {
    const c = cluster({ HBNET_MEDIA: 'ucast' });
    c.hbnet(['up', 'node1', 'node2']);
    c.hbnet(['genconf', 'node2'], { HBNET_AUTH: '1 sha1 notthesecret' });
    c.start('node1');
    c.start('node2');
    await c.waitForLog('node1', /WARN: bad packet from 10\.77\.0\.12 on eth0 \(WIRE_AUTH_MISMATCH\)/, STARTUP_MS);
    // After initdead node1 gives up on node2 and comes up alone.
    await c.waitForLog('node1', 'Comm_now_up(): updating status to active', STARTUP_MS);
    const log = c.log('node1');
    expect(log).toContain('WARN: node node2: is dead');
    expect(log).not.toContain('Link node2:eth0 up.');
    expect(log).not.toContain('Status update for node node2');
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'dead', 5000);
    // The limiter lets a few lines through per interval, not one per packet (5 per second arrive).
    expect(log.match(/bad packet from/g)?.length ?? 0).toBeLessThanOrEqual(6);
  }, 60_000);

  for (const media of ['bcast', 'mcast']) {
    itWithTools(HBNET_TOOLS, `three nodes over ${media}: all active; a killed node is declared dead by both others`, async () => {
      const c = cluster({ HBNET_MEDIA: media });
      c.hbnet(['up', 'node1', 'node2', 'node3']);
      const started = await c.startOurs(['node1', 'node2', 'node3']);
      for (const [a, b] of [['node1', 'node2'], ['node1', 'node3'], ['node2', 'node3'], ['node3', 'node1']] as const) {
        await c.waitForClStatus(a, ['nodestatus', b], 'active', STARTUP_MS);
      }
      const from1 = c.log('node1').length;
      const from2 = c.log('node2').length;
      await c.waitUntil(started['node3']! + 5000 + 2 * KEEPALIVE_MS);
      c.hbnet(['kill', 'node3']);
      // Both logs are watched at once: each "seen" is when its own line appeared.
      const [seen1, seen2] = await Promise.all([
        c.waitForLog('node1', 'WARN: node node3: is dead', DEADTIME_MS + 5000, from1),
        c.waitForLog('node2', 'WARN: node node3: is dead', DEADTIME_MS + 5000, from2),
      ]);
      expect(Math.max(seen1, seen2) - c.killedAt('node3')).toBeLessThanOrEqual(DEADTIME_MS + 300);
      await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', 2000);
    }, 60_000);
  }

  itWithTools([...HBNET_TOOLS, 'socat'], 'serial only (socat null-modem): both active; a SIGKILLed peer is declared dead within deadtime + 0.3 s', async () => {
    const c = cluster({ HBNET_MEDIA: 'serial', HBNET_BAUD: '115200' });
    c.hbnet(['up', 'node1', 'node2']);
    c.hbnet(['serial', 'node1', 'node2']);
    c.hbnet(['genconf']);
    const started = await c.startOurs(['node1', 'node2']);
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS);
    await c.waitForClStatus('node2', ['nodestatus', 'node1'], 'active', STARTUP_MS);
    expect(c.log('node1')).toContain('info: Link node2:/run/hbserial/node2 up.');
    await c.waitUntil(started['node2']! + 5000 + 2 * KEEPALIVE_MS);
    const from = c.log('node1').length;
    c.hbnet(['kill', 'node2']);
    const seenAt = await c.waitForLog('node1', 'WARN: node node2: is dead', DEADTIME_MS + 5000, from);
    expect(seenAt - c.killedAt('node2')).toBeLessThanOrEqual(DEADTIME_MS + 300);
  }, 60_000);
});
