/** Resource classes (`rsc_hold`) and the standby class mappings (resources-spec §2.2-2.5). */
import type { RscSet, StandbyWord } from './types.js';

export const RSC_SETS: readonly RscSet[] = ['none', 'local', 'foreign', 'all'];

export function isRscSet(s: string | undefined): s is RscSet {
  return s === 'none' || s === 'local' || s === 'foreign' || s === 'all';
}

export function rscSetFromBits(local: boolean, foreign: boolean): RscSet {
  return local ? (foreign ? 'all' : 'local') : foreign ? 'foreign' : 'none';
}

export function hasLocal(s: RscSet): boolean {
  return s === 'local' || s === 'all';
}

export function hasForeign(s: RscSet): boolean {
  return s === 'foreign' || s === 'all';
}

/** hb_standby's word as the class it gives away: failback is foreign. */
export function standbyClass(word: StandbyWord): Exclude<RscSet, 'none'> {
  return word === 'failback' ? 'foreign' : word;
}

/** The same class seen from the other node: its local groups are our foreign ones. */
export function mirrorClass(set: Exclude<RscSet, 'none'>): Exclude<RscSet, 'none'> {
  return set === 'local' ? 'foreign' : set === 'foreign' ? 'local' : 'all';
}

/**
 * rc.d/hb_takeover: the peer asked to take `word`, so we go standby on the
 * mirror class. The original left `failback` unmapped (= all, [BUG]); we read it
 * as "give me my groups back", i.e. the asker's local class.
 */
export function standbyForTakeover(word: StandbyWord): Exclude<RscSet, 'none'> {
  return mirrorClass(word === 'failback' ? 'local' : word);
}

export function isStandbyWord(s: string | undefined): s is StandbyWord {
  return s === 'all' || s === 'local' || s === 'foreign' || s === 'failback';
}
