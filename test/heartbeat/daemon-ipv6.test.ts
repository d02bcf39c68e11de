/**
 * Two of our daemons over IPv6 only (hbnet with HBNET_IPV6=1, root): ucast6
 * between ULA addresses, and mcast6 to a link-scope group. No IPv4 medium is
 * configured, so membership itself shows the IPv6 media carry the heartbeat.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect } from 'vitest';
import { itWithTools } from '../helpers/env.js';
import { DEADTIME_MS, HBNET_TOOLS, HbCluster, KEEPALIVE_MS, ORIGINAL } from './daemon-harness.js';

const STARTUP_MS = 20_000;
const clusters: HbCluster[] = [];
const downAll = (): void => {
  for (const c of clusters.splice(0)) c.down();
};

/** node1 fd77::11, node2 fd77::12 (no duplicate address detection), and ha.cf's IPv4 media replaced by `media`. */
function ipv6Cluster(media: (node: string) => string[]): HbCluster {
  const c = new HbCluster({ HBNET_MEDIA: 'ucast', HBNET_IPV6: '1', HBNET_HARESOURCES: '# no resources' });
  clusters.push(c);
  c.hbnet(['up', 'node1', 'node2']);
  for (const [n, addr] of [['node1', 'fd77::11'], ['node2', 'fd77::12']] as const) {
    const r = c.exec(n, ['ip', '-6', 'addr', 'add', `${addr}/64`, 'dev', 'eth0', 'nodad']);
    expect(r.status).toBe(0);
    const f = path.join(c.state, 'nodes', n, 'ha.d/ha.cf');
    const lines = readFileSync(f, 'utf8').split('\n').filter((l) => !l.startsWith('ucast '));
    const at = lines.findIndex((l) => l.startsWith('auto_failback'));
    lines.splice(at, 0, ...media(n));
    writeFileSync(f, lines.join('\n'));
  }
  return c;
}

describe('heartbeat over IPv6 media', () => {
  afterEach(downAll);
  afterAll(downAll);

  itWithTools(HBNET_TOOLS, 'ucast6: both active over IPv6 only; a SIGKILLed peer is declared dead', async () => {
    const c = ipv6Cluster((n) => [`ucast6 eth0 ${n === 'node1' ? 'fd77::12' : 'fd77::11'}`]);
    const started = await c.startOurs(['node1', 'node2']);
    expect(c.log('node1')).toContain('info: ucast6: started on eth0');
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS);
    await c.waitForClStatus('node2', ['nodestatus', 'node1'], 'active', STARTUP_MS);
    expect(c.exec('node1', [c.ourClStatus, 'listhblinks', 'node2']).stdout).toBe('\teth0\n');
    await c.waitForClStatus('node1', ['hblinkstatus', 'node2', 'eth0'], 'up', 2000);
    await c.waitUntil(started['node2']! + 5000 + 2 * KEEPALIVE_MS);
    const from = c.log('node1').length;
    c.hbnet(['kill', 'node2']);
    const seenAt = await c.waitForLog('node1', 'WARN: node node2: is dead', DEADTIME_MS + 5000, from);
    expect(seenAt - c.killedAt('node2')).toBeLessThanOrEqual(DEADTIME_MS + 300);
  }, 60_000);

  itWithTools(HBNET_TOOLS, 'mcast6 to a link-scope group: both active over IPv6 only', async () => {
    const c = ipv6Cluster(() => ['mcast6 eth0 ff02::1:77 694 1 0']);
    await c.startOurs(['node1', 'node2']);
    expect(c.log('node1')).toContain('info: mcast6: started on eth0');
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS);
    await c.waitForClStatus('node2', ['nodestatus', 'node1'], 'active', STARTUP_MS);
    await c.waitForClStatus('node2', ['hblinkstatus', 'node1', 'eth0'], 'up', 2000);
  }, 60_000);

  itWithTools([...HBNET_TOOLS, ORIGINAL], 'mixed cluster over ucast6: the original node1 and our node2 see each other active', async () => {
    const c = ipv6Cluster((n) => [`ucast6 eth0 ${n === 'node1' ? 'fd77::12' : 'fd77::11'}`]);
    c.start('node1', ORIGINAL);
    c.start('node2');
    await c.waitForClStatus('node2', ['nodestatus', 'node1'], 'active', STARTUP_MS);
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS, '/usr/bin/cl_status');
    expect(c.log('node1')).toContain('info: Link node2:eth0 up.');
    expect(c.log('node2')).toContain('info: Link node1:eth0 up.');
  }, 60_000);
});
