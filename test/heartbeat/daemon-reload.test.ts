/**
 * SIGHUP / `heartbeat -r` on a running cluster of ours (hbnet, root): a
 * changed ha.cf (timings, a new serial medium) is applied in place, the peer
 * sees no death or restart and the held resource group stays up; an
 * authkeys-only change switches the signing key; a broken ha.cf is refused
 * with FILE:LINE and the old configuration keeps running.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect } from 'vitest';
import { REPO_ROOT, itWithTools } from '../helpers/env.js';
import { HBNET_TOOLS, HbCluster } from './daemon-harness.js';

const STARTUP_MS = 20_000;
const HEARTBEAT = path.join(REPO_ROOT, 'bin/heartbeat');
const clusters: HbCluster[] = [];
const cluster = (env: Record<string, string> = {}): HbCluster => {
  const c = new HbCluster(env);
  clusters.push(c);
  return c;
};
const downAll = (): void => {
  for (const c of clusters.splice(0)) c.down();
};

const file = (c: HbCluster, node: string, rel: string): string => path.join(c.state, 'nodes', node, rel);
const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');
const generation = (c: HbCluster, node: string): number => Number(read(file(c, node, 'lib/hb_generation')).trim());
const dummyOps = (c: HbCluster, node: string): string[] =>
  read(file(c, node, 'log/hbdummy.log'))
    .split('\n')
    .filter((l) => l.includes(' svc1 '))
    .map((l) => l.split(' ')[3]!);

async function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50)); // poll interval of a bounded condition wait
  }
}

describe('heartbeat reload (SIGHUP, -r) in a running cluster', () => {
  afterEach(downAll);
  afterAll(downAll);

  itWithTools([...HBNET_TOOLS, 'socat'], 'a changed ha.cf (deadtime, keepalive, a serial medium) applies without a restart; no death, svc1 stays held', async () => {
    const res = { HBNET_HARESOURCES: 'node1 hbdummy::svc1' };
    const c = cluster({ HBNET_MEDIA: 'ucast', ...res });
    c.hbnet(['up', 'node1', 'node2']);
    await c.startOurs(['node1', 'node2']);
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS);
    await c.waitForClStatus('node1', ['rscstatus'], 'local', STARTUP_MS);
    await waitFor('svc1 started on node1', () => dummyOps(c, 'node1').includes('start'), STARTUP_MS);
    expect(c.exec('node1', [c.ourClStatus, 'hbparameter', '-p', 'deadtime']).stdout.trim()).toBe('2');
    const gen1 = generation(c, 'node1');
    const ops1 = dummyOps(c, 'node1').length;

    // The new configuration: deadtime 3, keepalive 300 ms, and a null-modem cable as a second medium.
    c.hbnet(['serial', 'node1', 'node2']);
    c.hbnet(['genconf'], { HBNET_MEDIA: 'ucast serial', HBNET_BAUD: '115200', HBNET_DEADTIME: '3', HBNET_KEEPALIVE: '300ms', ...res });
    const from1 = c.log('node1').length;
    const from2 = c.log('node2').length;
    expect(c.exec('node1', [HEARTBEAT, '-r']).status).toBe(0); // validates, then SIGHUP
    expect(c.exec('node2', [HEARTBEAT, '-r']).status).toBe(0);

    await c.waitForLog('node1', 'changed: applying it without a restart', 5000, from1);
    const applied = c.log('node1').slice(from1);
    expect(applied).toContain('info: deadtime now 3000 ms (was 2000 ms)');
    expect(applied).toContain('info: keepalive now 300 ms (was 200 ms)');
    expect(applied).toContain('info: medium added: serial /run/hbserial/node2');
    await c.waitForLog('node1', 'info: Link node2:/run/hbserial/node2 up.', 5000, from1);
    await c.waitForLog('node2', 'info: Link node1:/run/hbserial/node1 up.', 5000, from2);
    await c.waitForClStatus('node1', ['hbparameter', '-p', 'deadtime'], '3', 5000);
    await c.waitForClStatus('node1', ['hbparameter', '-p', 'keepalive'], '300ms', 5000);
    const links = c.exec('node1', [c.ourClStatus, 'listhblinks', 'node2']).stdout;
    expect(links).toContain('\teth0');
    expect(links).toContain('\t/run/hbserial/node2');

    // The new medium carries the heartbeat: cutting eth0 is a link death only.
    c.hbnet(['cut', 'node2', 'both']);
    await c.waitForLog('node1', 'info: Link node2:eth0 dead.', 10_000, from1);
    await c.waitForLog('node2', 'info: Link node1:eth0 dead.', 10_000, from2);
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', 2000);
    await c.waitForClStatus('node2', ['nodestatus', 'node1'], 'active', 2000);
    c.hbnet(['heal', 'node2']);
    await c.waitForLog('node1', 'info: Link node2:eth0 up.', 10_000, from1);

    for (const n of ['node1', 'node2']) {
      const since = c.log(n).slice(n === 'node1' ? from1 : from2);
      expect(since).not.toMatch(/node node\d: is dead/);
      expect(since).not.toContain('Heartbeat restart on node');
      expect(since).not.toContain('returning after partition');
      expect(since).not.toContain('Giving up all HA resources');
    }
    expect(generation(c, 'node1')).toBe(gen1);
    expect(dummyOps(c, 'node1').slice(ops1)).not.toContain('stop');
    expect(dummyOps(c, 'node2')).not.toContain('start');
    await c.waitForClStatus('node1', ['rscstatus'], 'local', 2000);
  }, 90_000);

  itWithTools(HBNET_TOOLS, 'an authkeys-only change switches the signing key at once; a broken ha.cf is refused with FILE:LINE and the old one runs on', async () => {
    // deadtime 5 s: node2 must not declare node1 dead while only node1 has the new key.
    const c = cluster({ HBNET_MEDIA: 'ucast', HBNET_DEADTIME: '5', HBNET_INITDEAD: '10' });
    c.hbnet(['up', 'node1', 'node2']);
    await c.startOurs(['node1', 'node2']);
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS);
    await c.waitForClStatus('node2', ['nodestatus', 'node1'], 'active', STARTUP_MS);
    const from1 = c.log('node1').length;
    const from2 = c.log('node2').length;

    // node1 signs with a key node2 does not have yet: node2 drops node1's packets.
    const newKeys = 'auth 2\n1 sha1 somesecret\n2 sha1 rotatedsecret\n';
    writeFileSync(file(c, 'node1', 'ha.d/authkeys'), newKeys, { mode: 0o600 });
    const switchedAt = Date.now();
    expect(c.exec('node1', [HEARTBEAT, '-r']).status).toBe(0);
    await c.waitForLog('node1', 'info: Rereading authentication file.', 5000, from1);
    expect(c.log('node1').slice(from1)).not.toContain('changed: applying it');
    await c.waitForLog('node2', /WARN: bad packet from 10\.77\.0\.11 on eth0 \(WIRE_AUTH_\w+\)/, 5000, from2);
    // node2 takes the same file: node1's packets count again, nobody died.
    writeFileSync(file(c, 'node2', 'ha.d/authkeys'), newKeys, { mode: 0o600 });
    expect(c.exec('node2', [HEARTBEAT, '-r']).status).toBe(0);
    await c.waitForLog('node2', 'info: Rereading authentication file.', 5000, from2);
    await c.waitForClStatus('node2', ['nodestatus', 'node1'], 'active', 2000);
    for (const [n, from] of [['node1', from1], ['node2', from2]] as const) {
      const since = c.log(n).slice(from);
      expect(since).not.toMatch(/node node\d: is dead/);
      expect(since).not.toContain('rotatedsecret');
    }

    // A broken ha.cf: refused with FILE:LINE, the running configuration stays.
    const hacf = file(c, 'node1', 'ha.d/ha.cf');
    const good = read(hacf);
    writeFileSync(hacf, good.replace(/^deadtime .*$/m, 'deadtime banana'));
    const line = good.split('\n').findIndex((l) => l.startsWith('deadtime ')) + 1;
    const bad = c.exec('node1', [HEARTBEAT, '-r']);
    expect(bad.status).toBe(6); // -r validates first: nothing is signalled
    const from1b = c.log('node1').length;
    c.exec('node1', ['/bin/sh', '-c', 'kill -HUP "$(cat /var/run/heartbeat.pid)"']);
    await c.waitForLog('node1', 'keeps running with the old one', 5000, from1b);
    expect(c.log('node1').slice(from1b)).toContain(`ERROR: /etc/ha.d/ha.cf:${line}:`);
    expect(c.exec('node1', [c.ourClStatus, 'hbparameter', '-p', 'deadtime']).stdout.trim()).toBe('5');
    // The old configuration goes on: a HUP with the file repaired finds nothing changed.
    writeFileSync(hacf, good);
    c.exec('node1', ['/bin/sh', '-c', 'kill -HUP "$(cat /var/run/heartbeat.pid)"']);
    await c.waitForLog('node1', 'info: Configuration unchanged.', 5000, from1b);
    // Past node2's dead time (5 s) from node1's switch: had node2 not taken the
    // new key, every packet of node1 since then would have been dropped and node1 be dead.
    await c.waitUntil(switchedAt + 5000 + 500);
    await c.waitForClStatus('node2', ['nodestatus', 'node1'], 'active', 2000);
    expect(c.log('node2').slice(from2)).not.toMatch(/node node1: is dead/);
  }, 90_000);

  itWithTools(HBNET_TOOLS, 'a node and its ucast line added by reload join the running cluster; removed again, they are forgotten', async () => {
    const c = cluster({ HBNET_MEDIA: 'ucast', HBNET_HARESOURCES: '# no resources' });
    c.hbnet(['up', 'node1', 'node2', 'node3']);
    const three: Record<string, string> = {};
    const two: Record<string, string> = {};
    for (const n of ['node1', 'node2']) {
      three[n] = read(file(c, n, 'ha.d/ha.cf'));
      two[n] = three[n]!.split('\n').filter((l) => l !== 'node node3' && l !== 'ucast eth0 10.77.0.13').join('\n');
      writeFileSync(file(c, n, 'ha.d/ha.cf'), two[n]!);
    }
    await c.startOurs(['node1', 'node2']);
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS);
    await c.startOurs(['node3']);
    expect(c.exec('node1', [c.ourClStatus, 'listnodes']).stdout).toBe('node2\nnode1\n');
    const from1 = c.log('node1').length;
    const from2 = c.log('node2').length;

    for (const n of ['node1', 'node2']) {
      writeFileSync(file(c, n, 'ha.d/ha.cf'), three[n]!);
      expect(c.exec(n, [HEARTBEAT, '-r']).status).toBe(0);
    }
    await c.waitForLog('node1', 'info: node added: node3', 5000, from1);
    expect(c.log('node1').slice(from1)).toContain('info: medium added: ucast eth0 10.77.0.13');
    await c.waitForClStatus('node1', ['nodestatus', 'node3'], 'active', STARTUP_MS);
    await c.waitForClStatus('node2', ['nodestatus', 'node3'], 'active', STARTUP_MS);
    await c.waitForClStatus('node3', ['nodestatus', 'node1'], 'active', STARTUP_MS);
    await c.waitForClStatus('node3', ['nodestatus', 'node2'], 'active', STARTUP_MS);
    expect(c.exec('node1', [c.ourClStatus, 'listnodes']).stdout).toBe('node3\nnode2\nnode1\n');

    const from1b = c.log('node1').length;
    writeFileSync(file(c, 'node1', 'ha.d/ha.cf'), two['node1']!);
    expect(c.exec('node1', [HEARTBEAT, '-r']).status).toBe(0);
    await c.waitForLog('node1', 'info: node removed: node3', 5000, from1b);
    expect(c.log('node1').slice(from1b)).toContain('info: medium removed: ucast eth0 10.77.0.13');
    expect(c.exec('node1', [c.ourClStatus, 'listnodes']).stdout).toBe('node2\nnode1\n');
    expect(c.exec('node1', [c.ourClStatus, 'nodestatus', 'node3']).status).not.toBe(0);
    // node3 no longer hears node1 (no ucast to it): it declares node1 dead, node2 stays.
    await c.waitForLog('node3', 'WARN: node node1: is dead', 10_000);
    await c.waitForClStatus('node3', ['nodestatus', 'node2'], 'active', 2000);
    for (const [n, from] of [['node1', from1], ['node2', from2]] as const) {
      expect(c.log(n).slice(from)).not.toMatch(/node node[12]: is dead/);
    }
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', 2000);
  }, 90_000);
});
