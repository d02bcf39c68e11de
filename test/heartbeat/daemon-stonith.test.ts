/**
 * STONITH in an hbnet cluster of two of our daemons: node1 holds svc1 and is
 * SIGKILLed; node2, with `stonith_host * external/hbtsfence node1`, resets
 * node1 through the external plugin before it starts svc1. The plugin writes
 * a timestamped line to the node's /var/log/fence.log per call; hbnet's
 * hbdummy resource writes its own timestamps to /var/log/hbdummy.log. With a
 * plugin that fails twice, the takeover waits and retries every 5 s
 * ("STONITH of node1 failed.  Retrying...") until the fence succeeds.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { REPO_ROOT, SHARED, itWithTools } from '../helpers/env.js';
import { DEADTIME_MS, HBNET_TOOLS, HbCluster, KEEPALIVE_MS, ORIGINAL } from './daemon-harness.js';

const HBDECODE = path.join(SHARED, 'tools/hbnet/hbdecode.mjs');

/** The `t=stonith` messages of a capture, as `node=N result=R` per message. */
function stonithMessages(c: HbCluster, name: string): string[] {
  const out = execFileSync('node', [HBDECODE, '--type', 'stonith', path.join(c.state, 'captures', `${name}.pcap`)], { encoding: 'utf8', timeout: 30_000 });
  const msgs: string[] = [];
  for (const block of out.split(/\n(?=#\d+ )/)) {
    const f = (n: string): string | undefined => new RegExp(`^\\s+${n}\\(0\\)=(.*)$`, 'm').exec(block)?.[1];
    if (f('t') === 'stonith') msgs.push(`src=${f('src')} node=${f('node')} result=${f('result')}`);
  }
  return msgs;
}

const STARTUP_MS = 20_000;
const clusters: HbCluster[] = [];
const downAll = (): void => {
  for (const c of clusters.splice(0)) c.down();
};

/** The external plugin: cluster-glue's contract; `reset` fails while /var/log/fence-fail counts above 0. */
const PLUGIN = `#!/bin/sh
log=/var/log/fence.log
case "$1" in
  getconfignames) echo hostlist ;;
  gethosts) for h in $(echo "$hostlist" | tr ',' ' '); do echo "$h"; done ;;
  status) exit 0 ;;
  reset)
    n=0; [ -f /var/log/fence-fail ] && n=$(cat /var/log/fence-fail)
    if [ "$n" -gt 0 ]; then
      echo $((n - 1)) > /var/log/fence-fail
      echo "$(date +%s.%N) fail $2" >> "$log"
      exit 1
    fi
    echo "$(date +%s.%N) reset $2" >> "$log"
    exit 0 ;;
  *) exit 1 ;;
esac
`;

interface Stamped {
  readonly at: number;
  readonly words: readonly string[];
}

/** Lines `<epoch.frac> word...` of a node's /var/log file. */
function stamped(c: HbCluster, node: string, file: string): Stamped[] {
  const f = path.join(c.state, 'nodes', node, 'log', file);
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [at, ...words] = l.split(' ');
      return { at: Math.round(Number(at) * 1000), words };
    });
}

async function waitFor<T>(what: string, get: () => T | undefined, timeoutMs: number, c: HbCluster): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`no ${what} after ${timeoutMs} ms\n${c.log('node2')}\n--- daemon.out:\n${c.daemonOut('node2')}`);
    await new Promise((r) => setTimeout(r, 10)); // poll interval of a bounded condition wait
  }
}

const svc1 = (c: HbCluster, node: string, op: string): Stamped | undefined => stamped(c, node, 'hbdummy.log').find((x) => x.words[1] === 'svc1' && x.words[2] === op);

function cluster(fromHost = '*', device = 'external/hbtsfence node1'): HbCluster {
  const c = new HbCluster({
    HBNET_MEDIA: 'ucast',
    HBNET_AUTO_FAILBACK: 'on',
    HBNET_HARESOURCES: 'node1 hbdummy::svc1',
    HBNET_HACF_EXTRA: `stonith_host ${fromHost} ${device}\\nenv STONITH_EXTERNAL_DIR=/etc/ha.d/stonith\\nenv STONITH_TIMEOUT=10`,
  });
  clusters.push(c);
  c.hbnet(['up', 'node1', 'node2']);
  for (const n of ['node1', 'node2']) {
    const dir = path.join(c.state, 'nodes', n, 'ha.d/stonith');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'hbtsfence'), PLUGIN);
    chmodSync(path.join(dir, 'hbtsfence'), 0o755);
  }
  return c;
}

/** Both nodes up, node1 holding svc1, past node1's start-up dead time. */
async function node1Holding(c: HbCluster): Promise<void> {
  const started = await c.startOurs(['node1', 'node2']);
  await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS);
  await waitFor('svc1 start on node1', () => svc1(c, 'node1', 'start'), STARTUP_MS, c);
  await c.waitForClStatus('node2', ['rscstatus'], 'local', 10_000); // 3.0.6: an idle node reports its (empty) local class
  await c.waitUntil(started['node1']! + 5000 + 2 * KEEPALIVE_MS);
}

describe('heartbeat daemon: STONITH with an external plugin', () => {
  afterEach(downAll);
  afterAll(downAll);

  itWithTools([...HBNET_TOOLS, 'tcpdump'], 'node1 killed: node2 resets it through external/hbtsfence before it starts svc1, and says so with t=stonith result=OK', async () => {
    const c = cluster();
    await node1Holding(c);
    expect(stamped(c, 'node2', 'fence.log')).toEqual([]);
    const from = c.log('node2').length;
    c.hbnet(['capture', 'start', 'fence', 'udp port 694']);
    c.hbnet(['kill', 'node1']);
    const killedAt = c.killedAt('node1'); // hbnet's stamp, just before kill(2)
    const start = await waitFor('svc1 start on node2', () => svc1(c, 'node2', 'start'), DEADTIME_MS + 10_000, c);
    // The message goes out just before the group starts: read the capture until it shows up (bounded).
    await waitFor('t=stonith in the capture', () => (stonithMessages(c, 'fence').length > 0 ? true : undefined), 10_000, c);
    c.hbnet(['capture', 'stop']);
    expect(stonithMessages(c, 'fence')).toEqual(['src=node2 node=node1 result=OK']);
    const fences = stamped(c, 'node2', 'fence.log');
    expect(fences.map((f) => f.words.join(' '))).toEqual(['reset node1']);
    expect(fences[0]!.at).toBeLessThanOrEqual(start.at);
    expect(fences[0]!.at).toBeGreaterThanOrEqual(killedAt);
    // The fence adds little to the takeover: the failover tests' deadtime + 1 s, plus 0.5 s for the plugin's two calls on a loaded machine.
    expect(start.at - killedAt).toBeLessThanOrEqual(DEADTIME_MS + 1500);
    const log = c.log('node2').slice(from);
    const order = ['WARN: node node1: is dead', 'info: Resetting node node1 with [external/hbtsfence]', 'info: node node1 now reset.', 'info: Resources being acquired from node1.'].map((l) => log.indexOf(l));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(log).not.toContain('No STONITH device configured.');
    await c.waitForClStatus('node2', ['rscstatus'], 'all', 5000);
  }, 120_000);

  itWithTools([...HBNET_TOOLS, 'tcpdump'], 'a plugin that fails twice: the takeover waits, retrying every 5 s, and svc1 starts only after the fence succeeds', async () => {
    const c = cluster();
    writeFileSync(path.join(c.state, 'nodes', 'node2', 'log', 'fence-fail'), '2');
    await node1Holding(c);
    const from = c.log('node2').length;
    c.hbnet(['capture', 'start', 'retry', 'udp port 694']);
    c.hbnet(['kill', 'node1']);
    const start = await waitFor('svc1 start on node2', () => svc1(c, 'node2', 'start'), DEADTIME_MS + 20_000, c);
    await waitFor('3 t=stonith in the capture', () => (stonithMessages(c, 'retry').length >= 3 ? true : undefined), 10_000, c);
    c.hbnet(['capture', 'stop']);
    expect(stonithMessages(c, 'retry')).toEqual(['src=node2 node=node1 result=bad', 'src=node2 node=node1 result=bad', 'src=node2 node=node1 result=OK']);
    const fences = stamped(c, 'node2', 'fence.log');
    expect(fences.map((f) => f.words.join(' '))).toEqual(['fail node1', 'fail node1', 'reset node1']);
    // Retries 5 s apart (the original's interval), and nothing started before the fence.
    expect(fences[1]!.at - fences[0]!.at).toBeGreaterThanOrEqual(4_900);
    expect(fences[2]!.at - fences[1]!.at).toBeGreaterThanOrEqual(4_900);
    expect(fences[2]!.at).toBeLessThanOrEqual(start.at);
    const log = c.log('node2').slice(from);
    expect(log.split('ERROR: STONITH of node1 failed.  Retrying...').length - 1).toBe(2);
    expect(log.split('ERROR: Host node1 not reset!').length - 1).toBe(2);
    expect(log.split('info: Resetting node node1 with [external/hbtsfence]').length - 1).toBe(3);
    expect(log.indexOf('info: node node1 now reset.')).toBeGreaterThan(log.lastIndexOf('STONITH of node1 failed.'));
  }, 120_000);
  itWithTools([...HBNET_TOOLS, ORIGINAL, 'cl_status'], 'the original heartbeat 3.0.6 as node1 (its stonith_host line is for node2 only): our node2 fences it before taking svc1', async () => {
    const c = cluster('node2');
    const node1StartedAt = Date.now();
    c.start('node1', ORIGINAL);
    await c.startOurs(['node2']);
    await waitFor('svc1 start on node1', () => svc1(c, 'node1', 'start'), 40_000, c);
    await c.waitForClStatus('node2', ['nodestatus', 'node1'], 'active', STARTUP_MS);
    await c.waitForClStatus('node2', ['rscstatus'], 'local', 15_000);
    await c.waitUntil(node1StartedAt + 5000 + 2 * KEEPALIVE_MS);
    c.hbnet(['kill', 'node1']);
    const killedAt = c.killedAt('node1'); // hbnet's stamp, just before kill(2)
    const start = await waitFor('svc1 start on node2', () => svc1(c, 'node2', 'start'), DEADTIME_MS + 10_000, c);
    const fences = stamped(c, 'node2', 'fence.log');
    expect(fences.map((f) => f.words.join(' '))).toEqual(['reset node1']);
    expect(fences[0]!.at).toBeGreaterThanOrEqual(killedAt);
    expect(fences[0]!.at).toBeLessThanOrEqual(start.at);
    // The original never ran our plugin: its stonith_host line is not for it.
    expect(stamped(c, 'node1', 'fence.log')).toEqual([]);
  }, 150_000);
  itWithTools(HBNET_TOOLS, 'meatware: the takeover waits for the operator; `meatclient -c node1` on node2 lets it go on', async () => {
    const c = cluster('*', 'meatware node1');
    await node1Holding(c);
    const from = c.log('node2').length;
    c.hbnet(['kill', 'node1']);
    await c.waitForLog('node2', 'CRIT: OPERATOR INTERVENTION REQUIRED to reset node1.', DEADTIME_MS + 10_000, from);
    expect(c.log('node2').slice(from)).toContain('CRIT: Run "meatclient -c node1" AFTER power-cycling the machine.');
    // Give a broken implementation time to take over anyway: nothing may start while the operator has not answered.
    await new Promise((r) => setTimeout(r, 2 * DEADTIME_MS));
    expect(svc1(c, 'node2', 'start')).toBeUndefined();
    // A refusal changes nothing.
    const no = c.exec('node2', ['sh', '-c', `echo n | ${path.join(REPO_ROOT, 'bin/meatclient')} -c node1`]);
    expect(no.stdout).toContain('Meatware_client: operation canceled.');
    expect(svc1(c, 'node2', 'start')).toBeUndefined();
    const confirmedAt = Date.now();
    const yes = c.exec('node2', ['sh', '-c', `echo y | ${path.join(REPO_ROOT, 'bin/meatclient')} -c node1`]);
    expect(yes.stdout).toContain('Meatware_client: reset confirmed.');
    expect(yes.status).toBe(0);
    const start = await waitFor('svc1 start on node2', () => svc1(c, 'node2', 'start'), 10_000, c);
    expect(start.at).toBeGreaterThanOrEqual(confirmedAt);
    const log = c.log('node2').slice(from);
    expect(log).toContain('info: Resetting node node1 with [Meatware STONITH device]');
    expect(log.indexOf('info: node Meatware-reset: node1')).toBeLessThan(log.indexOf('info: node node1 now reset.'));
  }, 120_000);
});
