import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'vitest';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * ../shared beside the checkout: reference specs, corpus and tools. Resolved
 * through symlinks, because child processes report real paths (process.cwd()).
 */
const sharedBeside = path.resolve(REPO_ROOT, '../shared');
export const SHARED = existsSync(sharedBeside) ? realpathSync(sharedBeside) : sharedBeside;
export const CORPUS = path.join(SHARED, 'corpus');
export const REFERENCE = path.join(SHARED, 'reference');
export const IN_CI = process.env.CI === 'true';

export function hasTool(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * A test that needs an external tool. Locally it is skipped when the tool is
 * missing; with CI=true a missing tool is a failure, never a skip.
 */
export function itWithTools(tools: string[], name: string, fn: () => unknown | Promise<unknown>, timeout?: number): void {
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length === 0) it(name, fn, timeout);
  else if (IN_CI) it(name, () => { throw new Error(`required tool(s) missing in CI: ${missing.join(', ')}`); });
  else it.skip(`${name} (missing: ${missing.join(', ')})`, fn);
}

export interface CommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs one of our bin/ commands (the compiled build) with a bounded time. */
export function runBin(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): CommandResult {
  const r = spawnSync(path.join(REPO_ROOT, 'bin', cmd), args, {
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    input: opts.input,
    cwd: opts.cwd,
    timeout: 20_000,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export { execFileSync };

/**
 * Kills processes whose command line names `dir`. hbnet's serial cables are
 * `setsid socat ...`; hbnet records setsid's pid, not socat's, so `hbnet down`
 * leaves the socat behind. Every cluster's state folder is unique, so this
 * touches nothing but that cluster's leftovers.
 */
export function killLeftovers(dir: string): void {
  if (!dir.startsWith(tmpdir() + '/')) throw new Error(`killLeftovers: refusing a folder outside ${tmpdir()}: ${dir}`);
  spawnSync('pkill', ['-KILL', '-f', '--', dir], { stdio: 'ignore', timeout: 5_000 });
}
