/**
 * Where the daemon keeps its files. The defaults are the original's; each can
 * be moved by an environment variable (for tests, containers, and running a
 * second instance on a development machine) and by a command-line option.
 */
import * as path from 'node:path';

export const DEFAULT_HA_DIR = '/etc/ha.d';
export const DEFAULT_RUN_DIR = '/var/run';
export const DEFAULT_STATE_DIR = '/var/lib/heartbeat';

/** Environment overrides (HA_DIR is the original's own variable). */
export const HA_DIR_ENV = 'HA_DIR';
export const RUN_DIR_ENV = 'HEARTBEAT_RUN_DIR';
export const STATE_DIR_ENV = 'HEARTBEAT_STATE_DIR';

export interface DaemonPaths {
  /** ha.cf, authkeys, haresources. */
  readonly haDir: string;
  /** `heartbeat.pid` and `heartbeat/register` (the API socket) live here. */
  readonly runDir: string;
  /** hb_generation, hb_uuid. */
  readonly stateDir: string;
  readonly pidFile: string;
}

export interface PathOverrides {
  readonly haDir?: string | undefined;
  readonly runDir?: string | undefined;
  readonly stateDir?: string | undefined;
}

const nonEmpty = (v: string | undefined): string | undefined => (v !== undefined && v !== '' ? v : undefined);

/** Options win over the environment, the environment over the defaults. */
export function resolvePaths(o: PathOverrides = {}, env: NodeJS.ProcessEnv = process.env): DaemonPaths {
  const haDir = path.resolve(o.haDir ?? nonEmpty(env[HA_DIR_ENV]) ?? DEFAULT_HA_DIR);
  const runDir = path.resolve(o.runDir ?? nonEmpty(env[RUN_DIR_ENV]) ?? DEFAULT_RUN_DIR);
  const stateDir = path.resolve(o.stateDir ?? nonEmpty(env[STATE_DIR_ENV]) ?? DEFAULT_STATE_DIR);
  return { haDir, runDir, stateDir, pidFile: path.join(runDir, 'heartbeat.pid') };
}
