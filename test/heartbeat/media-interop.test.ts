/**
 * Our media against the real Heartbeat 3.0.6 (Debian package `heartbeat`),
 * in an hbnet cluster (../shared/tools/hbnet): node1 runs the original,
 * node2 runs fixtures/media-node.mjs with the same media. We must receive
 * node1's packets (netstring on UDP, classic on serial) and authenticate
 * them, and node1 must take our status packets: its log says
 * "Link node2:<link> up." and "Status update for node node2: status up".
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect } from 'vitest';
import { HaMessage, addControlFields, decodeAuthenticPacket, encodeSignedNetstring, type AuthKey } from '../../lib/heartbeat/wire/index.js';
import { SHARED, itWithTools, killLeftovers } from '../helpers/env.js';
import { MediaNode, type NodeEvent } from './media-harness.js';

const HBNET = path.join(SHARED, 'tools/hbnet/hbnet');
const HEARTBEAT = '/usr/libexec/heartbeat/heartbeat';
const TOOLS = ['ip', 'socat', 'perl', 'nsenter', 'unshare', 'node', HEARTBEAT, HBNET];
const key: AuthKey = { index: 1, method: 'sha1', key: 'somesecret' }; // hbnet's default authkeys
const NODE1 = '10.77.0.11';
const WAIT_MS = 20_000; // node1 starts in about a second; generous for a loaded CI machine

/** One hbnet cluster of node1 (real heartbeat) and node2 (ours), torn down by down(). */
class Cluster {
  readonly env: NodeJS.ProcessEnv;
  readonly state: string;
  readonly prefix: string;
  node2: MediaNode | undefined;
  #sender: NodeJS.Timeout | undefined;
  #seq = 0;

  constructor(media: string) {
    this.state = mkdtempSync(path.join(tmpdir(), 'hbm-interop-'));
    this.prefix = `hbi${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 2).toString(36)}`;
    this.env = { ...process.env, HBNET_PREFIX: this.prefix, HBNET_STATE: this.state, HBNET_MEDIA: media };
  }

  hbnet(...args: string[]): string {
    return execFileSync(HBNET, args, { env: this.env, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  async up(): Promise<MediaNode> {
    this.hbnet('up', 'node1', 'node2');
    this.hbnet('start', 'node1');
    this.node2 = await MediaNode.start('node2', `${this.prefix}-node2`);
    return this.node2;
  }

  /** node2's serial end of the cable, as the host sees it. */
  get serialDevice(): string {
    return path.join(this.state, 'nodes/node2/run/hbserial/node1');
  }

  /** node2 beats on `ids` every second, as a real node with keepalive 1 would. */
  startBeating(ids: string[]): void {
    const uuid = new Uint8Array(16).fill(0x42);
    const beat = (): void => {
      const m = new HaMessage().add('t', 'status').add('st', 'up').add('dt', '1b58').add('protocol', '1');
      addControlFields(m, { src: 'node2', srcUuid: uuid, seq: ++this.#seq, generation: 1, timestamp: Math.floor(Date.now() / 1000), load: '0.00 0.00 0.00 1/1 1', ttl: 3 });
      const bytes = encodeSignedNetstring(m, { key });
      for (const id of ids) void this.node2?.send(id, bytes).catch(() => {});
    };
    beat();
    this.#sender = setInterval(beat, 1000);
  }

  /** Waits (bounded) until node1's ha-log has every line in `lines`. */
  async logHas(lines: string[], timeoutMs = WAIT_MS): Promise<string> {
    const file = path.join(this.state, 'nodes/node1/log/ha-log');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const log = existsSync(file) ? readFileSync(file, 'utf8') : '';
      if (lines.every((l) => log.includes(l))) return log;
      if (Date.now() > deadline) throw new Error(`node1's ha-log lacks ${JSON.stringify(lines.filter((l) => !log.includes(l)))}:\n${log}`);
      await new Promise((r) => setTimeout(r, 200)); // a poll interval, not a synchronisation: the deadline bounds it
    }
  }

  async down(): Promise<void> {
    if (this.#sender !== undefined) clearInterval(this.#sender);
    await this.node2?.stop();
    try {
      this.hbnet('down', '--purge');
    } finally {
      killLeftovers(this.state);
      rmSync(this.state, { recursive: true, force: true });
    }
  }
}

/** node1's status packet on medium `id`, authenticated. */
async function statusFromNode1(node2: MediaNode, id: string): Promise<{ event: NodeEvent; format: string }> {
  const event = await node2.waitFor((e) => {
    if (e.ev !== 'packet' || e.id !== id) return false;
    const p = decodeAuthenticPacket(new Uint8Array(Buffer.from(e.b64!, 'base64')), [key]);
    return p.message.get('t') === 'status' && p.message.get('src') === 'node1';
  }, WAIT_MS);
  return { event, format: decodeAuthenticPacket(new Uint8Array(Buffer.from(event.b64!, 'base64')), [key]).format };
}

describe('media against the real heartbeat 3.0.6', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.down();
    cluster = undefined;
  });

  itWithTools(TOOLS, 'ucast and serial: each side hears the other', async () => {
    cluster = new Cluster('ucast serial');
    const node2 = await cluster.up();
    await node2.open('u', { kind: 'ucast', interface: 'eth0', peer: NODE1 });
    await node2.open('s', { kind: 'serial', device: cluster.serialDevice, baud: 19200, key });

    const u = await statusFromNode1(node2, 'u');
    expect(u.format).toBe('netstring');
    expect(u.event.from?.address).toBe(NODE1);
    const s = await statusFromNode1(node2, 's');
    expect(s.format).toBe('classic');

    cluster.startBeating(['u', 's']);
    await cluster.logHas(['Link node2:eth0 up.', 'Link node2:/run/hbserial/node2 up.', 'Status update for node node2: status up']);
  }, 60_000);

  itWithTools(TOOLS, 'bcast: each side hears the other', async () => {
    cluster = new Cluster('bcast');
    const node2 = await cluster.up();
    await node2.open('b', { kind: 'bcast', interface: 'eth0' });
    const b = await statusFromNode1(node2, 'b');
    expect(b.event.from?.address).toBe(NODE1);
    cluster.startBeating(['b']);
    await cluster.logHas(['Link node2:eth0 up.', 'Status update for node node2: status up']);
  }, 60_000);

  itWithTools(TOOLS, 'mcast (group on port 694): each side hears the other', async () => {
    cluster = new Cluster('mcast');
    const node2 = await cluster.up();
    const mcastLine = /^mcast eth0 (\S+) (\d+) 1 0$/m.exec(readFileSync(path.join(cluster.state, 'nodes/node1/ha.d/ha.cf'), 'utf8'));
    expect(mcastLine).not.toBeNull();
    await node2.open('m', { kind: 'mcast', interface: 'eth0', group: mcastLine![1], port: Number(mcastLine![2]), ttl: 1, loop: false });
    const m = await statusFromNode1(node2, 'm');
    expect(m.event.from?.address).toBe(NODE1);
    cluster.startBeating(['m']);
    await cluster.logHas(['Link node2:eth0 up.', 'Status update for node node2: status up']);
  }, 60_000);
});
