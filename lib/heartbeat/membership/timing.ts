/**
 * Timing constants of Heartbeat 3.0.6 (heartbeat.c) and the config checks the
 * state machine relies on. The ha.cf parser derives defaults; here we only
 * refuse values the machine cannot run with.
 */
import { HbError } from '../../shared/errors.js';
import type { MembershipConfig } from './types.js';

/** At start-up the original advertises deadtime + 2 s… */
export const STARTUP_DEADTIME_BONUS_MS = 2000;
/** …for the first 5 s, then sends one extra status with the plain deadtime. */
export const STARTUP_DEADTIME_BONUS_FOR_MS = 5000;
/** `reqnodes` is repeated every second until a `repnodes` arrives. */
export const REQNODES_INTERVAL_MS = 1000;
/** A gap larger than this resets sequence tracking ("lost a lot of packets!"). */
export const MAX_SEQUENCE_GAP = 250;
/** Missing sequence numbers remembered per sender (the transmit history size). */
export const MAX_MISSING_TRACKED = 500;
/** From our own `shutdone` to exit: 1 s to final shutdown, 1 s in its last phase. */
export const SHUTDOWN_TO_EXIT_MS = 2000;

/** Largest accepted event time (about 142 000 years of ms): near 2^53, `now + 1 === now` and deadlines would stall. */
export const MAX_TIME_MS = Number.MAX_SAFE_INTEGER / 2;

const positiveInt = (v: number): boolean => Number.isInteger(v) && v > 0;

/** Throws HbError `MEMBERSHIP_CONFIG` for a config the machine cannot honour. */
export function checkMembershipConfig(c: MembershipConfig): void {
  const bad = (msg: string): never => {
    throw new HbError('MEMBERSHIP_CONFIG', msg);
  };
  for (const [name, v] of [
    ['keepalive', c.keepaliveMs],
    ['warntime', c.warntimeMs],
    ['deadtime', c.deadtimeMs],
    ['initdead', c.initdeadMs],
    ['deadping', c.deadpingMs ?? c.deadtimeMs],
  ] as const) {
    if (!positiveInt(v)) bad(`${name} must be a positive whole number of ms, got ${v}`);
  }
  // Same rule as ha.cf: otherwise one lost packet would kill a node.
  if (c.deadtimeMs <= 2 * c.keepaliveMs) bad(`deadtime ${c.deadtimeMs} ms must exceed 2 x keepalive ${c.keepaliveMs} ms`);
  if (c.initdeadMs < c.deadtimeMs) bad(`initdead ${c.initdeadMs} ms is smaller than deadtime ${c.deadtimeMs} ms`);
  if (!c.nodes.includes(c.localNode)) bad(`local node ${c.localNode} is not among the nodes`);
  const all = [...c.nodes, ...(c.pingNodes ?? [])];
  if (new Set(all).size !== all.length) bad('a node is listed twice');
}
