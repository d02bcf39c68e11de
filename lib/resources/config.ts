/**
 * From the parsed ha.cf and haresources to the resource manager's settings,
 * so the daemon does not repeat these rules.
 */
import { HbError } from '../shared/errors.js';
import type { HaCf } from '../config/hacf/model.js';
import type { Haresources } from '../config/haresources/parse.js';
import type { ResourceManagerConfig } from './types.js';
import { deviceIdOf, deviceSpecs } from '../stonith/params.js';

/** Per-call script limit when ha.cf says nothing (`env SCRIPT_TIMEOUT=seconds` overrides). */
export const DEFAULT_SCRIPT_TIMEOUT_MS = 300_000;

export interface ResourceSettings {
  readonly config: ResourceManagerConfig;
  readonly scriptTimeoutMs: number;
}

export function resourceSettings(
  hacf: HaCf,
  hares: Haresources,
  localNode: string,
  opts: { stopFailureCommand?: readonly string[]; restarted?: ResourceManagerConfig['restarted'] } = {},
): ResourceSettings {
  const me = localNode.toLowerCase();
  const others = hacf.nodes.filter((n) => n !== me);
  if (!hacf.nodes.includes(me)) throw new HbError('RESOURCES_CONFIG', `Current node [${me}] not in configuration!`);
  if (others.length !== 1) throw new HbError('RESOURCES_CONFIG', `haresources management supports two nodes; ha.cf declares ${hacf.nodes.length}`);
  const peer = others[0]!;
  // A device that can reset the peer: `stonith TYPE FILE`, or `stonith_host` naming us or `*`
  // (the first in the file names the device in the log; lib/stonith tries them all).
  const spec = deviceSpecs(hacf, me)[0];
  const device = spec !== undefined ? deviceIdOf(spec.type) : undefined;
  const t = hacf.env.find((e) => e.name === 'SCRIPT_TIMEOUT')?.value;
  const secs = t !== undefined && /^[0-9]+(\.[0-9]+)?$/.test(t) ? Number(t) : undefined;
  return {
    config: {
      localNode: me,
      peerNode: peer,
      groups: hares.groups,
      autoFailback: hacf.autoFailback,
      ...(device !== undefined ? { stonithDevice: device } : {}),
      ...(opts.stopFailureCommand !== undefined ? { stopFailureCommand: opts.stopFailureCommand } : {}),
      ...(opts.restarted !== undefined ? { restarted: opts.restarted } : {}),
    },
    scriptTimeoutMs: secs !== undefined && secs > 0 ? Math.round(secs * 1000) : DEFAULT_SCRIPT_TIMEOUT_MS,
  };
}
