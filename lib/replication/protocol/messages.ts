/**
 * The messages of our replication protocol (docs/replication-protocol.md).
 * One TCP connection per resource carries all of them; each is one frame:
 * a 12-byte header (magic, type, flags, body length) and a body.
 */
import type { AfterSb0, AfterSb1, AfterSb2, DiskState, ReplicationProtocol, Role } from './states.js';

/** "HBRP": heartbeat-ts replication protocol. */
export const FRAME_MAGIC = 0x48425250;
export const HEADER_BYTES = 12;
/** Largest data payload in one message; the engine splits larger writes. */
export const MAX_DATA_BYTES = 1 << 20;
/** Largest body: a full data block plus its fixed fields and the largest digest. */
export const MAX_FRAME_BODY = MAX_DATA_BYTES + 256;
/** Largest run-length-encoded bitmap chunk. */
export const MAX_BITMAP_CHUNK = 64 * 1024;
export const MAX_STRING_BYTES = 255;
export const MAX_DIGEST_BYTES = 64;
export const CHALLENGE_BYTES = 64;
/** Our protocol versions; the handshake agrees on min(max_a, max_b) if the ranges overlap. */
export const PROTOCOL_VERSION_MIN = 1;
export const PROTOCOL_VERSION_MAX = 1;
export const SECTOR = 512;

export const MSG_TYPES = {
  hello: 1,
  authChallenge: 2,
  authResponse: 3,
  reportParams: 4,
  state: 5,
  syncUuid: 6,
  bitmap: 7,
  data: 8,
  recvAck: 9,
  writeAck: 10,
  negAck: 11,
  barrier: 12,
  barrierAck: 13,
  ping: 14,
  pingAck: 15,
  rsRequest: 16,
  rsReply: 17,
  rsWriteAck: 18,
  rsNegAck: 19,
  ovRequest: 20,
  ovReply: 21,
  startSync: 22,
  resyncDone: 23,
  verifyStart: 24,
  verifyDone: 25,
  disconnect: 26,
} as const;
export type MsgType = keyof typeof MSG_TYPES;

export interface Uuids {
  readonly current: bigint;
  readonly bitmap: bigint;
  readonly history1: bigint;
  readonly history2: bigint;
}

/** UUID flags sent with the UUIDs (DRBD's P_UUIDS flags). */
export const UUID_FLAG_DISCARD_MY_DATA = 1;
export const UUID_FLAG_CRASHED_PRIMARY = 2;
export const UUID_FLAG_INCONSISTENT = 4;

export interface HelloMsg {
  readonly type: 'hello';
  readonly versionMin: number;
  readonly versionMax: number;
  /** The sender's node identity: its host name as in the `on` section. */
  readonly node: string;
  /** cram-hmac-alg, empty when not configured. */
  readonly authAlg: string;
}

export interface AuthChallengeMsg {
  readonly type: 'authChallenge';
  readonly challenge: Uint8Array;
}

export interface AuthResponseMsg {
  readonly type: 'authResponse';
  readonly response: Uint8Array;
}

/** Everything the peers must agree on or compare, in one message (DRBD's P_PROTOCOL, P_SIZES, P_UUIDS, P_STATE). */
export interface ReportParamsMsg {
  readonly type: 'reportParams';
  readonly protocol: ReplicationProtocol;
  readonly afterSb0: AfterSb0;
  readonly afterSb1: AfterSb1;
  readonly afterSb2: AfterSb2;
  readonly allowTwoPrimaries: boolean;
  readonly dataIntegrityAlg: string;
  readonly verifyAlg: string;
  /** Usable size of the sender's backing store, bytes (a multiple of 512). */
  readonly sizeBytes: number;
  readonly uuids: Uuids;
  readonly uuidFlags: number;
  /** Bits set in the sender's bitmap (discard-least-changes). */
  readonly bitsSet: number;
  readonly role: Role;
  readonly disk: DiskState;
}

export interface StateMsg {
  readonly type: 'state';
  readonly role: Role;
  readonly disk: DiskState;
  readonly userPause: boolean;
  /** The sender's UUIDs now (a Primary may have started a new generation). */
  readonly uuids: Uuids;
  readonly uuidFlags: number;
}

/** The source's UUIDs once it set its new bitmap UUID (the sync UUID) at the start of a resync. */
export interface SyncUuidMsg {
  readonly type: 'syncUuid';
  readonly uuids: Uuids;
}

export interface BitmapMsg {
  readonly type: 'bitmap';
  /** First bit (4 KiB block) this chunk covers. */
  readonly startBit: number;
  /** Bits in this chunk. */
  readonly bits: number;
  readonly last: boolean;
  /** Run lengths, varint-coded, alternating clear/set, starting with clear (rle.ts). */
  readonly rle: Uint8Array;
}

export const DATA_FLAG_FUA = 1;

export interface DataMsg {
  readonly type: 'data';
  readonly seq: number;
  readonly offset: number;
  readonly fua: boolean;
  /** data-integrity-alg digest of the payload; empty when not configured. */
  readonly digest: Uint8Array;
  readonly payload: Uint8Array;
}

export interface SeqMsg<T extends 'recvAck' | 'writeAck' | 'negAck'> {
  readonly type: T;
  readonly seq: number;
}

export interface BarrierMsg<T extends 'barrier' | 'barrierAck'> {
  readonly type: T;
  readonly nr: number;
}

export interface EmptyMsg<T extends 'ping' | 'pingAck' | 'resyncDone' | 'verifyDone'> {
  readonly type: T;
}

export interface RangeMsg<T extends 'rsRequest' | 'rsWriteAck' | 'rsNegAck' | 'ovRequest'> {
  readonly type: T;
  readonly id: number;
  readonly offset: number;
  readonly length: number;
}

export interface RsReplyMsg {
  readonly type: 'rsReply';
  readonly id: number;
  readonly offset: number;
  readonly digest: Uint8Array;
  readonly payload: Uint8Array;
}

export interface OvReplyMsg {
  readonly type: 'ovReply';
  readonly id: number;
  readonly offset: number;
  readonly length: number;
  readonly digest: Uint8Array;
}

export interface StartSyncMsg {
  readonly type: 'startSync';
  /** What the *sender* becomes; the receiver becomes the other side. */
  readonly senderIsSource: boolean;
  /** Set every bit first (invalidate, forced primary over an Inconsistent peer). */
  readonly full: boolean;
}

export interface VerifyStartMsg {
  readonly type: 'verifyStart';
  readonly start: number;
  readonly stop: number;
}

export interface DisconnectMsg {
  readonly type: 'disconnect';
  readonly reason: string;
}

export type Message =
  | HelloMsg
  | AuthChallengeMsg
  | AuthResponseMsg
  | ReportParamsMsg
  | StateMsg
  | SyncUuidMsg
  | BitmapMsg
  | DataMsg
  | SeqMsg<'recvAck'>
  | SeqMsg<'writeAck'>
  | SeqMsg<'negAck'>
  | BarrierMsg<'barrier'>
  | BarrierMsg<'barrierAck'>
  | EmptyMsg<'ping'>
  | EmptyMsg<'pingAck'>
  | EmptyMsg<'resyncDone'>
  | EmptyMsg<'verifyDone'>
  | RangeMsg<'rsRequest'>
  | RangeMsg<'rsWriteAck'>
  | RangeMsg<'rsNegAck'>
  | RangeMsg<'ovRequest'>
  | RsReplyMsg
  | OvReplyMsg
  | StartSyncMsg
  | VerifyStartMsg
  | DisconnectMsg;
