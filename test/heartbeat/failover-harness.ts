/**
 * Real resources for the end-to-end failover tests (daemon-failover.test.ts):
 * an hbnet cluster whose haresources group is
 *
 *   node1 IPaddr::10.77.0.100/24/eth0 Filesystem::/dev/loopN::<mnt>::ext4 hbtsvc
 *
 * with a shared disk (a loop device over an ext4 image in a temp folder; every
 * node sees the host's /dev, so both see the same device), a mount point that
 * exists on the host but is mounted only inside a node's private mount
 * namespace (hbnet unshares it with private propagation), and an LSB init
 * script `hbtsvc` of our own, bound over /etc/init.d inside each node so that
 * ResourceManager finds it where admins put theirs.
 *
 * Everything here is asynchronous (child processes, not execFileSync), so
 * several clusters can run concurrently in one test file without one
 * cluster's hbnet call freezing another's bounded polls.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers/env.js';
import { HBNET, HbCluster, OUR_CL_STATUS, OURS } from './daemon-harness.js';

export const VIP = '10.77.0.100';
export const SERVICE = 'hbtsvc';
/** Tools the scenarios need beyond hbnet's (mkfs and losetup for the shared disk, the original's cl_status not needed). */
export const DISK_TOOLS = ['losetup', 'mkfs.ext4', 'truncate', 'sha256sum', 'fuser'];

export type Impl = 'ours' | 'original';

export interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program without blocking the event loop; never rejects (the status says what happened). */
export function run(file: string, args: readonly string[], env?: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, [...args], { env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1;
      resolve({ status: code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Timed or sampled windows (a crash until the takeover, a hand-over, a heal)
 * of concurrent scenarios run one at a time, and every command the other
 * scenarios would run through this harness (hbnet, cl_status, checks inside
 * a node) waits meanwhile: what is measured is the cluster's timing, not the
 * load of the test's own other clusters.
 */
let gate: Promise<void> = Promise.resolve();

export async function timedWindow<T>(body: () => Promise<T>): Promise<T> {
  const before = gate;
  let open!: () => void;
  gate = before.then(() => new Promise<void>((r) => (open = r)));
  await before;
  try {
    return await body();
  } finally {
    open();
  }
}

/** Resolves when no timed window is running or queued at this moment. */
async function quiet(): Promise<void> {
  for (let g = gate; ; g = gate) {
    await g;
    if (g === gate) return;
  }
}

/** Bounded wait until `probe` resolves truthy; returns when it did (epoch ms). */
export async function waitFor(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number, pollMs = 20, detail?: () => string): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return Date.now();
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await sleep(pollMs); // poll interval of a bounded condition wait
  }
}

/** The LSB init script: starts a small background process, LSB exit codes, one log line per call with ms stamps. */
function lsbScript(mnt: string): string {
  return `#!/bin/sh
### BEGIN INIT INFO
# Provides:          ${SERVICE}
# Required-Start:    $network $remote_fs
# Required-Stop:     $network $remote_fs
# Default-Start:
# Default-Stop:
# Short-Description: heartbeat-ts failover test service
### END INIT INFO
# A stand-in for a real daemon: a background process whose pid is in
# /run/${SERVICE}.pid; it refuses to start without the shared filesystem.
PIDFILE=/run/${SERVICE}.pid
DATA=${mnt}
log() { echo "$(date +%s.%3N) $(uname -n) $1 rc=$2" >>/var/log/${SERVICE}.log; }
running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
case "$1" in
  start)
    if running; then log start 0; exit 0; fi
    if ! awk -v m="$DATA" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; then
      echo "${SERVICE}: $DATA is not mounted" >&2; log start 1; exit 1
    fi
    sleep 2147483647 </dev/null >/dev/null 2>&1 &
    echo $! >"$PIDFILE"
    log start 0; exit 0 ;;
  stop)
    if running; then
      pid=$(cat "$PIDFILE"); kill "$pid"
      i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
      if kill -0 "$pid" 2>/dev/null; then log stop 1; exit 1; fi
    fi
    rm -f "$PIDFILE"; log stop 0; exit 0 ;;
  status)
    if running; then echo "${SERVICE} is running"; log status 0; exit 0; fi
    if [ -f "$PIDFILE" ]; then echo "${SERVICE} is not running (stale pid file)"; log status 1; exit 1; fi
    echo "${SERVICE} is not running"; log status 3; exit 3 ;;
  restart|force-reload) "$0" stop && "$0" start ;;
  *) echo "Usage: $0 {start|stop|status|restart|force-reload}" >&2; exit 2 ;;
esac
`;
}

export interface ServiceCall {
  readonly at: number;
  readonly node: string;
  readonly op: string;
  readonly rc: string;
}

export interface Holding {
  readonly vip: boolean;
  readonly mounted: boolean;
}

export interface FailoverOptions {
  readonly autoFailback: 'on' | 'off';
  readonly node1: Impl;
  readonly node2: Impl;
}

/** Our resource.d scripts the group uses, copied over the stock ones in a node running our daemon. */
const OUR_SCRIPTS = ['IPaddr', 'Filesystem', 'hbts-funcs', 'hto-mapfuncs'];

export class FailoverCluster {
  readonly c: HbCluster;
  readonly dir: string;
  readonly mnt: string;
  readonly image: string;
  readonly initDir: string;
  dev = '';
  private readonly impl: Record<string, Impl>;
  private inWindow = false;

  constructor(readonly o: FailoverOptions) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'hbfo-'));
    this.mnt = path.join(this.dir, 'mnt');
    this.image = path.join(this.dir, 'shared-disk.img');
    this.initDir = path.join(this.dir, 'init.d');
    this.impl = { node1: o.node1, node2: o.node2 };
    this.c = new HbCluster({ HBNET_MEDIA: 'ucast', HBNET_AUTO_FAILBACK: o.autoFailback, HBNET_START_SETTLE: '0.2', HBNET_HARESOURCES: 'node1 placeholder' });
  }

  get haresources(): string {
    return `node1 IPaddr::${VIP}/24/eth0 Filesystem::${this.dev}::${this.mnt}::ext4 ${SERVICE}`;
  }

  /** The shared disk, the init.d folder, the hbnet nodes with the group in their haresources, /etc/init.d bound. */
  async up(): Promise<void> {
    mkdirSync(this.mnt);
    mkdirSync(this.initDir);
    writeFileSync(path.join(this.initDir, SERVICE), lsbScript(this.mnt));
    chmodSync(path.join(this.initDir, SERVICE), 0o755);
    execFileSync('truncate', ['-s', '32M', this.image]);
    this.dev = execFileSync('losetup', ['-f', '--show', this.image], { encoding: 'utf8' }).trim();
    execFileSync('mkfs.ext4', ['-q', '-F', this.dev], { stdio: 'ignore' });
    (this.c.env as Record<string, string>)['HBNET_HARESOURCES'] = this.haresources;
    await this.hbnet(['up', 'node1', 'node2']);
    for (const n of ['node1', 'node2']) {
      if (this.impl[n] === 'ours') {
        for (const f of OUR_SCRIPTS) copyFileSync(path.join(REPO_ROOT, 'resource.d', f), path.join(this.c.state, 'nodes', n, 'ha.d/resource.d', f));
      }
      const r = await this.exec(n, ['mount', '--bind', this.initDir, '/etc/init.d']);
      if (r.status !== 0) throw new Error(`${n}: cannot bind ${this.initDir} over /etc/init.d: ${r.stderr}`);
    }
  }

  /** Runs `body` as this cluster's timed window (see timedWindow); its own commands do not wait for the gate. */
  async timed<T>(body: () => Promise<T>): Promise<T> {
    return timedWindow(async () => {
      this.inWindow = true;
      try {
        return await body();
      } finally {
        this.inWindow = false;
      }
    });
  }

  private async gate(): Promise<void> {
    if (!this.inWindow) await quiet();
  }

  async hbnet(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
    await this.gate();
    const r = await run(HBNET, args, { ...this.c.env, ...env });
    if (r.status !== 0) throw new Error(`hbnet ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
    return r;
  }

  /** A command inside a node (all its namespaces); never rejects. */
  async exec(node: string, args: readonly string[]): Promise<Run> {
    await this.gate();
    return run(HBNET, ['exec', node, ...args], this.c.env, 20_000);
  }

  /** Starts `impl` on the node and resolves when its membership is up (its "Local status now set to: 'up'" line). */
  async start(node: string, timeoutMs = 20_000): Promise<number> {
    const from = this.c.log(node).length;
    const cmd = this.impl[node] === 'ours' ? OURS : '/usr/libexec/heartbeat/heartbeat';
    await this.hbnet(['start', node], { [`HBNET_DAEMON_${node}`]: cmd });
    return this.c.waitForLog(node, "info: Local status now set to: 'up'", timeoutMs, from, 20);
  }

  /** `heartbeat -k` in the node (ours or the original), waiting until the node has no processes left. */
  async stop(node: string): Promise<void> {
    const cmd = this.impl[node] === 'ours' ? `${path.join(REPO_ROOT, 'bin/heartbeat')} -k` : '/usr/libexec/heartbeat/heartbeat -k';
    await this.hbnet(['stop', node], { [`HBNET_STOP_${node}`]: cmd });
  }

  /**
   * The node crashes: every process is SIGKILLed at once (the returned time),
   * then what a dead machine no longer has goes too: its addresses and /run
   * (hbnet reset) and its mounts (lazily detached in its mount namespace).
   */
  async crash(node: string): Promise<number> {
    await this.hbnet(['kill', node]);
    const at = this.eventAt(new RegExp(`^kill -KILL ${node}: `));
    await this.hbnet(['reset', node]);
    await this.exec(node, ['umount', '-l', this.mnt]);
    return at;
  }

  /** When hbnet did something (its events.log: `<epoch.ms> <date> <time> <text>`, written just before the action); the last match. */
  eventAt(text: RegExp): number {
    const lines = readFileSync(path.join(this.c.state, 'events.log'), 'utf8').split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const m = /^(\d+\.\d+) \S+ \S+ (.*)$/.exec(lines[i]!);
      if (m && text.test(m[2]!)) return Math.round(Number(m[1]) * 1000);
    }
    throw new Error(`no hbnet event ${String(text)} in events.log`);
  }

  async vip(node: string): Promise<boolean> {
    const r = await run('ip', ['-n', `${this.c.env['HBNET_PREFIX']}-${node}`, '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    return new RegExp(` ${VIP.replace(/\./g, '\\.')}/24 `).test(r.stdout);
  }

  /** Whether the shared filesystem is mounted in the node's mount namespace (read from its pid 1's mount table). */
  mounted(node: string): boolean {
    const rec = path.join(this.c.state, 'nodes', node, 'holder.pid');
    if (!existsSync(rec)) return false;
    const pid = readFileSync(rec, 'utf8').split(' ')[0];
    try {
      return readFileSync(`/proc/${pid}/mounts`, 'utf8')
        .split('\n')
        .some((l) => l.split(' ')[1] === this.mnt && l.split(' ')[0] === this.dev);
    } catch {
      return false;
    }
  }

  async holding(node: string): Promise<Holding> {
    return { vip: await this.vip(node), mounted: this.mounted(node) };
  }

  /** The LSB script's own status answer in the node: 0 and "is running" when its process runs. */
  async serviceRuns(node: string): Promise<boolean> {
    const r = await this.exec(node, [`/etc/init.d/${SERVICE}`, 'status']);
    return r.status === 0 && r.stdout.includes(`${SERVICE} is running`);
  }

  /** Everything of the group held by the node: VIP, mount, service. */
  async holdsAll(node: string): Promise<boolean> {
    const h = await this.holding(node);
    return h.vip && h.mounted && (await this.serviceRuns(node));
  }

  /** Nothing of the group held by the node. */
  async holdsNothing(node: string): Promise<boolean> {
    const h = await this.holding(node);
    return !h.vip && !h.mounted && !(await this.serviceRuns(node));
  }

  /** Writes 1 MiB of random data through the node's mount and syncs it; resolves with its sha256. */
  async writePayload(node: string): Promise<string> {
    const w = await this.exec(node, ['sh', '-c', `head -c 1048576 /dev/urandom >${this.mnt}/payload && sync`]);
    if (w.status !== 0) throw new Error(`${node}: cannot write the payload: ${w.stderr}`);
    const sum = await this.checksum(node);
    if (sum === undefined) throw new Error(`${node}: cannot read the payload back`);
    return sum;
  }

  async checksum(node: string): Promise<string | undefined> {
    const r = await this.exec(node, ['sha256sum', `${this.mnt}/payload`]);
    return r.status === 0 ? r.stdout.split(' ')[0] : undefined;
  }

  /** The LSB script's calls on a node (`<epoch.ms> <node> <op> rc=<rc>`). */
  serviceCalls(node: string): ServiceCall[] {
    const f = path.join(this.c.state, 'nodes', node, `log/${SERVICE}.log`);
    if (!existsSync(f)) return [];
    return readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const [at, n, op, rc] = l.split(' ');
        return { at: Math.round(Number(at) * 1000), node: n!, op: op!, rc: (rc ?? '').replace(/^rc=/, '') };
      });
  }

  /** Bounded wait for an LSB `op` call (start or stop, status ignored) on `node` after the first `from` calls. */
  async waitForService(node: string, op: 'start' | 'stop', timeoutMs: number, from = 0): Promise<ServiceCall> {
    let hit: ServiceCall | undefined;
    await waitFor(
      `${SERVICE} ${op} on ${node}`,
      () => {
        hit = this.serviceCalls(node)
          .slice(from)
          .find((x) => x.op === op && x.rc === '0');
        return hit !== undefined;
      },
      timeoutMs,
      10,
      () => this.report(),
    );
    return hit!;
  }

  /** The resource script calls (start/stop) in a node's ha-log after `from` characters: `[script, action]`, in order. */
  scriptRuns(node: string, from = 0): [string, string][] {
    const out: [string, string][] = [];
    for (const m of this.c.log(node).slice(from).matchAll(/info: Running (\/\S+) .*?(start|stop)$/gm)) out.push([path.basename(m[1]!), m[2]!]);
    return out;
  }

  /** Bounded wait until `cl_status rscstatus` (ours or Debian's, as the node runs) prints `expected`; time spent behind a timed window does not count. */
  async waitForRscstatus(node: string, expected: string, timeoutMs: number): Promise<void> {
    const cl = this.impl[node] === 'ours' ? OUR_CL_STATUS : 'cl_status';
    let deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const paused = Date.now();
      await this.gate();
      deadline += Date.now() - paused;
      last = (await this.exec(node, [cl, 'rscstatus'])).stdout.trim();
      if (last === expected) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${node}: rscstatus ${expected}\nlast: ${JSON.stringify(last)}\n${this.report()}`);
      await sleep(200); // poll interval of a bounded condition wait
    }
  }

  /** Waits until the start-up dead time the node advertised (deadtime + 2 s during its first 5 s) is over. */
  async pastStartupDeadtime(startedAt: number, keepaliveMs: number): Promise<void> {
    const left = startedAt + 5000 + 2 * keepaliveMs - Date.now();
    if (left > 0) await sleep(left); // a protocol timer we cannot observe
  }

  report(): string {
    const parts: string[] = [];
    for (const n of ['node1', 'node2']) {
      parts.push(`--- ${n} (${this.impl[n]}) ha-log:\n${this.c.log(n).slice(-6000)}`);
      parts.push(`--- ${n} ${SERVICE}.log:\n${JSON.stringify(this.serviceCalls(n).filter((x) => x.op !== 'status'))}`);
      parts.push(`--- ${n} daemon.out:\n${this.c.daemonOut(n)}`);
    }
    return parts.join('\n');
  }

  /** Always: unmount in every node, take hbnet down, detach the loop device, remove the temp folder. */
  async down(): Promise<void> {
    try {
      for (const n of ['node1', 'node2']) {
        if (this.mounted(n)) await this.exec(n, ['umount', '-l', this.mnt]);
      }
    } finally {
      try {
        this.c.down();
      } finally {
        if (this.dev !== '') await detachLoop(this.dev, this.image);
        rmSync(this.dir, { recursive: true, force: true });
      }
    }
  }
}

/** Detaches the loop device (retrying while a dying namespace still holds the filesystem). */
async function detachLoop(dev: string, image: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await run('losetup', ['-d', dev]);
    // Gone, or taken over by someone else already (then it is not ours to detach).
    const still = (await run('losetup', ['-j', image])).stdout.includes(dev);
    if (r.status === 0 || !still) return;
    if (Date.now() > deadline) throw new Error(`cannot detach ${dev}: ${r.stderr}`);
    await sleep(100); // bounded retry while the kernel releases the last mount
  }
}
