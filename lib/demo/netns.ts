/**
 * The demo's nodes as root: network namespaces on a private bridge.
 *
 *   <prefix>sw      the "switch": bridge br0, one veth port per machine
 *   <prefix>node1   eth0 = 10.88.0.11/24  (plus the service IP while it holds the group)
 *   <prefix>node2   eth0 = 10.88.0.12/24
 *   <prefix>client  eth0 = 10.88.0.20/24  (where the demo's probe fetches the service)
 *
 * Nothing is routed out of these namespaces. Each node also gets a "holder":
 * pid 1 of fresh PID, UTS (host name = node name), mount and IPC namespaces,
 * with the node's own folders bound over /run and /var/lib (so heartbeat's
 * state goes to its default /var/lib/heartbeat) and a /sys of its network
 * namespace. Every process of the node (heartbeat, resource scripts, the web
 * service) runs under it, so SIGKILL to the holder is a crash of the whole
 * machine; the demo also takes its switch port down, as a dead machine's
 * link goes. Config, state and logs stay in the node's folder (outside the
 * namespace, visible to the demo), given to heartbeat by HA_DIR and ha.cf's
 * logfile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { type CommandResult, type DemoCluster, type NodeDirs, type ProcRecord, type RepoFiles, alive, hasCommand, killRecord, makeRunSkeleton, must, nodeDirs, record, run, writeNodeFiles } from './cluster.js';
import { DemoError, DemoErrorCode, type DemoPlan } from './plan.js';

export const NETNS_TOOLS = ['ip', 'nsenter', 'unshare', 'mount', 'umount'];

/** The holder's shell script: runs as pid 1 of the node's namespaces. */
function holderScript(node: string, runDir: string, varLibDir: string | undefined, readyFile: string): string {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    'set -e',
    `echo ${q(node)} > /proc/sys/kernel/hostname`,
    // /sys of this network namespace, as `ip netns exec` does.
    'umount -l /sys 2>/dev/null || true',
    'mount -t sysfs -o nosuid,nodev,noexec sysfs /sys',
    `mount --bind ${q(runDir)} /run`,
    ...(varLibDir !== undefined ? [`mount --bind ${q(varLibDir)} /var/lib`] : []),
    `echo ready > ${q(readyFile)}`,
    'set +e',
    "trap '' TERM INT HUP",
    // pid 1 of the namespace: the shell reaps the orphans it adopts while it waits for each sleep.
    'while :; do sleep 1; done',
  ].join('\n');
}

export class NetnsCluster implements DemoCluster {
  readonly #files: RepoFiles;
  readonly #prefix: string;
  readonly #holders = new Map<string, { holder: ProcRecord; unshare: ProcRecord | undefined }>();
  readonly #probes: ProcRecord[] = [];
  #created: string[] = [];
  readonly #privateVarLib: boolean;
  #tornDown = false;

  constructor(
    readonly plan: DemoPlan,
    readonly workDir: string,
    files: RepoFiles,
    /** Namespace name prefix, unique per run (e.g. `hbdemo<pid>-`). */
    prefix: string,
  ) {
    this.#files = files;
    this.#prefix = prefix;
    // /run and /var/lib are covered by each node's own folders: what a node runs must live elsewhere.
    const under = (p: string, dir: string): boolean => p === dir || p.startsWith(dir + '/');
    const used = [files.root, workDir, process.execPath];
    const hidden = used.find((p) => under(p, '/run') || under(p, '/var/run'));
    if (hidden !== undefined) throw new DemoError(DemoErrorCode.Unavailable, `${hidden} is under /run, which each node replaces with its own: run the demo from elsewhere`);
    this.#privateVarLib = !used.some((p) => under(p, '/var/lib'));
  }

  static missing(): string | undefined {
    if (process.getuid?.() !== 0) return 'network namespaces need root';
    const missing = NETNS_TOOLS.filter((t) => !hasCommand(t));
    if (missing.length) return `missing tools: ${missing.join(', ')}`;
    if (!existsSync('/proc/self/ns/net')) return 'this kernel has no network namespaces';
    return undefined;
  }

  /** Can our IPaddr2 send gratuitous ARP (iputils arping, or heartbeat's send_arp)? As hbts-funcs decides. */
  static hasGratuitousArp(): boolean {
    if (hasCommand('send_arp')) return true;
    if (!hasCommand('arping')) return false;
    return /iputils/.test(run('arping', ['-V']).stdout + run('arping', ['-V']).stderr);
  }

  ns(name: string): string {
    return `${this.#prefix}${name}`;
  }

  get switchNs(): string {
    return this.ns('sw');
  }

  #dirs(node: string): NodeDirs {
    return nodeDirs(this.workDir, node);
  }

  #addNs(name: string): void {
    must('ip', ['netns', 'add', name]);
    this.#created.push(name);
    // No IPv6: keeps the demo's links free of router and neighbour solicitations.
    run('ip', ['netns', 'exec', name, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    must('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  }

  /** A machine on the switch: its namespace, eth0 (veth into br0) with `address`. */
  #addMachine(name: string, address: string): void {
    const ns = this.ns(name);
    this.#addNs(ns);
    must('ip', ['-n', this.switchNs, 'link', 'add', name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    must('ip', ['-n', this.switchNs, 'link', 'set', name, 'master', 'br0', 'up']);
    must('ip', ['-n', ns, 'addr', 'add', `${address}/${this.plan.prefixLength}`, 'brd', '+', 'dev', 'eth0']);
    must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  }

  setUp(): void {
    this.#addNs(this.switchNs);
    must('ip', ['-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    must('ip', ['-n', this.switchNs, 'link', 'set', 'br0', 'up']);
    for (const n of this.plan.nodes) {
      writeNodeFiles(this.plan, this.#files, this.workDir, n);
      this.#addMachine(n.name, n.address);
    }
    this.#addMachine('client', this.plan.clientAddress ?? '');
    if (!NetnsCluster.hasGratuitousArp()) {
      // Without a gratuitous ARP from the new holder the client keeps the dead node's MAC for the
      // service IP until its ARP entry goes stale (tens of seconds by default). A LAN client would
      // recover the same way, only later: short neighbour timers bound that to about 2 s here.
      const ns = this.ns('client');
      run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.neigh.eth0.base_reachable_time_ms=500', 'net.ipv4.neigh.eth0.delay_first_probe_time=1', 'net.ipv4.neigh.eth0.retrans_time_ms=200', 'net.ipv4.neigh.eth0.ucast_solicit=1']);
    }
    for (const n of this.plan.nodes) this.#startHolder(n.name);
  }

  #startHolder(node: string): void {
    const d = this.#dirs(node);
    const ready = path.join(d.base, 'holder.ready');
    rmSync(ready, { force: true });
    const out = openSync(path.join(d.base, 'holder.out'), 'a');
    let child: ChildProcess;
    try {
      child = spawn(
        'nsenter',
        [`--net=/run/netns/${this.ns(node)}`, '--', 'unshare', '--pid', '--fork', '--mount-proc', '--uts', '--mount', '--ipc', '--propagation', 'private', '--', '/bin/sh', '-c', holderScript(node, d.runDir, this.#privateVarLib ? d.stateDir : undefined, ready)],
        { detached: true, stdio: ['ignore', out, out] },
      );
    } finally {
      closeSync(out);
    }
    child.unref();
    const unsharePid = child.pid;
    if (unsharePid === undefined) throw new DemoError(DemoErrorCode.Command, `cannot start the namespaces of ${node}`);
    const unshare = record(unsharePid);
    // Bounded wait (5 s) for the holder to bind /run and say so.
    const deadline = Date.now() + 5000;
    let holderPid: number | undefined;
    while (Date.now() < deadline) {
      if (holderPid === undefined) {
        try {
          const kids = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
          if (kids.length) holderPid = Number(kids[0]);
        } catch {
          // not forked yet
        }
      }
      if (holderPid !== undefined && existsSync(ready)) break;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); // 20 ms between looks
    }
    const holder = holderPid !== undefined ? record(holderPid) : undefined;
    if (!existsSync(ready) || holder === undefined) {
      killRecord(unshare);
      const why = existsSync(path.join(d.base, 'holder.out')) ? readFileSync(path.join(d.base, 'holder.out'), 'utf8').trim() : '';
      throw new DemoError(DemoErrorCode.Command, `the namespaces of ${node} did not come up within 5 s${why ? `: ${why}` : ''}`);
    }
    this.#holders.set(node, { holder, unshare });
  }

  #holderPid(node: string): number {
    const h = this.#holders.get(node);
    if (!alive(h?.holder)) throw new DemoError(DemoErrorCode.Command, `${node} is not running`);
    return h.holder.pid;
  }

  /** The environment heartbeat, its scripts and cl_status get inside a node. */
  #nodeEnv(node: string): NodeJS.ProcessEnv {
    const d = this.#dirs(node);
    mkdirSync(path.join(d.stateDir, 'heartbeat'), { recursive: true });
    return {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      LANG: 'C',
      HA_DIR: d.haDir,
      HEARTBEAT_RUN_DIR: '/run',
      HEARTBEAT_API_SOCKET: '/run/heartbeat/register',
      // A node sees its own folder over /var/lib, unless what it runs lives there (then the state dir moves instead).
      ...(this.#privateVarLib ? {} : { HEARTBEAT_STATE_DIR: d.stateDir }),
      HBDEMO_RUN: '/run',
      HBDEMO_NODEJS: process.execPath,
      HBDEMO_SERVER: this.#files.webServer,
    };
  }

  #enter(node: string): string[] {
    return ['-t', String(this.#holderPid(node)), '-n', '-u', '-m', '-i', '-p', '--wd=/', '--'];
  }

  startDaemon(node: string): void {
    const d = this.#dirs(node);
    const out = openSync(d.daemonOut, 'a');
    try {
      const child = spawn('nsenter', [...this.#enter(node), process.execPath, this.#files.heartbeat, '-f'], {
        detached: true,
        stdio: ['ignore', out, out],
        env: this.#nodeEnv(node),
      });
      child.unref();
    } finally {
      closeSync(out);
    }
  }

  crash(node: string): void {
    const h = this.#holders.get(node);
    // SIGKILL to pid 1 of a PID namespace kills every process in it.
    killRecord(h?.holder);
    run('ip', ['-n', this.switchNs, 'link', 'set', node, 'down']);
  }

  reboot(node: string): void {
    const h = this.#holders.get(node);
    killRecord(h?.holder);
    const d = this.#dirs(node);
    rmSync(d.runDir, { recursive: true, force: true });
    makeRunSkeleton(d.runDir);
    const me = this.plan.nodes.find((n) => n.name === node);
    if (me === undefined) throw new DemoError(DemoErrorCode.Usage, `no node ${node}`);
    // A booting machine has its own address only: the service IP it held went down with it.
    must('ip', ['-n', this.ns(node), 'addr', 'flush', 'dev', 'eth0']);
    must('ip', ['-n', this.ns(node), 'addr', 'add', `${me.address}/${this.plan.prefixLength}`, 'brd', '+', 'dev', 'eth0']);
    must('ip', ['-n', this.switchNs, 'link', 'set', node, 'up']);
    this.#startHolder(node);
  }

  clStatus(node: string, args: readonly string[]): CommandResult {
    return run('nsenter', [...this.#enter(node), process.execPath, this.#files.clStatus, ...args], { env: this.#nodeEnv(node), timeoutMs: 10_000 });
  }

  spawnProbe(intervalMs: number): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns('client'), process.execPath, this.#files.probe, this.plan.serviceAddress, String(this.plan.servicePort), String(intervalMs)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r = child.pid !== undefined ? record(child.pid) : undefined;
    if (r !== undefined) this.#probes.push(r);
    return child;
  }

  logFile(node: string): string {
    return this.#dirs(node).logFile;
  }

  daemonOut(node: string): string {
    const f = this.#dirs(node).daemonOut;
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  }

  /** Our namespaces still present, and live holders (with their processes). */
  leftovers(): string[] {
    const left: string[] = [];
    try {
      for (const name of readdirSync('/run/netns')) if (name.startsWith(this.#prefix)) left.push(`netns ${name}`);
    } catch {
      // no /run/netns: no namespaces
    }
    for (const [node, h] of this.#holders) {
      if (alive(h.holder)) left.push(`${node}'s holder pid ${h.holder.pid}`);
      if (alive(h.unshare)) left.push(`${node}'s unshare pid ${h.unshare.pid}`);
    }
    for (const p of this.#probes) if (alive(p)) left.push(`probe pid ${p.pid}`);
    return left;
  }

  tearDown(): void {
    if (this.#tornDown) return;
    this.#tornDown = true;
    for (const p of this.#probes) killRecord(p);
    for (const h of this.#holders.values()) killRecord(h.holder);
    // Each unshare exits once its holder is reaped; a bounded wait (2 s), then SIGKILL.
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline && [...this.#holders.values()].some((h) => alive(h.unshare) || alive(h.holder))) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
    for (const h of this.#holders.values()) killRecord(h.unshare);
    // Deleting a namespace removes its veth pairs (and the other ends with them).
    for (const ns of [...this.#created].reverse()) run('ip', ['netns', 'del', ns]);
    this.#created = [];
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
