/**
 * The seam between the local device (this session's daemon) and the replication
 * protocol (lib/replication/protocol/). The daemon owns roles, disks, meta data and
 * the NBD export; a Peer owns the TCP link to the other node. See
 * docs/architecture.md, "Replication hooks".
 */
import type { AttachedDisk } from '../metadata/store.js';
import type { ResourceSpec } from './spec.js';
import type { ConnState, DeviceState, DiskState, Role } from './state.js';

/** What the daemon lets a Peer see and change of one volume. */
export interface LocalVolume {
  readonly vnr: number;
  readonly minor: number;
  /** Undefined while Diskless. */
  readonly disk: AttachedDisk | undefined;
  state(): DeviceState;
}

/** Calls a Peer makes into the daemon. */
export interface PeerHost {
  readonly spec: ResourceSpec;
  readonly volumes: readonly LocalVolume[];
  /** Connection-wide state change (logged as `conn( A -> B )` etc.); the daemon sanitizes and records it. */
  setConn(conn: ConnState, change?: { peer?: Role; pdsk?: DiskState }): void;
  /** Per-volume state change from the protocol (resync start/end, peer disk). */
  setVolumeState(vnr: number, change: Partial<Pick<DeviceState, 'disk' | 'pdsk' | 'peer' | 'conn'>>): void;
  /** Kernel-style log line (already prefixed by the caller or not: the daemon adds `block drbdN: ` when `minor` is given). */
  log(priority: 'info' | 'warn' | 'error', msg: string, minor?: number): void;
  /** Counters for /proc/drbd: KiB sent/received, requests pending/unacked. */
  count(vnr: number, field: 'ns' | 'nr' | 'pe' | 'ua', delta: number): void;
  /** Resync progress for /proc/drbd (KiB). */
  setSync(vnr: number, p: { leftKiB: number; totalKiB: number; speedKiB: number; avgKiB: number; etaSec: number } | undefined): void;
}

export type ReplicateResult = 'acked' | 'not-replicated';

export interface Peer {
  /** Start listening/dialing (cstate goes WFConnection and on). */
  connect(): void;
  /** Graceful disconnect (→ StandAlone). */
  disconnect(): Promise<void>;
  /**
   * Replicate a local write. Resolves at the protocol's ack point (A: handed to the
   * socket, B: received by the peer, C: written on the peer). 'not-replicated' when
   * there is no usable connection: the daemon then sets the bitmap bits.
   */
  replicateWrite(vnr: number, offset: number, data: Uint8Array, fua: boolean): Promise<ReplicateResult>;
  /** Flush on the peer too (NBD FLUSH, and FUA in protocol C). */
  flush(vnr: number): Promise<void>;
  /** Trim / write-zeroes are replicated as zero writes by default. */
  replicateZeroes?(vnr: number, offset: number, length: number, fua: boolean): Promise<ReplicateResult>;
  /** The local role changed (promotion / demotion must reach the peer). */
  roleChanged?(role: Role): void;
  /** Admin commands that need the peer. */
  invalidateRemote?(vnr: number): Promise<void>;
}

export type PeerFactory = (host: PeerHost) => Peer;

/** Without a replication module: `connect` just waits (WFConnection), writes go to the bitmap. */
export const standalonePeerFactory: PeerFactory = (host) => ({
  connect() {
    host.setConn('Unconnected');
    host.setConn('WFConnection');
  },
  async disconnect() {
    host.setConn('Disconnecting');
    host.setConn('StandAlone');
  },
  async replicateWrite() {
    return 'not-replicated';
  },
  async flush() {},
});

let factory: PeerFactory = standalonePeerFactory;

/** The replication module registers its factory here at daemon start-up. */
export function setPeerFactory(f: PeerFactory): void {
  factory = f;
}

export function peerFactory(): PeerFactory {
  return factory;
}
