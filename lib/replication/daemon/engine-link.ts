/**
 * The built-in replication: one ReplicationEngine (protocol/engine.ts) per
 * single-volume resource, over TCP between the `address` endpoints, on top of
 * the attached disk's meta data (engine-ports.ts). While an engine exists it is
 * the authority for role, connection and disk states; the daemon mirrors its
 * status for /proc-drbd, `drbdadm status` and the NBD export.
 */
import { randomBytes } from 'node:crypto';
import type { MachineConfig, MachineStatus } from '../protocol/machine.js';
import { ReplicationEngine } from '../protocol/engine.js';
import { TcpTransport } from '../protocol/tcp.js';
import type { AttachedDisk } from '../metadata/store.js';
import { blockStoreOf, dirtyBitmapOf, generationStoreOf } from './engine-ports.js';
import type { Endpoint } from './spec.js';
import type { DeviceState, DiskState } from './state.js';

/** What drbdadm computes from drbd.conf (machineConfigFromDrbd) minus what only the daemon knows. */
export type WireMachineConfig = Omit<MachineConfig, 'random' | 'sizeBytes' | 'logPrefix'>;

export interface EngineLinkOptions {
  readonly machine: WireMachineConfig;
  readonly minor: number;
  readonly me: Endpoint;
  readonly peer: Endpoint;
  readonly disk: AttachedDisk;
  readonly initialDisk: DiskState;
  readonly log: { info(m: string): void; warn(m: string): void; error(m: string): void };
  readonly onChange: (s: MachineStatus) => void;
  readonly onHandler?: (name: string) => void;
}

export function startEngine(o: EngineLinkOptions): ReplicationEngine {
  const config: MachineConfig = {
    ...o.machine,
    logPrefix: `block drbd${o.minor}: `,
    sizeBytes: o.disk.sizeBytes,
    random: (n) => new Uint8Array(randomBytes(n)),
  };
  return new ReplicationEngine({
    config,
    store: blockStoreOf(o.disk),
    bitmap: dirtyBitmapOf(o.disk),
    generations: generationStoreOf(o.disk),
    transport: new TcpTransport({ local: { host: o.me.ip, port: o.me.port }, remote: { host: o.peer.ip, port: o.peer.port } }),
    log: o.log,
    initialDisk: o.initialDisk,
    onChange: o.onChange,
    ...(o.onHandler !== undefined ? { onHandler: o.onHandler } : {}),
  });
}

/** The engine's status as our device state. */
export function deviceStateOf(s: MachineStatus, susp = false): DeviceState {
  return { role: s.role, peer: s.peerRole, conn: s.conn, disk: s.disk, pdsk: s.peerDisk, susp };
}

/** drbdsetup's exit status for a refused state change (drbd-spec §2.4). */
export function exitForRv(rv: number | undefined): number {
  if (rv === -2) return 17;
  if (rv === -4 || rv === -5) return 16;
  if (rv === -16) return 5;
  return 11;
}
