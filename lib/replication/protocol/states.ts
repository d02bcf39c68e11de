/**
 * DRBD 8.4's state names (drbd-spec §4.1). The display strings are the API:
 * scripts grep them, so spelling and case are kept. The arrays are in enum
 * order, which matters: DRBD compares states with < and >.
 */

export const CONN_STATES = [
  'StandAlone',
  'Disconnecting',
  'Unconnected',
  'Timeout',
  'BrokenPipe',
  'NetworkFailure',
  'ProtocolError',
  'TearDown',
  'WFConnection',
  'WFReportParams',
  'Connected',
  'StartingSyncS',
  'StartingSyncT',
  'WFBitMapS',
  'WFBitMapT',
  'WFSyncUUID',
  'SyncSource',
  'SyncTarget',
  'VerifyS',
  'VerifyT',
  'PausedSyncS',
  'PausedSyncT',
  'Ahead',
  'Behind',
] as const;
export type ConnState = (typeof CONN_STATES)[number];

export const DISK_STATES = [
  'Diskless',
  'Attaching',
  'Failed',
  'Negotiating',
  'Inconsistent',
  'Outdated',
  'DUnknown',
  'Consistent',
  'UpToDate',
] as const;
export type DiskState = (typeof DISK_STATES)[number];

export const ROLES = ['Unknown', 'Primary', 'Secondary'] as const;
export type Role = (typeof ROLES)[number];

export const connRank = (s: ConnState): number => CONN_STATES.indexOf(s);
export const diskRank = (s: DiskState): number => DISK_STATES.indexOf(s);

/** Connected or any resync/verify/bitmap phase: writes are replicated. */
export const isConnected = (s: ConnState): boolean => connRank(s) >= connRank('Connected');
export const isSyncing = (s: ConnState): boolean =>
  s === 'SyncSource' || s === 'SyncTarget' || s === 'PausedSyncS' || s === 'PausedSyncT';
export const isSyncSourceSide = (s: ConnState): boolean =>
  s === 'SyncSource' || s === 'PausedSyncS' || s === 'WFBitMapS' || s === 'StartingSyncS';
export const isSyncTargetSide = (s: ConnState): boolean =>
  s === 'SyncTarget' || s === 'PausedSyncT' || s === 'WFBitMapT' || s === 'StartingSyncT' || s === 'WFSyncUUID';

export type ReplicationProtocol = 'A' | 'B' | 'C';

export const AFTER_SB_0PRI = [
  'disconnect',
  'discard-younger-primary',
  'discard-older-primary',
  'discard-zero-changes',
  'discard-least-changes',
  'discard-local',
  'discard-remote',
] as const;
export type AfterSb0 = (typeof AFTER_SB_0PRI)[number];
export const AFTER_SB_1PRI = ['disconnect', 'consensus', 'violently-as0p', 'discard-secondary', 'call-pri-lost-after-sb'] as const;
export type AfterSb1 = (typeof AFTER_SB_1PRI)[number];
export const AFTER_SB_2PRI = ['disconnect', 'violently-as0p', 'call-pri-lost-after-sb'] as const;
export type AfterSb2 = (typeof AFTER_SB_2PRI)[number];
export const RR_CONFLICT = ['disconnect', 'call-pri-lost', 'violently'] as const;
export type RrConflict = (typeof RR_CONFLICT)[number];
