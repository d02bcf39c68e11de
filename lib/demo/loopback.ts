/**
 * The demo's nodes without root: two heartbeat daemons as plain processes of
 * this user, each with its own config, run and state folders (HA_DIR,
 * HEARTBEAT_RUN_DIR, HEARTBEAT_STATE_DIR) and its name from ha.d/nodeinfo.
 * They talk over multicast on `lo` with an unprivileged port. No address can
 * be added without root, so the group is the web service alone: it binds the
 * service address (127.0.0.100 by default: all of 127.0.0.0/8 is local), and
 * only the node holding the group listens there.
 *
 * Every process of a node (daemon, resource scripts, web service) carries
 * HBDEMO_TAG=<run>:<node> in its environment, which is how a "crash" finds
 * them all: SIGKILL to each process of this user whose environment has it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { type CommandResult, type DemoCluster, type NodeDirs, type ProcRecord, type RepoFiles, alive, killRecord, makeRunSkeleton, nodeDirs, record, run, writeNodeFiles } from './cluster.js';
import type { DemoPlan } from './plan.js';

/** Pids of this user's processes whose environment holds `NAME=value` exactly (`value` may end in `*` for a prefix). */
export function processesWithEnv(name: string, value: string): number[] {
  const prefix = value.endsWith('*') ? `${name}=${value.slice(0, -1)}` : undefined;
  const exact = `${name}=${value}`;
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    let env: string;
    try {
      env = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue; // another user's, or gone
    }
    for (const kv of env.split('\0')) {
      if (prefix !== undefined ? kv.startsWith(prefix) : kv === exact) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}

const TAG = 'HBDEMO_TAG';

export class LoopbackCluster implements DemoCluster {
  readonly #files: RepoFiles;
  readonly #run: string;
  readonly #probes: ProcRecord[] = [];
  #tornDown = false;

  constructor(
    readonly plan: DemoPlan,
    readonly workDir: string,
    files: RepoFiles,
    /** Unique per run: tags every process of the run. */
    runId: string,
  ) {
    this.#files = files;
    this.#run = runId;
  }

  #dirs(node: string): NodeDirs {
    return nodeDirs(this.workDir, node);
  }

  setUp(): void {
    for (const n of this.plan.nodes) writeNodeFiles(this.plan, this.#files, this.workDir, n);
  }

  #nodeEnv(node: string): NodeJS.ProcessEnv {
    const d = this.#dirs(node);
    return {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: process.env.HOME ?? d.base,
      LANG: 'C',
      HA_DIR: d.haDir,
      HEARTBEAT_RUN_DIR: d.runDir,
      HEARTBEAT_STATE_DIR: d.stateDir,
      HEARTBEAT_API_SOCKET: path.join(d.runDir, 'heartbeat/register'),
      HBDEMO_RUN: d.runDir,
      HBDEMO_NODEJS: process.execPath,
      HBDEMO_SERVER: this.#files.webServer,
      [TAG]: `${this.#run}:${node}`,
    };
  }

  startDaemon(node: string): void {
    const d = this.#dirs(node);
    const out = openSync(d.daemonOut, 'a');
    try {
      const child = spawn(process.execPath, [this.#files.heartbeat, '-f'], { detached: true, stdio: ['ignore', out, out], env: this.#nodeEnv(node), cwd: d.base });
      child.unref();
    } finally {
      closeSync(out);
    }
  }

  #killTagged(value: string): void {
    for (const pid of processesWithEnv(TAG, value)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }

  crash(node: string): void {
    this.#killTagged(`${this.#run}:${node}`);
  }

  reboot(node: string): void {
    this.crash(node);
    const d = this.#dirs(node);
    rmSync(d.runDir, { recursive: true, force: true });
    makeRunSkeleton(d.runDir);
  }

  clStatus(node: string, args: readonly string[]): CommandResult {
    const env = { ...this.#nodeEnv(node) };
    delete env[TAG];
    return run(process.execPath, [this.#files.clStatus, ...args], { env, timeoutMs: 10_000 });
  }

  spawnProbe(intervalMs: number): ChildProcess {
    const child = spawn(process.execPath, [this.#files.probe, this.plan.serviceAddress, String(this.plan.servicePort), String(intervalMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
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

  leftovers(): string[] {
    const left = processesWithEnv(TAG, `${this.#run}:*`).map((p) => `process ${p} (${cmdline(p)})`);
    for (const p of this.#probes) if (alive(p)) left.push(`probe pid ${p.pid}`);
    return left;
  }

  tearDown(): void {
    if (this.#tornDown) return;
    this.#tornDown = true;
    for (const p of this.#probes) killRecord(p);
    // Twice: a script may fork between the scan and the kill.
    for (let i = 0; i < 2; i++) this.#killTagged(`${this.#run}:*`);
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim();
  } catch {
    return '?';
  }
}
