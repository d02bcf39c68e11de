/**
 * What drbdadm hands the daemon for one resource: the parts of drbd.conf that
 * concern this host, in plain JSON (the daemon holds no other configuration).
 */
import { HbError } from '../../shared/errors.js';
import { effectiveSection, type DrbdConfig, type OptionSection, type Resource } from '../../config/drbd/model.js';
import { findLocalHost, type LocalHost } from '../../config/drbd/local-host.js';
import type { MetaPlacement } from '../metadata/layout.js';
import { AL_MAX_EXTENTS, AL_MIN_EXTENTS } from '../metadata/activity-log.js';
import { machineConfigFromDrbd } from '../protocol/config.js';
import type { WireMachineConfig } from './engine-link.js';

export interface VolumeSpec {
  readonly vnr: number;
  readonly minor: number;
  /** The configured device path (`/dev/drbd0`): becomes a symlink to the real block device on a Primary. */
  readonly device: string;
  readonly disk: string;
  readonly metaDisk: string;
  readonly placement: MetaPlacement;
  readonly alExtents: number;
}

export interface Endpoint {
  readonly host: string;
  readonly family: string;
  readonly ip: string;
  readonly port: number;
}

export type OptionValues = Readonly<Record<string, string | number | boolean>>;

export interface ResourceSpec {
  readonly name: string;
  readonly protocol: 'A' | 'B' | 'C';
  readonly me: Endpoint | { readonly host: string };
  readonly peer?: Endpoint;
  readonly volumes: readonly VolumeSpec[];
  readonly net: OptionValues;
  readonly disk: OptionValues;
  readonly options: OptionValues;
  readonly startup: OptionValues;
  readonly handlers: OptionValues;
  /** The config file, for handlers (DRBD_CONF). */
  readonly configFile: string;
  /** The replication engine's settings (protocol/config.ts), when the resource can be replicated. */
  readonly machine?: WireMachineConfig;
  /** Why the engine settings could not be made (an unknown algorithm), `FILE:LINE: message`. */
  readonly machineError?: string;
}

function values(s: OptionSection): Record<string, string | number | boolean> {
  const o: Record<string, string | number | boolean> = {};
  for (const [k, v] of s) o[k] = v.value;
  return o;
}

export const DEFAULT_AL_EXTENTS = 1237;

export function resourceSpec(config: DrbdConfig, res: Resource, me: LocalHost): ResourceSpec {
  const m = findLocalHost(config, res, me);
  const host = m.host;
  if (host === undefined) throw new HbError('DRBD_NOT_FOR_HOST', `'${res.name}' not defined in your config (for this host).`);
  const net = values(effectiveSection(config, res, 'net'));
  const disk = values(effectiveSection(config, res, 'disk'));
  const volumes: VolumeSpec[] = [];
  for (const v of [...host.volumes.values()].sort((a, b) => a.vnr - b.vnr)) {
    if (v.device === undefined || v.disk === undefined) throw new HbError('DRBD_MISSING', `${res.name}/${v.vnr}: no device or disk for this host`);
    const md = v.metaDisk ?? { kind: 'internal' as const };
    let placement: MetaPlacement;
    let metaDisk: string;
    if (md.kind === 'internal') {
      placement = { kind: 'internal' };
      metaDisk = v.disk;
    } else if (md.index !== undefined) {
      placement = { kind: 'indexed', index: md.index };
      metaDisk = md.device;
    } else {
      placement = { kind: 'external' };
      metaDisk = md.device;
    }
    const vd = values(v.diskOptions);
    let al = Number(vd['al-extents'] ?? disk['al-extents'] ?? DEFAULT_AL_EXTENTS);
    al = Math.min(AL_MAX_EXTENTS, Math.max(AL_MIN_EXTENTS, al));
    volumes.push({ vnr: v.vnr, minor: v.device.minor, device: v.device.path ?? `/dev/drbd${v.device.minor}`, disk: v.disk, metaDisk, placement, alExtents: al });
  }
  const peerHost = res.hosts.find((h) => h !== host && h.kind === 'on' && h.address !== undefined);
  const ep = (name: string, a: { family: string; ip: string; port: number }): Endpoint => ({ host: name, family: a.family, ip: a.ip, port: a.port });
  const protocol = String(net['protocol'] ?? 'C').toUpperCase();
  let machine: WireMachineConfig | undefined;
  let machineError: string | undefined;
  if (peerHost !== undefined) {
    try {
      const { random: _r, sizeBytes: _s, logPrefix: _l, ...wire } = machineConfigFromDrbd(config, res, { node: me.hostname, minor: volumes[0]?.minor ?? 0, sizeBytes: 0 });
      machine = wire;
    } catch (e) {
      // An unknown cram-hmac-alg / data-integrity-alg / verify-alg: reported by the commands that connect.
      const netS = effectiveSection(config, res, 'net');
      const opt = ['cram-hmac-alg', 'data-integrity-alg', 'verify-alg'].map((n) => netS.get(n)).find((o) => o !== undefined && (e as Error).message.includes(`'${o.text}'`));
      machineError = opt !== undefined ? `${opt.pos.file}:${opt.pos.line}: ${(e as Error).message}` : (e as Error).message;
    }
  }
  return {
    ...(machine !== undefined ? { machine } : {}),
    ...(machineError !== undefined ? { machineError } : {}),
    name: res.name,
    protocol: protocol === 'A' || protocol === 'B' ? protocol : 'C',
    me: host.address !== undefined ? ep(me.hostname, host.address) : { host: me.hostname },
    ...(peerHost !== undefined ? { peer: ep(peerHost.names[0] ?? 'peer', peerHost.address!) } : {}),
    volumes,
    net,
    disk,
    options: values(effectiveSection(config, res, 'options')),
    startup: values(effectiveSection(config, res, 'startup')),
    handlers: values(effectiveSection(config, res, 'handlers')),
    configFile: config.files[0] ?? '',
  };
}
