/**
 * An hbnet cluster (../shared/tools/hbnet) for the daemon tests: a unique
 * netns prefix and a temporary HBNET_STATE per cluster, short timings, our
 * `bin/heartbeat -f` (or the original) per node, and bounded waits on the
 * nodes' ha-log files.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT, SHARED, killLeftovers } from '../helpers/env.js';

export const HBNET = path.join(SHARED, 'tools/hbnet/hbnet');
export const ORIGINAL = '/usr/libexec/heartbeat/heartbeat';
export const OURS = `${path.join(REPO_ROOT, 'bin/heartbeat')} -f`;
export const OUR_CL_STATUS = path.join(REPO_ROOT, 'bin/cl_status');
export const HBNET_TOOLS = ['ip', 'unshare', 'nsenter', 'perl', 'node', HBNET];

/** Short timings the original accepts too (it only warns about initdead < 10 s). */
export const KEEPALIVE_MS = 200;
export const DEADTIME_MS = 2000;
export const TIMINGS = { HBNET_KEEPALIVE: '200ms', HBNET_WARNTIME: '1', HBNET_DEADTIME: '2', HBNET_INITDEAD: '4' };

let counter = 0;

/** One call of hbnet's hbdummy resource script, from a node's log/hbdummy.log. */
export interface HbdummyCall {
  readonly at: number;
  readonly node: string;
  readonly name: string;
  readonly op: string;
  readonly rc: string;
}

export class HbCluster {
  readonly state: string;
  readonly env: NodeJS.ProcessEnv;

  readonly ourClStatus = OUR_CL_STATUS;

  constructor(extraEnv: Record<string, string> = {}) {
    this.state = mkdtempSync(path.join(tmpdir(), 'hbd-'));
    const prefix = `hbd${process.pid.toString(36)}${(counter++).toString(36)}${Math.floor(Math.random() * 36 ** 2).toString(36)}`;
    this.env = { ...process.env, HBNET_PREFIX: prefix, HBNET_STATE: this.state, ...TIMINGS, ...extraEnv };
  }

  hbnet(args: string[], env: Record<string, string> = {}): string {
    return execFileSync(HBNET, args, { env: { ...this.env, ...env }, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Runs a command inside a node; never throws (cl_status exits non-zero on purpose). */
  exec(node: string, args: string[]): { status: number; stdout: string } {
    try {
      return { status: 0, stdout: execFileSync(HBNET, ['exec', node, ...args], { env: this.env, encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] }) };
    } catch (e) {
      const x = e as { status?: number; stdout?: string };
      return { status: x.status ?? -1, stdout: x.stdout ?? '' };
    }
  }

  start(node: string, command: string = OURS): void {
    this.hbnet(['start', node], { [`HBNET_DAEMON_${node}`]: command });
  }

  logFile(node: string): string {
    return path.join(this.state, 'nodes', node, 'log/ha-log');
  }

  log(node: string): string {
    const f = this.logFile(node);
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  }

  /** Bounded wait until `node`'s ha-log contains `text` (after `from` characters); returns when it appeared (ms). */
  async waitForLog(node: string, text: string | RegExp, timeoutMs: number, from = 0, pollMs = 10): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const log = this.log(node).slice(from);
      if (typeof text === 'string' ? log.includes(text) : text.test(log)) return Date.now();
      if (Date.now() > deadline) throw new Error(`${node}'s ha-log lacks ${String(text)} after ${timeoutMs} ms:\n${log}\n--- daemon.out:\n${this.daemonOut(node)}`);
      await new Promise((r) => setTimeout(r, pollMs)); // poll interval of a bounded condition wait
    }
  }

  /**
   * Starts our daemon on each node and resolves, per node, with when its
   * membership started (its "Local status now set to: 'up'" line appeared),
   * to within the 10 ms poll interval.
   */
  async startOurs(nodes: readonly string[], timeoutMs = 20_000): Promise<Record<string, number>> {
    const from = Object.fromEntries(nodes.map((n) => [n, this.log(n).length]));
    for (const n of nodes) this.start(n);
    const seen = await Promise.all(nodes.map((n) => this.waitForLog(n, "info: Local status now set to: 'up'", timeoutMs, from[n])));
    return Object.fromEntries(nodes.map((n, i) => [n, seen[i]!]));
  }

  /**
   * When hbnet killed a node: its own events.log stamp, written just before
   * kill(2). Better than a stamp taken before running hbnet, which on a busy
   * machine can be hundreds of ms before the kill really happens.
   */
  killedAt(node: string, sig = 'KILL'): number {
    const lines = readFileSync(path.join(this.state, 'events.log'), 'utf8').trimEnd().split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i]!;
      if (line.includes(` kill -${sig} ${node}:`)) return Math.round(parseFloat(line.slice(0, line.indexOf(' '))) * 1000);
    }
    throw new Error(`no kill of ${node} in ${this.state}/events.log`);
  }

  /** The node's hbdummy.log: `<epoch.ms> <node> <name> <op> rc=<rc> state=<before>`. */
  hbdummyCalls(node: string): HbdummyCall[] {
    const f = path.join(this.state, 'nodes', node, 'log/hbdummy.log');
    if (!existsSync(f)) return [];
    return readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const [at, n, name, op, rc] = l.split(' ');
        return { at: Math.round(Number(at) * 1000), node: n!, name: name!, op: op!, rc: (rc ?? '').replace(/^rc=/, '') };
      });
  }

  /** Bounded wait for an hbdummy `op` of resource `name` on `node` (after its first `from` calls); returns it. */
  async waitForHbdummyCall(node: string, op: string, timeoutMs: number, from = 0, name = 'svc1'): Promise<HbdummyCall> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.hbdummyCalls(node).slice(from).find((x) => x.op === op && x.name === name);
      if (hit !== undefined) return hit;
      if (Date.now() > deadline) {
        throw new Error(`${node}: no hbdummy ${name} ${op} after ${timeoutMs} ms\ncalls: ${JSON.stringify(this.hbdummyCalls(node))}\n${this.log(node)}\n--- daemon.out:\n${this.daemonOut(node)}`);
      }
      await new Promise((r) => setTimeout(r, 10)); // poll interval of a bounded condition wait
    }
  }

  /** Waits for a moment of the wall clock (a protocol timer we cannot observe, e.g. the 5 s start-up dead time). */
  async waitUntil(epochMs: number): Promise<void> {
    const left = epochMs - Date.now();
    if (left > 0) await new Promise((r) => setTimeout(r, Math.min(left, 30_000)));
  }

  daemonOut(node: string): string {
    const f = path.join(this.state, 'nodes', node, 'daemon.out');
    return existsSync(f) ? readFileSync(f, 'utf8').slice(-4000) : '';
  }

  /** Bounded wait until `cl_status <args>` prints `expected`. */
  async waitForClStatus(node: string, args: string[], expected: string, timeoutMs: number, clStatus = OUR_CL_STATUS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      last = this.exec(node, [clStatus, ...args]).stdout.trim();
      if (last === expected) return;
      if (Date.now() > deadline) throw new Error(`${node}: cl_status ${args.join(' ')} is ${JSON.stringify(last)}, not ${expected}\n${this.log(node)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  down(): void {
    try {
      this.hbnet(['down', '--purge']);
    } finally {
      killLeftovers(this.state);
      rmSync(this.state, { recursive: true, force: true });
    }
  }
}
