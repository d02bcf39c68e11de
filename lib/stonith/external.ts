/**
 * `external/NAME`: a program (usually a shell script) in a plugin folder,
 * with cluster-glue's contract: it is called as `NAME gethosts`, `NAME reset
 * HOST` (also `on`/`off`), `NAME status`, `NAME getconfignames`,
 * `NAME getinfo-devid` ...; the device's parameters are in its environment
 * (one variable per name from getconfignames); exit status 0 means success;
 * gethosts and getconfignames print blank-separated words. As the original,
 * a program that is not a regular executable file, or that group or others
 * may write, is refused.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_EXTERNAL_DIRS } from './params.js';
import { runProgram, type RunResult } from './run.js';
import { S, type ResetRequest, type StonithDevice, type StonithEnvironment, type StonithRc } from './types.js';

export { DEFAULT_EXTERNAL_DIRS };

/** cluster-glue's folder of ha_log.sh, which external scripts call; put first on their PATH as the original does. */
const GLUE_SHARED_DIR = '/usr/share/cluster-glue';

/** Why a plugin file may not run; undefined when it may. */
export function pluginFileProblem(file: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    return `stat(2) of ${file} failed: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  if (!st.isFile() || (st.mode & 0o111) === 0) return `${file} found NOT to be executable.`;
  if ((st.mode & 0o022) !== 0) return `${file} found to be writable by group/others, NOT executing for security purposes.`;
  return undefined;
}

/** The external plugins a listing shows: regular executable files not writable by group/others. */
export function listExternalPlugins(dirs: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const d of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) if (!n.startsWith('.') && pluginFileProblem(path.join(d, n)) === undefined) seen.add(n);
  }
  return [...seen].sort();
}

export class ExternalDevice implements StonithDevice {
  readonly type: string;
  readonly deviceId: string;
  private params: ReadonlyMap<string, string> | undefined;
  private names: readonly string[] | undefined;

  constructor(
    readonly name: string,
    private readonly env: StonithEnvironment,
  ) {
    this.type = `external/${name}`;
    this.deviceId = this.type;
  }

  get configured(): boolean {
    return this.params !== undefined;
  }

  /** The program's path: the first plugin folder that has it. */
  program(): string {
    for (const d of this.env.externalDirs) {
      const f = path.join(d, this.name);
      if (fs.existsSync(f)) return f;
    }
    return path.join(this.env.externalDirs[0] ?? DEFAULT_EXTERNAL_DIRS[0]!, this.name);
  }

  /** Runs `NAME ARGS...` with the parameters in the environment. */
  async run(args: readonly string[]): Promise<RunResult> {
    const log = this.env.log;
    const file = this.program();
    const problem = pluginFileProblem(file);
    if (problem !== undefined) {
      log('CRIT', `external_run_cmd: ${problem}`);
      return { code: -1, stdout: '', timedOut: false, error: problem };
    }
    const base = this.env.env ?? process.env;
    const env: NodeJS.ProcessEnv = { ...base };
    for (const [k, v] of this.params ?? []) env[k] = v;
    const p = base['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin';
    env['PATH'] = p.startsWith(GLUE_SHARED_DIR) ? p : `${GLUE_SHARED_DIR}:${p}`;
    env['HA_LOGTAG'] = this.type;
    const r = await runProgram(file, args, { env, timeoutMs: this.env.timeoutMs, onStderr: (l) => log('info', `${this.type}: ${l}`) });
    if (r.timedOut) log('CRIT', `external_run_cmd: '${this.type} ${args.join(' ')}' timed out after ${this.env.timeoutMs} ms`);
    return r;
  }

  async configNames(): Promise<readonly string[] | undefined> {
    if (this.names !== undefined) return this.names;
    const r = await this.run(['getconfignames']);
    if (r.code !== 0) {
      this.env.log('CRIT', `external_get_confignames: '${this.type} getconfignames' failed with rc ${r.code}`);
      return undefined;
    }
    this.names = r.stdout.split(/\s+/).filter((w) => w !== '');
    return this.names;
  }

  configure(params: ReadonlyMap<string, string>): Promise<StonithRc> {
    this.params = new Map(params);
    return Promise.resolve(S.OK);
  }

  async hosts(): Promise<readonly string[] | undefined> {
    const r = await this.run(['gethosts']);
    if (r.code !== 0) {
      this.env.log('CRIT', `external_hostlist: '${this.type} gethosts' failed with rc ${r.code}`);
      return undefined;
    }
    const hosts = r.stdout.split(/\s+/).filter((w) => w !== '');
    if (hosts.length === 0) {
      this.env.log('CRIT', `external_hostlist: '${this.type} gethosts' returned an empty hostlist`);
      return undefined;
    }
    return hosts;
  }

  async status(): Promise<StonithRc> {
    const r = await this.run(['status']);
    this.logOutput('status', r);
    if (r.code !== 0) {
      this.env.log('WARN', `external_status: '${this.type} status' failed with rc ${r.code}`);
      return S.OOPS;
    }
    return S.OK;
  }

  async reset(host: string, request: ResetRequest = 'reset'): Promise<StonithRc> {
    const r = await this.run([request, host]);
    this.logOutput(`${request} ${host}`, r);
    if (r.code !== 0) {
      this.env.log('CRIT', `external_reset_req: '${this.type} ${request}' for host ${host} failed with rc ${r.code}`);
      return S.RESETFAIL;
    }
    return S.OK;
  }

  /** getinfo-devid, getinfo-devname, getinfo-devdescr, getinfo-devurl, getinfo-xml. */
  async info(what: 'devid' | 'devname' | 'devdescr' | 'devurl' | 'xml'): Promise<string | undefined> {
    const r = await this.run([`getinfo-${what}`]);
    return r.code === 0 ? r.stdout : undefined;
  }

  private logOutput(op: string, r: RunResult): void {
    for (const line of r.stdout.split('\n')) if (line.trim() !== '') this.env.log('info', `external_run_cmd: '${this.type} ${op}' output: ${line}`);
  }
}
