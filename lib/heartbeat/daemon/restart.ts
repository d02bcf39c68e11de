/**
 * `heartbeat -R [-C CLASS]`: the original re-executes itself with these to
 * restart while keeping its resources (`-C` = the classes it holds). We have
 * no exec (our own restarts happen in process), so -R is a start that adopts
 * the groups of CLASS as running and skips the start-up acquisition.
 */
import type { HaCf } from '../../config/hacf/model.js';
import type { RscSet } from '../../resources/types.js';

export interface RestartLog {
  info(text: string): void;
}

/** The class a restarted daemon holds: -C, or (nice mode without -C) local, as the original assumes. */
export function restartedClass(o: { readonly restart?: { readonly current?: RscSet } }, hacf: Pick<HaCf, 'autoFailback'>, log: RestartLog): RscSet | undefined {
  if (o.restart === undefined) return undefined;
  if (o.restart.current !== undefined) return o.restart.current;
  if (hacf.autoFailback === 'legacy') return 'none';
  log.info('restart: assuming HB_LOCAL_RSC');
  return 'local';
}
