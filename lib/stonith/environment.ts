/**
 * Where the plugins look and how long they may take, from the daemon's
 * environment and ha.cf `env` lines:
 * - plugin folders: `HA_STONITH_EXTERNAL_DIR` (colon-separated) in the
 *   environment, else `env STONITH_EXTERNAL_DIR=...` in ha.cf, else
 *   cluster-glue's install folders;
 * - meatware FIFOs: `HA_MEATWARE_DIR`, else `env MEATWARE_DIR=...`, else /var/run;
 * - a bound on each plugin call: `env STONITH_TIMEOUT=seconds` (default 120 s;
 *   meatware waits for its operator without one, as the original).
 */
import type { HaCf } from '../config/hacf/model.js';
import { DEFAULT_EXTERNAL_DIRS, DEFAULT_MEATWARE_DIR } from './params.js';
import type { StonithEnvironment, StonithLog } from './types.js';

export const DEFAULT_STONITH_TIMEOUT_MS = 120_000;

const nonEmpty = (v: string | undefined): string | undefined => (v !== undefined && v.trim() !== '' ? v.trim() : undefined);

export function externalDirs(env: NodeJS.ProcessEnv, fromHaCf?: string): string[] {
  const v = nonEmpty(env['HA_STONITH_EXTERNAL_DIR']) ?? nonEmpty(fromHaCf);
  return v !== undefined ? v.split(':').filter((d) => d !== '') : [...DEFAULT_EXTERNAL_DIRS];
}

export function meatwareDir(env: NodeJS.ProcessEnv, fromHaCf?: string): string {
  return nonEmpty(env['HA_MEATWARE_DIR']) ?? nonEmpty(fromHaCf) ?? DEFAULT_MEATWARE_DIR;
}

export function stonithEnvironment(hacf: Pick<HaCf, 'env'>, env: NodeJS.ProcessEnv, log: StonithLog): StonithEnvironment {
  const get = (name: string): string | undefined => hacf.env.find((e) => e.name === name)?.value;
  const t = get('STONITH_TIMEOUT');
  const secs = t !== undefined && /^[0-9]+(\.[0-9]+)?$/.test(t) ? Number(t) : undefined;
  return {
    externalDirs: externalDirs(env, get('STONITH_EXTERNAL_DIR')),
    meatwareDir: meatwareDir(env, get('MEATWARE_DIR')),
    timeoutMs: secs !== undefined && secs > 0 ? Math.round(secs * 1000) : DEFAULT_STONITH_TIMEOUT_MS,
    env,
    log,
  };
}
