/**
 * ucast, bcast and mcast for real, between network namespaces:
 *
 *   br0: alpha eth0 10.77.41.11, beta 10.77.41.12, delta 10.77.41.14
 *   br1: alpha eth1 10.77.42.11, gamma 10.77.42.13
 *
 * Each host runs fixtures/media-node.mjs (the compiled media layer). Packets
 * are real heartbeat status packets from lib/heartbeat/wire; what arrives
 * must be byte-identical and authentic. alpha's media on eth0 must never
 * report what came in on eth1 (and the other way round), and a ucast medium
 * only its own peer's packets. Negative checks are bounded by ordering: one
 * datagram is handed to every medium of a process in the same turn, so once
 * the medium that should see it has, the others have decided.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { HaMessage, decodeAuthenticPacket, encodeSignedNetstring, type AuthKey } from '../../lib/heartbeat/wire/index.js';
import { hasTool, itWithTools } from '../helpers/env.js';
import { DEFAULT_WAIT_MS, MediaNode, TestNet, type NodeEvent } from './media-harness.js';

const key: AuthKey = { index: 1, method: 'sha1', key: 'somesecret' };
let seq = 0;
function statusFrom(src: string, extra = ''): Uint8Array {
  seq++;
  const m = new HaMessage().add('t', 'status').add('st', 'active').add('dt', '1b58').add('protocol', '1').add('src', src).add('seq', seq.toString(16)).add('hg', '5').add('ts', '65f00000').add('ld', '0.00 0.00 0.00 1/1 1').add('ttl', '3');
  if (extra !== '') m.add('info', extra);
  return encodeSignedNetstring(m, { key });
}
const srcOf = (e: NodeEvent): string | undefined => decodeAuthenticPacket(new Uint8Array(Buffer.from(e.b64!, 'base64')), [key]).message.get('src');

const TOOLS = ['ip', 'node'];
const ALPHA0 = '10.77.41.11';
const ALPHA1 = '10.77.42.11';
const BETA = '10.77.41.12';
const GAMMA = '10.77.42.13';
const DELTA = '10.77.41.14';

describe('UDP media between network namespaces', () => {
  let net: TestNet | undefined;
  const nodes: Record<string, MediaNode> = {};
  const node = (n: string): MediaNode => nodes[n]!;

  beforeAll(async () => {
    // Without the tools, itWithTools below skips (locally) or fails (CI) with the reason.
    if (!TOOLS.every(hasTool)) return;
    if (process.getuid?.() !== 0) throw new Error('the media tests create network namespaces: run them as root');
    net = TestNet.create([
      { name: 'alpha', links: [{ bridge: 'br0', cidr: `${ALPHA0}/24` }, { bridge: 'br1', cidr: `${ALPHA1}/24` }] },
      { name: 'beta', links: [{ bridge: 'br0', cidr: `${BETA}/24` }] },
      { name: 'gamma', links: [{ bridge: 'br1', cidr: `${GAMMA}/24` }] },
      { name: 'delta', links: [{ bridge: 'br0', cidr: `${DELTA}/24` }] },
    ]);
    for (const n of ['alpha', 'beta', 'gamma', 'delta']) nodes[n] = await MediaNode.start(n, net.ns(n));
  });

  afterAll(async () => {
    await Promise.all(Object.values(nodes).map((n) => n.stop()));
    net?.destroy();
  });

  itWithTools(TOOLS, 'bcast: delivered on the right interface only; a node hears its own broadcasts', async () => {
    await node('alpha').open('b0', { kind: 'bcast', interface: 'eth0' });
    await node('alpha').open('b1', { kind: 'bcast', interface: 'eth1' });
    await node('beta').open('b0', { kind: 'bcast', interface: 'eth0' });
    await node('gamma').open('b0', { kind: 'bcast', interface: 'eth0' });
    await node('delta').open('b0', { kind: 'bcast', interface: 'eth0' });

    const fromBeta = statusFrom('beta');
    await node('beta').send('b0', fromBeta);
    const got = await node('alpha').waitForPacket('b0', fromBeta);
    expect(got.name).toBe('eth0');
    expect(got.from?.address).toBe(BETA);
    expect(srcOf(got)).toBe('beta');
    await node('delta').waitForPacket('b0', fromBeta);
    await node('beta').waitForPacket('b0', fromBeta); // loop-back, as the original
    expect(node('alpha').received('b1', fromBeta)).toEqual([]);
    expect(node('gamma').received('b0', fromBeta)).toEqual([]); // another bridge

    // gamma's eth0 is on alpha's eth1 link: reported by alpha's eth1 medium, never by its eth0 medium
    const fromGamma = statusFrom('gamma');
    await node('gamma').send('b0', fromGamma);
    const got1 = await node('alpha').waitForPacket('b1', fromGamma);
    expect(got1.name).toBe('eth1');
    expect(got1.from?.address).toBe(GAMMA);
    expect(node('alpha').received('b0', fromGamma)).toEqual([]);
    const stats = (await node('alpha').do({ op: 'stats', id: 'b0' })).stats as { droppedForeign: number };
    expect(stats.droppedForeign).toBeGreaterThanOrEqual(1);

    // and alpha's own broadcast on eth0 goes to br0 only
    const fromAlpha = statusFrom('alpha');
    await node('alpha').send('b0', fromAlpha);
    const atBeta = await node('beta').waitForPacket('b0', fromAlpha);
    expect(atBeta.from?.address).toBe(ALPHA0);
    await node('alpha').waitForPacket('b0', fromAlpha);
    expect(node('alpha').received('b1', fromAlpha)).toEqual([]);
    const marker = statusFrom('gamma', 'marker');
    await node('gamma').send('b0', marker);
    await node('alpha').waitForPacket('b1', marker);
    expect(node('gamma').received('b0', fromAlpha)).toEqual([]);
  });

  itWithTools(TOOLS, 'ucast: shares udpport with bcast and other ucast media; each ucast medium reports only its peer', async () => {
    const a = node('alpha');
    await a.open('u-beta', { kind: 'ucast', interface: 'eth0', peer: BETA });
    await a.open('u-delta', { kind: 'ucast', interface: 'eth0', peer: DELTA });
    await a.open('u-gamma', { kind: 'ucast', interface: 'eth1', peer: GAMMA });
    await node('beta').open('u', { kind: 'ucast', interface: 'eth0', peer: ALPHA0 });
    await node('delta').open('u', { kind: 'ucast', interface: 'eth0', peer: ALPHA0 });
    await node('gamma').open('u', { kind: 'ucast', interface: 'eth0', peer: ALPHA1 });

    const fromBeta = statusFrom('beta');
    await node('beta').send('u', fromBeta);
    const got = await a.waitForPacket('u-beta', fromBeta);
    expect(got.from?.address).toBe(BETA);
    expect(srcOf(got)).toBe('beta');
    await a.waitForPacket('b0', fromBeta); // the bcast medium on the same port still sees it: nothing is stolen
    expect(a.received('u-delta', fromBeta)).toEqual([]);
    expect(a.received('u-gamma', fromBeta)).toEqual([]);
    expect(node('delta').received('u', fromBeta)).toEqual([]); // unicast: nobody else on br0 gets it

    const fromDelta = statusFrom('delta');
    await node('delta').send('u', fromDelta);
    await a.waitForPacket('u-delta', fromDelta);
    expect(a.received('u-beta', fromDelta)).toEqual([]);

    const fromGamma = statusFrom('gamma');
    await node('gamma').send('u', fromGamma);
    await a.waitForPacket('u-gamma', fromGamma);
    expect(a.received('u-beta', fromGamma)).toEqual([]);
    expect(a.received('u-delta', fromGamma)).toEqual([]);

    // and back: alpha -> beta by unicast, from alpha's eth0 address
    const fromAlpha = statusFrom('alpha');
    await a.send('u-beta', fromAlpha);
    const back = await node('beta').waitForPacket('u', fromAlpha);
    expect(back.from?.address).toBe(ALPHA0);
    expect(srcOf(back)).toBe('alpha');
  });

  itWithTools(TOOLS, 'mcast: group traffic on the right interface; loop decides whether we hear ourselves; port 694 shared with bcast/ucast', async () => {
    const a = node('alpha');
    const group = { kind: 'mcast', group: '239.77.41.1', port: 6941, ttl: 1 };
    await a.open('m0', { ...group, interface: 'eth0', loop: false });
    await a.open('m1', { ...group, interface: 'eth1', loop: false });
    await node('beta').open('m', { ...group, interface: 'eth0', loop: true });
    await node('gamma').open('m', { ...group, interface: 'eth0', loop: false });

    const fromBeta = statusFrom('beta');
    await node('beta').send('m', fromBeta);
    const got = await a.waitForPacket('m0', fromBeta);
    expect(got.from?.address).toBe(BETA);
    expect(srcOf(got)).toBe('beta');
    await node('beta').waitForPacket('m', fromBeta); // loop 1
    expect(a.received('m1', fromBeta)).toEqual([]);

    const fromGamma = statusFrom('gamma');
    await node('gamma').send('m', fromGamma);
    await a.waitForPacket('m1', fromGamma);
    expect(a.received('m0', fromGamma)).toEqual([]);

    // loop 0: alpha does not hear itself. Its own copy would be looped back at once,
    // before beta even answers; so once beta's answer is in, none is coming.
    const fromAlpha = statusFrom('alpha');
    await a.send('m0', fromAlpha);
    await node('beta').waitForPacket('m', fromAlpha);
    const answer = statusFrom('beta', 'answer');
    await node('beta').send('m', answer);
    await a.waitForPacket('m0', answer);
    expect(a.received('m0', fromAlpha)).toEqual([]);

    // the classic `mcast eth0 239.77.0.1 694 1 0`: the group on udpport, beside the bcast/ucast socket on 0.0.0.0:694
    const on694 = { kind: 'mcast', group: '239.77.41.2', port: 694, ttl: 1, loop: false, interface: 'eth0' };
    await a.open('m694', on694);
    await node('beta').open('m694', on694);
    const grp694 = statusFrom('beta', 'group on 694');
    await node('beta').send('m694', grp694);
    await a.waitForPacket('m694', grp694);
    const uni = statusFrom('beta', 'unicast after');
    await node('beta').send('u', uni);
    await a.waitForPacket('u-beta', uni);
    expect(a.received('m694', uni)).toEqual([]); // the group socket gets no unicast
  });

  itWithTools(TOOLS, 'oversized datagrams are dropped and counted; the medium keeps working; oversized sends are refused', async () => {
    const a = node('alpha');
    await a.open('small', { kind: 'ucast', interface: 'eth0', peer: BETA, maxPacketBytes: 1000 });
    const big = statusFrom('beta', 'x'.repeat(60_000)); // near the UDP maximum
    expect(big.length).toBeGreaterThan(60_000);
    await node('beta').send('u', big);
    const intact = await a.waitForPacket('u-beta', big); // the full-size medium on the same port gets it whole
    expect(srcOf(intact)).toBe('beta');
    expect(a.received('small', big)).toEqual([]);
    const small = statusFrom('beta');
    await node('beta').send('u', small);
    await a.waitForPacket('small', small);
    const stats = (await a.do({ op: 'stats', id: 'small' })).stats as { droppedOversized: number; packetsReceived: number };
    expect(stats.droppedOversized).toBe(1);
    expect(stats.packetsReceived).toBe(1);

    const tooBig = await node('beta').request({ op: 'send', id: 'u', b64: Buffer.alloc(65_508).toString('base64') });
    expect(tooBig).toMatchObject({ ok: false, code: 'MEDIA_PACKET_TOO_LARGE' });
    const refused = await a.request({ op: 'send', id: 'small', b64: Buffer.alloc(1001).toString('base64') });
    expect(refused).toMatchObject({ ok: false, code: 'MEDIA_PACKET_TOO_LARGE' });
  });

  itWithTools(TOOLS, 'a missing interface is MEDIA_NO_INTERFACE; the port is released when the last medium closes', async () => {
    const r = await node('delta').request({ op: 'open', id: 'x', spec: { kind: 'bcast', interface: 'eth7' } });
    expect(r).toMatchObject({ ok: false, code: 'MEDIA_NO_INTERFACE' });
    await node('delta').do({ op: 'close', id: 'b0' });
    await node('delta').do({ op: 'close', id: 'u' });
    // a fresh medium binds the port again and works
    await node('delta').open('again', { kind: 'ucast', interface: 'eth0', peer: ALPHA0 });
    const p = statusFrom('alpha', 'after reopen');
    await node('alpha').send('u-delta', p);
    await node('delta').waitForPacket('again', p);
  });

  itWithTools(TOOLS, 'a send the kernel refuses (link down) is a fault event, not an exception; the medium works again when the link is back', async () => {
    const ns = net!.ns('delta');
    const d = node('delta');
    const linkSet = (state: string): void => {
      execFileSync('ip', ['-n', ns, 'link', 'set', 'eth0', state], { stdio: 'ignore', timeout: 10_000 });
    };
    linkSet('down');
    try {
      await d.send('again', statusFrom('delta', 'into a dead link')); // accepted: the failure comes later
      const fault = await d.waitFor((e) => e.ev === 'fault' && e.id === 'again');
      expect(fault.code).toBe('MEDIA_SEND_FAILED');
    } finally {
      linkSet('up');
    }
    const stats = (await d.do({ op: 'stats', id: 'again' })).stats as { sendErrors: number };
    expect(stats.sendErrors).toBeGreaterThanOrEqual(1);
    // the veth needs a moment to carry traffic again: retry (bounded) until alpha hears one
    const deadline = Date.now() + DEFAULT_WAIT_MS;
    for (let i = 0; ; i++) {
      const p = statusFrom('delta', `back ${i}`);
      await d.send('again', p);
      try {
        await node('alpha').waitForPacket('u-delta', p, 250);
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
      }
    }
  });
});
