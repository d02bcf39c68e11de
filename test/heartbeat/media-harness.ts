/**
 * Helpers for the media tests: throw-away network namespaces wired to
 * bridges in a switch namespace of their own, and media-node.mjs processes
 * driven over JSON lines. Every wait is bounded; destroy() removes what
 * create() made, by name.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../helpers/env.js';

const NODE_SCRIPT = path.join(REPO_ROOT, 'test/heartbeat/fixtures/media-node.mjs');
export const DEFAULT_WAIT_MS = 5000;

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
};

export interface HostPlan {
  /** Short host name, used in the namespace name. */
  readonly name: string;
  /** Interfaces: eth0, eth1, ... each on a bridge with an address (CIDR). */
  readonly links: readonly { readonly bridge: string; readonly cidr: string }[];
}

/** A switch namespace with bridges, and one namespace per host, each host's ethN a veth into a bridge. */
export class TestNet {
  readonly prefix: string;
  readonly switchNs: string;
  readonly #created: string[] = [];

  private constructor(prefix: string) {
    this.prefix = prefix;
    this.switchNs = `${prefix}-sw`;
  }

  ns(host: string): string {
    return `${this.prefix}-${host}`;
  }

  static create(hosts: readonly HostPlan[]): TestNet {
    // Unique per run: several test runs (or engineers) may share the machine.
    const net = new TestNet(`hbm${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`);
    try {
      net.#build(hosts);
    } catch (e) {
      net.destroy();
      throw e;
    }
    return net;
  }

  #addNs(name: string): void {
    ip('netns', 'add', name);
    this.#created.push(name);
    // No IPv6: no router solicitations or DAD traffic beside ours.
    execFileSync('ip', ['netns', 'exec', name, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], { stdio: 'ignore', timeout: 10_000 });
    ip('-n', name, 'link', 'set', 'lo', 'up');
  }

  #build(hosts: readonly HostPlan[]): void {
    this.#addNs(this.switchNs);
    const bridges = new Set(hosts.flatMap((h) => h.links.map((l) => l.bridge)));
    for (const br of bridges) {
      ip('-n', this.switchNs, 'link', 'add', br, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0');
      ip('-n', this.switchNs, 'link', 'set', br, 'up');
    }
    for (const h of hosts) {
      const ns = this.ns(h.name);
      this.#addNs(ns);
      h.links.forEach((l, i) => {
        const port = `${h.name}${i}`;
        ip('-n', this.switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', `eth${i}`, 'netns', ns);
        ip('-n', this.switchNs, 'link', 'set', port, 'master', l.bridge, 'up');
        ip('-n', ns, 'addr', 'add', l.cidr, 'brd', '+', 'dev', `eth${i}`);
        ip('-n', ns, 'link', 'set', `eth${i}`, 'up');
      });
    }
  }

  /** Deletes every namespace this net created (their veths and bridges go with them). */
  destroy(): void {
    for (const ns of this.#created.reverse()) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
    this.#created.length = 0;
  }
}

export interface NodeEvent {
  readonly ev: 'packet' | 'fault' | 'ready';
  readonly id?: string;
  readonly name?: string;
  readonly from?: { address: string; port?: number };
  readonly b64?: string;
  readonly code?: string;
  readonly message?: string;
}

export interface NodeReply {
  readonly req: number;
  readonly ok: boolean;
  readonly code?: string;
  readonly message?: string;
  readonly [k: string]: unknown;
}

/** One media-node.mjs process (in a namespace, or here when ns is undefined). */
export class MediaNode {
  readonly label: string;
  readonly events: NodeEvent[] = [];
  readonly #child: ChildProcess;
  readonly #replies = new Map<number, (r: NodeReply) => void>();
  readonly #waiters = new Set<() => void>();
  #req = 0;
  #stderr = '';
  #exited = false;

  private constructor(label: string, child: ChildProcess) {
    this.label = label;
    this.#child = child;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as NodeEvent & NodeReply;
      if (typeof msg.req === 'number') this.#replies.get(msg.req)?.(msg);
      else {
        this.events.push(msg);
        for (const w of [...this.#waiters]) w();
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.#stderr += d.toString()));
    child.on('exit', () => {
      this.#exited = true;
      for (const w of [...this.#waiters]) w();
    });
  }

  static async start(label: string, ns?: string): Promise<MediaNode> {
    const script = path.join(REPO_ROOT, 'dist/lib/heartbeat/media/index.js');
    if (!existsSync(script)) throw new Error('dist/ has no media build: run `npm run build` first');
    const cmd = ns === undefined ? ['node', NODE_SCRIPT] : ['ip', 'netns', 'exec', ns, 'node', NODE_SCRIPT];
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const node = new MediaNode(label, child);
    await node.waitFor((e) => e.ev === 'ready', 10_000);
    return node;
  }

  /** Sends a command and waits (bounded) for its reply. */
  request(cmd: Record<string, unknown>, timeoutMs = DEFAULT_WAIT_MS): Promise<NodeReply> {
    const req = ++this.#req;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#replies.delete(req);
        reject(new Error(`${this.label}: no reply to ${JSON.stringify(cmd)} within ${timeoutMs} ms; stderr: ${this.#stderr}`));
      }, timeoutMs);
      this.#replies.set(req, (r) => {
        clearTimeout(timer);
        this.#replies.delete(req);
        resolve(r);
      });
      this.#child.stdin!.write(`${JSON.stringify({ ...cmd, req })}\n`);
    });
  }

  /** request() that must succeed. */
  async do(cmd: Record<string, unknown>): Promise<NodeReply> {
    const r = await this.request(cmd);
    if (!r.ok) throw new Error(`${this.label}: ${JSON.stringify(cmd)} failed: ${r.code} ${r.message}`);
    return r;
  }

  open(id: string, spec: Record<string, unknown>): Promise<NodeReply> {
    return this.do({ op: 'open', id, spec });
  }

  send(id: string, bytes: Uint8Array): Promise<NodeReply> {
    return this.do({ op: 'send', id, b64: Buffer.from(bytes).toString('base64') });
  }

  /** The first event (seen or to come) matching `pred`, or a rejection after timeoutMs. */
  waitFor(pred: (e: NodeEvent) => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<NodeEvent> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.events.find(pred);
        if (hit !== undefined) {
          done();
          resolve(hit);
          return true;
        }
        if (this.#exited) {
          done();
          reject(new Error(`${this.label} exited; stderr: ${this.#stderr}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.label}: no matching event within ${timeoutMs} ms; events: ${JSON.stringify(this.events.map((e) => [e.ev, e.id, e.from]))}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      const waiter = (): void => void check();
      if (!check()) this.#waiters.add(waiter);
    });
  }

  /** Packets medium `id` reported whose bytes equal `bytes`. */
  received(id: string, bytes: Uint8Array): NodeEvent[] {
    const b64 = Buffer.from(bytes).toString('base64');
    return this.events.filter((e) => e.ev === 'packet' && e.id === id && e.b64 === b64);
  }

  waitForPacket(id: string, bytes: Uint8Array, timeoutMs = DEFAULT_WAIT_MS): Promise<NodeEvent> {
    const b64 = Buffer.from(bytes).toString('base64');
    return this.waitFor((e) => e.ev === 'packet' && e.id === id && e.b64 === b64, timeoutMs);
  }

  /** Asks the process to close its media and exit; kills it if it does not within the bound. */
  async stop(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.stdin!.write(`${JSON.stringify({ op: 'exit', req: ++this.#req })}\n`);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
