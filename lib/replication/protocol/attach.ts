/**
 * What the meta-data flags say at attach (drbd-spec §4.6, §6.2): the disk
 * state the engine starts with, and whether this node crashed as Primary.
 */
import type { Generation } from './ports.js';
import type { DiskState } from './states.js';

/**
 * Not Consistent → Inconsistent; Consistent but not WasUpToDate → Outdated;
 * else Consistent (it becomes UpToDate on connect, or on promotion while
 * disconnected). The primary indicator still set means the node went down
 * as Primary without demoting: it crashed, and the crashed-primary flag is
 * raised for the next sync decision (rules 40/41).
 */
export function attachState(g: Generation): { disk: DiskState; generation: Generation } {
  const f = g.flags;
  const disk: DiskState = !f.consistent ? 'Inconsistent' : !f.wasUpToDate ? 'Outdated' : 'Consistent';
  const crashedPrimary = f.crashedPrimary || f.primaryInd;
  return { disk, generation: { uuids: g.uuids, flags: { ...f, crashedPrimary, primaryInd: false } } };
}
