/**
 * Our heartbeat daemons in hbnet clusters (root) when things go wrong:
 * a serial cable (socat pty pair) that goes away and comes back is reopened;
 * a daemon that lost its own heartbeat (stopped longer than its dead time)
 * gives up, stops and starts again with a new generation; captured packets
 * replayed on the real network (old seq, old generation, after death) change
 * nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
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
const generation = (c: HbCluster, node: string): number => Number(readFileSync(path.join(c.state, 'nodes', node, 'lib/hb_generation'), 'latin1').trim());

/** UDP payloads of a pcap (Ethernet, IPv4) with their source and destination addresses. */
function udpPayloads(pcap: Buffer): { src: string; dst: string; dport: number; payload: Buffer }[] {
  const out: { src: string; dst: string; dport: number; payload: Buffer }[] = [];
  if (pcap.length < 24) return out;
  const magic = pcap.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const u32 = (o: number): number => (le ? pcap.readUInt32LE(o) : pcap.readUInt32BE(o));
  let o = 24;
  while (o + 16 <= pcap.length) {
    const incl = u32(o + 8);
    const frame = pcap.subarray(o + 16, o + 16 + incl);
    o += 16 + incl;
    if (frame.length < 14 + 20 + 8 || frame.readUInt16BE(12) !== 0x0800) continue;
    const ip = frame.subarray(14);
    if (ip[9] !== 17) continue;
    const ihl = (ip[0]! & 0x0f) * 4;
    const total = ip.readUInt16BE(2);
    const udp = ip.subarray(ihl, total);
    out.push({ src: [...ip.subarray(12, 16)].join('.'), dst: [...ip.subarray(16, 20)].join('.'), dport: udp.readUInt16BE(2), payload: Buffer.from(udp.subarray(8)) });
  }
  return out;
}

/** node2's status packets to node1 in a capture (its ucast line for node1). */
function statusFrom2(c: HbCluster, name: string): Buffer[] {
  const f = path.join(c.state, 'captures', `${name}.pcap`);
  let data: Buffer;
  try {
    data = readFileSync(f);
  } catch {
    return [];
  }
  return udpPayloads(data)
    .filter((p) => p.src === '10.77.0.12' && p.dst === '10.77.0.11' && p.dport === 694 && p.payload.includes('(0)t=status,'))
    .map((p) => p.payload);
}

async function captureStatus(c: HbCluster, name: string, count: number): Promise<Buffer[]> {
  c.hbnet(['capture', 'start', name, 'udp port 694']);
  const deadline = Date.now() + 10_000;
  while (statusFrom2(c, name).length < count) {
    if (Date.now() > deadline) throw new Error(`capture ${name}: fewer than ${count} status packets of node2`);
    await new Promise((r) => setTimeout(r, 50)); // poll interval of a bounded condition wait
  }
  c.hbnet(['capture', 'stop']);
  return statusFrom2(c, name).slice(0, count);
}

/** Sends the bytes again from inside node2's network namespace (source 10.77.0.12) to node1:694. */
function replay(c: HbCluster, packets: readonly Buffer[]): void {
  const f = path.join(c.state, `replay-${Date.now()}.json`);
  writeFileSync(f, JSON.stringify(packets.map((p) => p.toString('hex'))));
  const script = `
    const dgram = require('node:dgram');
    const pkts = JSON.parse(require('node:fs').readFileSync(process.argv[1], 'utf8'));
    const s = dgram.createSocket('udp4');
    let i = 0;
    const next = () => { if (i === pkts.length) return s.close(); s.send(Buffer.from(pkts[i++], 'hex'), 694, '10.77.0.11', next); };
    next();`;
  const r = c.exec('node2', [process.execPath, '-e', script, f]);
  expect(r.status).toBe(0);
}

describe('heartbeat daemon: recovery and replays', () => {
  afterEach(downAll);
  afterAll(downAll);

  itWithTools([...HBNET_TOOLS, 'socat'], 'a serial cable that goes away is reopened when it is back: link dead, then up, node never dead', async () => {
    const c = cluster({ HBNET_MEDIA: 'ucast serial', HBNET_BAUD: '115200' });
    c.hbnet(['up', 'node1', 'node2']); // with serial in HBNET_MEDIA, `up` plugs the cable first
    await c.startOurs(['node1', 'node2']);
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS);
    await c.waitForLog('node1', 'info: Link node2:/run/hbserial/node2 up.', STARTUP_MS);
    const from = c.log('node1').length;

    // Pull the cable: hbnet's socat for node1<->node2 goes away (and with it both ptys).
    const socatPid = Number(readFileSync(path.join(c.state, 'pids/socat-node1-node2'), 'utf8').split(' ')[0]);
    process.kill(socatPid, 'SIGTERM');
    await c.waitForLog('node1', /ERROR: serial \/run\/hbserial\/node2: serial device lost: .*; reopening it/, 5000, from);
    await c.waitForLog('node1', 'info: Link node2:/run/hbserial/node2 dead.', DEADTIME_MS + 3000, from);
    const deadAt = c.log('node1').length;

    // A new cable at the same place: both daemons open it again on their own.
    c.hbnet(['serial', 'node1', 'node2']);
    await c.waitForLog('node1', /info: serial \/run\/hbserial\/node2: device reopened \(attempt \d+\)\./, 15_000, deadAt);
    await c.waitForLog('node2', /info: serial \/run\/hbserial\/node1: device reopened \(attempt \d+\)\./, 15_000);
    await c.waitForLog('node1', 'info: Link node2:/run/hbserial/node2 up.', 5000, deadAt);
    await c.waitForClStatus('node1', ['hblinkstatus', 'node2', '/run/hbserial/node2'], 'up', 2000);
    expect(c.log('node1').slice(from)).not.toContain('node node2: is dead');
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', 2000);
  }, 90_000);

  itWithTools(HBNET_TOOLS, 'a daemon stopped past its dead time logs "No local heartbeat", stops, and starts again with a new generation', async () => {
    const c = cluster({ HBNET_MEDIA: 'ucast', HBNET_HARESOURCES: '# no resources' });
    c.hbnet(['up', 'node1', 'node2']);
    const started = await c.startOurs(['node1', 'node2']);
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS);
    await c.waitForClStatus('node2', ['nodestatus', 'node1'], 'active', STARTUP_MS);
    await c.waitUntil(started['node1']! + 5000 + 2 * KEEPALIVE_MS); // past the start-up dead time bonus
    const gen = generation(c, 'node1');
    const from1 = c.log('node1').length;
    const from2 = c.log('node2').length;

    c.hbnet(['kill', 'node1', 'STOP']);
    await c.waitForLog('node2', 'WARN: node node1: is dead', DEADTIME_MS + 3000, from2);
    c.hbnet(['kill', 'node1', 'CONT']);

    await c.waitForLog('node1', 'ERROR: No local heartbeat. Forcing restart.', 5000, from1);
    await c.waitForLog('node1', 'info: node1 Heartbeat shutdown complete.', 10_000, from1);
    await c.waitForLog('node1', 'info: Heartbeat restart triggered.', 2000, from1);
    await c.waitForLog('node1', `info: Heartbeat generation: ${gen + 1}`, 15_000, from1);
    const log1 = c.log('node1').slice(from1);
    // Stopped before restarting: the shutdone went out before the new start.
    expect(log1.indexOf('Heartbeat shutdown in progress.')).toBeLessThan(log1.indexOf(`Heartbeat generation: ${gen + 1}`));
    expect(generation(c, 'node1')).toBe(gen + 1);
    await c.waitForClStatus('node2', ['nodestatus', 'node1'], 'active', STARTUP_MS);
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS);
    expect(c.exec('node1', ['/bin/sh', '-c', 'test "$(cat /var/run/heartbeat.pid)" -gt 0']).status).toBe(0);
  }, 90_000);

  itWithTools([...HBNET_TOOLS, 'tcpdump'], "captured packets replayed on the network (old seq, old generation, after death) change nothing", async () => {
    const c = cluster({ HBNET_MEDIA: 'ucast', HBNET_HARESOURCES: '# no resources' });
    c.hbnet(['up', 'node1', 'node2']);
    await c.startOurs(['node1', 'node2']);
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS);
    const oldGen = await captureStatus(c, 'gen1', 5);
    const from = c.log('node1').length;

    // 1. Same generation, old seq, while node2 is alive: old duplicates.
    replay(c, oldGen);
    // 2. node2 restarts (new generation); the old generation's packets are a replay attack.
    c.hbnet(['kill', 'node2']);
    c.start('node2');
    await c.waitForLog('node1', 'info: Heartbeat restart on node node2', STARTUP_MS, from);
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', STARTUP_MS);
    const newGen = await captureStatus(c, 'gen2', 5);
    const from2 = c.log('node1').length;
    replay(c, oldGen);
    await c.waitForLog('node1', /ERROR: should_drop_message: attempted replay attack \[node2\]\? \[gen = \d+, curgen = \d+\]/, 5000, from2);
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'active', 2000);
    // 3. node2 dies; its last generation's packets replayed must not bring it back.
    c.hbnet(['kill', 'node2']);
    await c.waitForLog('node1', 'WARN: node node2: is dead', DEADTIME_MS + 5000, from2);
    const from3 = c.log('node1').length;
    replay(c, newGen);
    replay(c, oldGen);
    // node1 hears nothing else; its status view must stay "dead" for longer than a keepalive.
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'dead', 2000);
    await new Promise((r) => setTimeout(r, 3 * KEEPALIVE_MS)); // window for a wrongful revival to show
    await c.waitForClStatus('node1', ['nodestatus', 'node2'], 'dead', 2000);
    const after = c.log('node1').slice(from3);
    expect(after).not.toContain('returning after partition');
    expect(after).not.toContain('Status update for node node2');
    expect(after).not.toContain('Link node2:eth0 up.');

    // The counters at a graceful stop: every replayed packet was dropped by the sequence rules.
    const end = c.log('node1').length;
    c.hbnet(['stop', 'node1']);
    await c.waitForLog('node1', 'sequence rules dropped since start', 10_000, end);
    const line = c.log('node1').slice(end);
    const m = /sequence rules dropped since start: (\d+) of an old generation, (\d+) stale after death, (\d+) old duplicate/.exec(line);
    expect(m).not.toBeNull();
    const [replayed, stale, dup] = [Number(m![1]), Number(m![2]), Number(m![3])];
    expect(dup).toBeGreaterThanOrEqual(oldGen.length); // step 1
    expect(replayed).toBeGreaterThanOrEqual(2 * oldGen.length); // steps 2 and 3
    expect(stale).toBeGreaterThanOrEqual(newGen.length); // step 3
    expect(c.log('node1').slice(from)).not.toContain('returning after partition');
  }, 120_000);
});
