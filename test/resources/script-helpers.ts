// Helpers for running the resource.d scripts for real in the tests.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers/env.js';

export const RESOURCE_D = path.join(REPO_ROOT, 'resource.d');
export const SHELLFUNCS = path.join(REPO_ROOT, 'etc', 'ha.d', 'shellfuncs');

export interface ScriptResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface ScriptEnv {
  /** A scratch directory with rsctmp/ and ha-log for this test file. */
  dir: string;
  rsctmp: string;
  logfile: string;
  env: NodeJS.ProcessEnv;
  log(): string;
  cleanup(): void;
}

/** A scratch HA_RSCTMP and HA_LOGFILE, so nothing touches the host's /var/run. */
export function scriptEnv(prefix: string): ScriptEnv {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const rsctmp = path.join(dir, 'rsctmp');
  const logfile = path.join(dir, 'ha-log');
  return {
    dir,
    rsctmp,
    logfile,
    env: { HA_RSCTMP: rsctmp, HA_LOGFILE: logfile, HA_DEBUGLOG: '', HA_DIR: path.join(dir, 'ha.d') },
    log: () => (fs.existsSync(logfile) ? fs.readFileSync(logfile, 'utf8') : ''),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Runs resource.d/NAME with ARGS (the action last), optionally inside a
 * network namespace or through a command prefix (nsenter), bounded in time.
 */
export function runScript(
  name: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; netns?: string; prefix?: string[]; timeoutMs?: number; scriptDir?: string } = {},
): ScriptResult {
  const script = path.join(opts.scriptDir ?? RESOURCE_D, name);
  let argv = [script, ...args];
  if (opts.netns) argv = ['ip', 'netns', 'exec', opts.netns, ...argv];
  if (opts.prefix) argv = [...opts.prefix, ...argv];
  const r = spawnSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: opts.timeoutMs ?? 20_000,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** heartbeat's status judgement (resources spec §1.6): stdout only, exit code ignored. */
export function owned(stdout: string): boolean {
  if (/[Nn][Oo][Tt] [\s\S]*[Rr]unning/.test(stdout)) return false;
  return /[Rr]unning/.test(stdout) || /OK/.test(stdout);
}

/** Runs a command, throwing with its output when it fails. */
export function sh(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; allowFail?: boolean } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...opts.env }, timeout: 20_000 });
  if (r.error) throw r.error;
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')}: rc=${r.status}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Polls COND every 50 ms until it holds or TIMEOUT ms pass (then throws). */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A name unique to this test process, for namespaces. */
export function uniqueName(tag: string): string {
  return `hbts-${tag}-${process.pid}`.slice(0, 30);
}

/** Writes an executable stub script. */
export function writeStub(file: string, body: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}
