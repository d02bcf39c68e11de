/**
 * From a parsed drbd.conf resource to the machine's configuration: option
 * values in their base units (drbd-spec §1.5, 8.4 defaults) turned into
 * milliseconds and bytes, algorithm names checked.
 */
import { randomBytes } from 'node:crypto';
import { effectiveSection, type DrbdConfig, type OptionSection, type Resource } from '../../config/drbd/model.js';
import { parseDigestAlg, parseHmacAlg } from './digest.js';
import type { MachineConfig } from './machine.js';
import { AFTER_SB_0PRI, AFTER_SB_1PRI, AFTER_SB_2PRI, RR_CONFLICT, type AfterSb0, type AfterSb1, type AfterSb2, type RrConflict } from './states.js';

/** DRBD 8.4 defaults (drbd_limits.h). */
export const NET_DEFAULTS = {
  protocol: 'C',
  timeoutTenths: 60,
  connectIntSec: 10,
  pingIntSec: 10,
  pingTimeoutTenths: 5,
  koCount: 7,
  maxBuffers: 2048,
  resyncRateKib: 250,
} as const;

function num(s: OptionSection, name: string, dflt: number): number {
  const v = s.get(name)?.value;
  return typeof v === 'number' ? v : dflt;
}

function text(s: OptionSection, name: string): string | undefined {
  const v = s.get(name)?.value;
  return v === undefined ? undefined : String(v);
}

function bool(s: OptionSection, name: string): boolean {
  const v = s.get(name)?.value;
  return v === true || v === 'yes';
}

function oneOf<T extends string>(list: readonly T[], v: string | undefined, dflt: T): T {
  return v !== undefined && (list as readonly string[]).includes(v) ? (v as T) : dflt;
}

export interface MachineConfigInputs {
  /** This host's name (the matching `on` section). */
  readonly node: string;
  readonly minor: number;
  readonly sizeBytes: number;
  readonly random?: (n: number) => Uint8Array;
}

export function machineConfigFromDrbd(config: DrbdConfig, res: Resource, inputs: MachineConfigInputs): MachineConfig {
  const netS = effectiveSection(config, res, 'net');
  const diskS = effectiveSection(config, res, 'disk');
  let sb0 = text(netS, 'after-sb-0pri');
  const m = sb0 === undefined ? null : /^discard-node-(.+)$/.exec(sb0);
  if (m) sb0 = m[1] === inputs.node ? 'discard-local' : 'discard-remote';
  const cram = text(netS, 'cram-hmac-alg');
  const integ = text(netS, 'data-integrity-alg');
  const verify = text(netS, 'verify-alg');
  const secret = text(netS, 'shared-secret');
  return {
    node: inputs.node,
    logPrefix: `block drbd${inputs.minor}: `,
    protocol: oneOf(['A', 'B', 'C'] as const, text(netS, 'protocol')?.toUpperCase(), NET_DEFAULTS.protocol),
    afterSb0: oneOf<AfterSb0>(AFTER_SB_0PRI, sb0, 'disconnect'),
    afterSb1: oneOf<AfterSb1>(AFTER_SB_1PRI, text(netS, 'after-sb-1pri'), 'disconnect'),
    afterSb2: oneOf<AfterSb2>(AFTER_SB_2PRI, text(netS, 'after-sb-2pri'), 'disconnect'),
    rrConflict: oneOf<RrConflict>(RR_CONFLICT, text(netS, 'rr-conflict'), 'disconnect'),
    alwaysAsbp: bool(netS, 'always-asbp'),
    allowTwoPrimaries: bool(netS, 'allow-two-primaries'),
    ...(cram !== undefined ? { cramHmacAlg: parseHmacAlg(cram), sharedSecret: secret ?? '' } : {}),
    ...(integ !== undefined ? { dataIntegrityAlg: parseDigestAlg(integ) } : {}),
    ...(verify !== undefined ? { verifyAlg: parseDigestAlg(verify) } : {}),
    timeoutMs: num(netS, 'timeout', NET_DEFAULTS.timeoutTenths) * 100,
    connectIntMs: num(netS, 'connect-int', NET_DEFAULTS.connectIntSec) * 1000,
    pingIntMs: num(netS, 'ping-int', NET_DEFAULTS.pingIntSec) * 1000,
    pingTimeoutMs: num(netS, 'ping-timeout', NET_DEFAULTS.pingTimeoutTenths) * 100,
    koCount: num(netS, 'ko-count', NET_DEFAULTS.koCount),
    resyncRateBytesPerSec: num(diskS, 'resync-rate', NET_DEFAULTS.resyncRateKib) * 1024,
    maxBuffers: num(netS, 'max-buffers', NET_DEFAULTS.maxBuffers),
    sizeBytes: inputs.sizeBytes,
    random: inputs.random ?? ((n) => new Uint8Array(randomBytes(n))),
  };
}
