/** The environment resource scripts see (resources-spec §1.5). */
import * as path from 'node:path';

export interface ScriptEnvOptions {
  /** `/etc/ha.d` (exported with a trailing slash, as the daemon does). */
  readonly haDir: string;
  /** Local node name; exported lowercased as HA_CURHOST. */
  readonly nodeName: string;
  readonly logfile?: string | undefined;
  readonly debugfile?: string | undefined;
  readonly logfacility?: string | undefined;
  readonly useLogd?: boolean;
  readonly debugLevel?: number;
  /** auto_failback on/off (nice_failback): HA_NICEFAILBACK=yes. */
  readonly niceFailback?: boolean;
  /** No other node is active: HA_DONTASK=yes. */
  readonly dontAsk?: boolean;
  /** ha.cf `env NAME=VALUE` lines, exported as HA_NAME. */
  readonly env?: readonly { readonly name: string; readonly value: string }[];
  /** Pseudo-resource state dir (cleared by the daemon at start). */
  readonly rscTmp?: string;
  readonly varRun?: string;
  readonly fifo?: string;
  readonly ocfRoot?: string;
  /** Where our helper programs live (added in front of PATH). */
  readonly binDir?: string;
  /** The environment to start from (default process.env). */
  readonly base?: NodeJS.ProcessEnv;
}

export function buildScriptEnv(o: ScriptEnvOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...(o.base ?? process.env) };
  // ResourceManager unsets these; ocf-shellfuncs then forces the C locale.
  delete env.LC_ALL;
  delete env.LANGUAGE;
  const haDir = o.haDir.replace(/\/+$/, '');
  const set = (k: string, v: string | undefined) => {
    if (v !== undefined) env[k] = v;
  };
  set('HA_DIR', haDir + '/');
  set('HA_FUNCS', path.join(haDir, 'shellfuncs'));
  set('HA_RCDIR', path.join(haDir, 'rc.d'));
  set('HA_RESOURCEDIR', path.join(haDir, 'resource.d'));
  set('HA_DATEFMT', '%Y/%m/%d_%T\t');
  set('HA_LOGFILE', o.logfile ?? '');
  set('HA_DEBUGLOG', o.debugfile ?? '');
  set('HA_LOGFACILITY', o.logfacility);
  set('HA_CURHOST', o.nodeName.toLowerCase());
  set('HA_LOGD', o.useLogd === true ? 'yes' : 'no');
  if ((o.debugLevel ?? 0) > 0) set('HA_debug', String(o.debugLevel));
  if (o.niceFailback === true) set('HA_NICEFAILBACK', 'yes');
  if (o.dontAsk === true) set('HA_DONTASK', 'yes');
  set('OCF_ROOT', o.ocfRoot ?? '/usr/lib/ocf');
  set('HA_FIFO', o.fifo ?? '/var/lib/heartbeat/fifo');
  set('HA_VARRUN', o.varRun ?? '/var/run/');
  set('HA_RSCTMP', o.rscTmp ?? '/var/run/heartbeat/rsctmp');
  set('HA_VARLOCK', '/var/lock/subsys/');
  set('HA_NOARCHBIN', '/usr/share/heartbeat');
  if (o.binDir !== undefined) set('HA_BIN', o.binDir);
  for (const e of o.env ?? []) env[`HA_${e.name}`] = e.value;
  const prefix = [o.binDir, '/usr/sbin', '/sbin', '/usr/share/heartbeat'].filter((p): p is string => p !== undefined);
  env.PATH = [...prefix, env.PATH ?? '/usr/bin:/bin'].join(':');
  return env;
}

/** HA_STOPRETRYMAX (ha.cf `env STOPRETRYMAX=n`): extra stop attempts, default 10; <= 0 means forever. */
export function stopRetryMax(env: NodeJS.ProcessEnv): number {
  const v = env.HA_STOPRETRYMAX;
  if (v === undefined || !/^-?[0-9]+$/.test(v.trim())) return 10;
  return Number(v.trim());
}
