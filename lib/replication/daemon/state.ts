/**
 * Roles, connection and disk states and the checks `primary`, `secondary`,
 * `detach`, `outdate` and `invalidate` make (drbd-spec §4.1, §4.3, §4.4). Pure.
 */
import { MDF } from '../metadata/superblock.js';

export type Role = 'Primary' | 'Secondary' | 'Unknown';

/** 8.x connection states in enum order (DRBD compares them with < and >). */
export const CONN_STATES = [
  'StandAlone', 'Disconnecting', 'Unconnected', 'Timeout', 'BrokenPipe', 'NetworkFailure', 'ProtocolError', 'TearDown',
  'WFConnection', 'WFReportParams', 'Connected', 'StartingSyncS', 'StartingSyncT', 'WFBitMapS', 'WFBitMapT', 'WFSyncUUID',
  'SyncSource', 'SyncTarget', 'VerifyS', 'VerifyT', 'PausedSyncS', 'PausedSyncT', 'Ahead', 'Behind',
] as const;
export type ConnState = (typeof CONN_STATES)[number];

export const DISK_STATES = ['Diskless', 'Attaching', 'Failed', 'Negotiating', 'Inconsistent', 'Outdated', 'DUnknown', 'Consistent', 'UpToDate'] as const;
export type DiskState = (typeof DISK_STATES)[number];

export const connRank = (c: ConnState): number => CONN_STATES.indexOf(c);
export const diskRank = (d: DiskState): number => DISK_STATES.indexOf(d);
export const isConnected = (c: ConnState): boolean => connRank(c) >= connRank('Connected');
export const isSyncing = (c: ConnState): boolean => ['SyncSource', 'SyncTarget', 'PausedSyncS', 'PausedSyncT', 'VerifyS', 'VerifyT'].includes(c);

export interface DeviceState {
  readonly role: Role;
  readonly peer: Role;
  readonly conn: ConnState;
  readonly disk: DiskState;
  readonly pdsk: DiskState;
  readonly susp: boolean;
}

export const UNCONFIGURED: DeviceState = { role: 'Secondary', peer: 'Unknown', conn: 'StandAlone', disk: 'Diskless', pdsk: 'DUnknown', susp: false };

/** The disk state a freshly attached, not yet connected device shows, from its meta-data flags. */
export function diskStateFromFlags(flags: number): DiskState {
  if ((flags & MDF.Consistent) === 0) return 'Inconsistent';
  if ((flags & MDF.WasUpToDate) === 0) return 'Outdated';
  return 'Consistent';
}

/** Meta-data flags that record a disk state (the rest are kept). */
export function flagsForDiskState(flags: number, disk: DiskState): number {
  const base = flags & ~(MDF.Consistent | MDF.WasUpToDate);
  switch (disk) {
    case 'UpToDate':
    case 'Consistent':
      return base | MDF.Consistent | MDF.WasUpToDate;
    case 'Outdated':
      return base | MDF.Consistent;
    default:
      return base;
  }
}

/** A refused state change: DRBD's numeric code and text, and drbdsetup's exit status. */
export interface Refusal {
  readonly rv: number;
  readonly text: string;
  readonly exit: number;
}

export const SS = {
  TWO_PRIMARIES: { rv: -1, text: 'Multiple primaries not allowed by config', exit: 11 },
  NO_UP_TO_DATE_DISK: { rv: -2, text: 'Need access to UpToDate data', exit: 17 },
  NO_LOCAL_DISK: { rv: -4, text: 'Can not resync without local disk', exit: 16 },
  DEVICE_IN_USE: { rv: -12, text: 'Device is held open by someone', exit: 11 },
  NEED_CONNECTION: { rv: -15, text: 'Need a connection to start verify or resync', exit: 11 },
  LOWER_THAN_OUTDATED: { rv: -16, text: 'Disk state is lower than outdated', exit: 5 },
  OUTDATE_WHILE_CONNECTED: { rv: -6, text: 'Refusing to be Outdated while Connected', exit: 11 },
  IS_DISKLESS: { rv: -11, text: 'Device is diskless, the requested operation requires a disk', exit: 11 },
} as const satisfies Record<string, Refusal>;

export interface PrimaryOptions {
  readonly force: boolean;
  readonly allowTwoPrimaries: boolean;
  /** fencing other than dont-care: a Consistent disconnected node would need fence-peer first. */
  readonly fencing: boolean;
}

export type PromoteVerdict =
  | { readonly ok: true; readonly disk: DiskState; readonly forced: boolean }
  | { readonly ok: false; readonly refusal: Refusal };

/** drbd_set_role for Primary, without the peer-side steps (ping, fence-peer) that need the replication link. */
export function checkPromote(s: DeviceState, o: PrimaryOptions): PromoteVerdict {
  if (s.role === 'Primary') return { ok: true, disk: s.disk, forced: false };
  if (s.peer === 'Primary' && !o.allowTwoPrimaries) return { ok: false, refusal: SS.TWO_PRIMARIES };
  const connected = isConnected(s.conn);
  if (s.disk === 'UpToDate') return { ok: true, disk: s.disk, forced: false };
  if (s.disk === 'Diskless') {
    if (connected && s.pdsk === 'UpToDate') return { ok: true, disk: s.disk, forced: false };
    return { ok: false, refusal: SS.NO_UP_TO_DATE_DISK };
  }
  // Consistent, disconnected: with fencing dont-care DRBD takes the data as UpToDate.
  if (s.disk === 'Consistent' && !connected && !o.fencing) return { ok: true, disk: 'UpToDate', forced: false };
  if (connected && s.pdsk === 'UpToDate') return { ok: true, disk: s.disk, forced: false };
  if (o.force && (s.disk === 'Inconsistent' || s.disk === 'Outdated' || s.disk === 'Consistent')) return { ok: true, disk: 'UpToDate', forced: true };
  return { ok: false, refusal: SS.NO_UP_TO_DATE_DISK };
}

/** `secondary`: refused while the device is open. */
export function checkDemote(heldOpen: boolean): Refusal | undefined {
  return heldOpen ? SS.DEVICE_IN_USE : undefined;
}

/** `detach`: a disconnected Primary would lose its only UpToDate data. */
export function checkDetach(s: DeviceState): Refusal | undefined {
  if (s.role === 'Primary' && !(isConnected(s.conn) && s.pdsk === 'UpToDate')) return SS.NO_UP_TO_DATE_DISK;
  return undefined;
}

export function checkOutdate(s: DeviceState): Refusal | undefined {
  if (s.disk === 'Diskless') return SS.IS_DISKLESS;
  if (isConnected(s.conn)) return SS.OUTDATE_WHILE_CONNECTED;
  if (diskRank(s.disk) < diskRank('Outdated')) return SS.LOWER_THAN_OUTDATED;
  if (s.role === 'Primary') return SS.NO_UP_TO_DATE_DISK;
  return undefined;
}

/** `invalidate` on a disconnected node: allowed for a Secondary with a disk. */
export function checkInvalidate(s: DeviceState): Refusal | undefined {
  if (s.disk === 'Diskless') return SS.NO_LOCAL_DISK;
  if (isConnected(s.conn)) return undefined;
  if (s.role === 'Primary') return SS.NO_UP_TO_DATE_DISK;
  return undefined;
}

/** Automatic implications after every change (sanitize_state): not connected ⇒ peer Unknown/DUnknown. */
export function sanitize(s: DeviceState): DeviceState {
  if (!isConnected(s.conn)) return { ...s, peer: 'Unknown', pdsk: 'DUnknown' };
  return s;
}
