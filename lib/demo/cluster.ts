/**
 * What the demo needs from a two-node cluster on this machine, whichever way
 * the nodes are isolated (netns.ts as root, loopback.ts otherwise), and the
 * parts both share: the repository's files, each node's folders and config,
 * bounded waits on a node's ha-log, and commands run with a time limit.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DemoError, DemoErrorCode, authkeysText, hacfText, haresourcesText, type DemoNode, type DemoPlan } from './plan.js';

/** The checkout (or installed package) root: the nearest folder up from here with our package.json. */
export function repoRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let d = from; ; d = path.dirname(d)) {
    try {
      if ((JSON.parse(readFileSync(path.join(d, 'package.json'), 'utf8')) as { name?: string }).name === 'heartbeat-ts') return d;
    } catch {
      // not here: go up
    }
    if (path.dirname(d) === d) throw new DemoError(DemoErrorCode.Unavailable, `cannot find the heartbeat-ts folder above ${from}`);
  }
}

export interface RepoFiles {
  readonly root: string;
  readonly heartbeat: string;
  readonly clStatus: string;
  readonly webServer: string;
  readonly probe: string;
  readonly resourceDir: string;
  readonly demoResourceDir: string;
  readonly shellfuncs: string;
}

export function repoFiles(root: string = repoRoot()): RepoFiles {
  const f: RepoFiles = {
    root,
    heartbeat: path.join(root, 'bin/heartbeat'),
    clStatus: path.join(root, 'bin/cl_status'),
    webServer: path.join(root, 'dist/lib/demo/web-server.js'),
    probe: path.join(root, 'dist/lib/demo/probe.js'),
    resourceDir: path.join(root, 'resource.d'),
    demoResourceDir: path.join(root, 'demo/resource.d'),
    shellfuncs: path.join(root, 'etc/ha.d/shellfuncs'),
  };
  for (const p of [f.heartbeat, f.clStatus, f.webServer, f.probe, f.resourceDir, f.demoResourceDir]) {
    if (!existsSync(p)) throw new DemoError(DemoErrorCode.Unavailable, `${p} is missing: run \`npm ci\` (or \`npm run build\`) in ${root} first`);
  }
  if (!existsSync(path.join(root, 'dist/bin/heartbeat.js'))) throw new DemoError(DemoErrorCode.Unavailable, `heartbeat is not built: run \`npm ci\` (or \`npm run build\`) in ${root} first`);
  return f;
}

export interface CommandResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command with a time limit; never throws. */
export function run(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CommandResult {
  const r = spawnSync(cmd, [...args], { encoding: 'utf8', env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 15_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = (r.stderr ?? '') + (r.error ? `${r.error.message}\n` : '');
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr };
}

/** Runs a command that must succeed (a DemoError naming it otherwise). */
export function must(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new DemoError(DemoErrorCode.Command, `\`${[cmd, ...args].join(' ')}\` failed (exit ${r.status}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** pid + start time, so a recycled pid is never killed. */
export interface ProcRecord {
  readonly pid: number;
  readonly start: string;
}

/** The process's start time (field 22 of proc(5)), or undefined when it is gone or a zombie (dead, not yet reaped). */
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return f[0] === 'Z' || f[0] === 'X' ? undefined : f[19];
  } catch {
    return undefined;
  }
}

export const record = (pid: number): ProcRecord | undefined => {
  const start = startTime(pid);
  return start === undefined ? undefined : { pid, start };
};
export const alive = (r: ProcRecord | undefined): r is ProcRecord => r !== undefined && startTime(r.pid) === r.start;

export function killRecord(r: ProcRecord | undefined, sig: NodeJS.Signals = 'SIGKILL'): void {
  if (!alive(r)) return;
  try {
    process.kill(r.pid, sig);
  } catch {
    // gone meanwhile
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface NodeDirs {
  readonly base: string;
  readonly haDir: string;
  readonly stateDir: string;
  readonly logDir: string;
  readonly runDir: string;
  readonly logFile: string;
  readonly daemonOut: string;
}

export function nodeDirs(workDir: string, node: string): NodeDirs {
  const base = path.join(workDir, 'nodes', node);
  return {
    base,
    haDir: path.join(base, 'ha.d'),
    stateDir: path.join(base, 'lib'),
    logDir: path.join(base, 'log'),
    runDir: path.join(base, 'run'),
    logFile: path.join(base, 'log/ha-log'),
    daemonOut: path.join(base, 'daemon.out'),
  };
}

/** What a fresh boot has in /run (the daemon makes the rest). */
export function makeRunSkeleton(runDir: string): void {
  for (const d of ['lock/subsys', 'heartbeat', 'resource-agents']) mkdirSync(path.join(runDir, d), { recursive: true });
  chmodSync(path.join(runDir, 'lock'), 0o1777);
}

/**
 * A node's folders and config: ha.d with ha.cf, authkeys (0600), haresources,
 * nodeinfo (the node's name, so loopback nodes need no host name of their
 * own), shellfuncs and resource.d (ours plus the demo's hbdemo-web).
 */
export function writeNodeFiles(plan: DemoPlan, files: RepoFiles, workDir: string, node: DemoNode): NodeDirs {
  const d = nodeDirs(workDir, node.name);
  for (const p of [d.haDir, path.join(d.haDir, 'resource.d'), d.stateDir, d.logDir, d.runDir]) mkdirSync(p, { recursive: true });
  makeRunSkeleton(d.runDir);
  writeFileSync(path.join(d.haDir, 'ha.cf'), hacfText(plan, node, d.logFile));
  writeFileSync(path.join(d.haDir, 'authkeys'), authkeysText(plan), { mode: 0o600 });
  chmodSync(path.join(d.haDir, 'authkeys'), 0o600);
  writeFileSync(path.join(d.haDir, 'haresources'), haresourcesText(plan));
  writeFileSync(path.join(d.haDir, 'nodeinfo'), `${node.name}\n`);
  if (existsSync(files.shellfuncs)) copyFileSync(files.shellfuncs, path.join(d.haDir, 'shellfuncs'));
  for (const dir of [files.resourceDir, files.demoResourceDir]) {
    for (const f of readdirSync(dir)) {
      const src = path.join(dir, f);
      if (!statSync(src).isFile()) continue;
      const dst = path.join(d.haDir, 'resource.d', f);
      copyFileSync(src, dst);
      chmodSync(dst, statSync(src).mode & 0o777);
    }
  }
  return d;
}

/** Follows a file as it grows (a node's ha-log). */
export class LogTail {
  #offset = 0;
  #seen = '';

  constructor(readonly file: string) {}

  /** Reads what was appended since the last call; returns everything seen so far. */
  poll(): string {
    if (!existsSync(this.file)) return this.#seen;
    const fd = openSync(this.file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size > this.#offset) {
        const buf = Buffer.alloc(size - this.#offset);
        const n = readSync(fd, buf, 0, buf.length, this.#offset);
        this.#offset += n;
        this.#seen += buf.subarray(0, n).toString('utf8');
      }
    } finally {
      closeSync(fd);
    }
    return this.#seen;
  }

  /** Characters seen so far: a mark for waitFor's `from`. */
  mark(): number {
    return this.poll().length;
  }

  /** Bounded wait for `text` after character `from`; resolves with the time (epoch ms) of the poll that saw it. */
  async waitFor(text: string | RegExp, timeoutMs: number, from = 0, what = `"${String(text)}"`, pollMs = 20): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.poll().slice(from);
      if (typeof text === 'string' ? s.includes(text) : text.test(s)) return Date.now();
      if (Date.now() > deadline) throw new DemoError(DemoErrorCode.Timeout, `${what} did not appear in ${this.file} within ${(timeoutMs / 1000).toFixed(0)} s`);
      await sleep(pollMs); // poll interval of a bounded wait
    }
  }
}

export interface DemoCluster {
  readonly plan: DemoPlan;
  /** Every file of the run: node folders, logs; removed by tearDown. */
  readonly workDir: string;
  /** Creates the nodes (namespaces or folders) with their config. */
  setUp(): void;
  /** Starts our heartbeat (in the foreground, as a service manager would) on the node. */
  startDaemon(node: string): void;
  /** "Pulls the plug": SIGKILL to every process of the node (and, with namespaces, its link down). */
  crash(node: string): void;
  /** After a crash: a fresh boot (empty /run, the node's own address only, link up). */
  reboot(node: string): void;
  /** Our cl_status, run as on that node. */
  clStatus(node: string, args: readonly string[]): CommandResult;
  /** The client: lib/demo/probe.js against the service address, as a child process (stdout: JSON lines). */
  spawnProbe(intervalMs: number): ChildProcess;
  logFile(node: string): string;
  daemonOut(node: string): string;
  /** What is left of this run (namespaces, processes); empty after tearDown. */
  leftovers(): string[];
  /** Kills everything the run started and removes what it created; safe to call twice, never throws. */
  tearDown(): void;
}
