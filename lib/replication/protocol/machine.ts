/**
 * The replication state machine of one resource, in the etcd-io/raft style:
 * no I/O and no clock. The engine feeds it events stamped with a monotonic
 * time in ms (messages, channel open/close, local I/O completions, ticks,
 * admin requests) and carries out the actions it returns (send a message,
 * dial, write or read the local store, complete an application request,
 * persist the generation UUIDs, run a handler, log a line), then arms one
 * timer for `nextDeadline()`.
 *
 * States, transitions and log lines follow DRBD 8.4 (drbd-spec §4, §5); the
 * wire is our own (docs/replication-protocol.md).
 */
import { drbdStateChangeText, type DrbdStateChange } from '../../shared/log/drbd-format.js';
import { bytesEqual, digest, hmac, type DigestAlg, type HmacAlg } from './digest.js';
import { ReplError, ReplErrorCode } from './errors.js';
import {
  CHALLENGE_BYTES,
  MAX_DATA_BYTES,
  PROTOCOL_VERSION_MAX,
  PROTOCOL_VERSION_MIN,
  UUID_FLAG_CRASHED_PRIMARY,
  UUID_FLAG_DISCARD_MY_DATA,
  UUID_FLAG_INCONSISTENT,
  type BitmapMsg,
  type Message,
  type ReportParamsMsg,
  type Uuids,
} from './messages.js';
import { BLOCK_BYTES, type DirtyBitmap, type Generation, type GenerationFlags } from './ports.js';
import { decodeBitmapChunk, encodeBitmap } from './rle.js';
import {
  diskRank,
  isConnected,
  isSyncing,
  type AfterSb0,
  type AfterSb1,
  type AfterSb2,
  type ConnState,
  type DiskState,
  type ReplicationProtocol,
  type Role,
  type RrConflict,
} from './states.js';
import { UUID_JUST_CREATED, UUID_NEW_BM_OFFSET, syncHandshake, uuidLine } from './sync-decision.js';
import { TokenBucket } from './token-bucket.js';

export interface MachineConfig {
  /** This node's name (the `on` section), its identity in the handshake. */
  readonly node: string;
  /** Prefix of every log line, e.g. `block drbd0: `. */
  readonly logPrefix: string;
  readonly protocol: ReplicationProtocol;
  readonly afterSb0: AfterSb0;
  readonly afterSb1: AfterSb1;
  readonly afterSb2: AfterSb2;
  readonly rrConflict: RrConflict;
  readonly alwaysAsbp: boolean;
  readonly allowTwoPrimaries: boolean;
  readonly cramHmacAlg?: HmacAlg;
  readonly sharedSecret?: string;
  readonly dataIntegrityAlg?: DigestAlg;
  readonly verifyAlg?: DigestAlg;
  /** `timeout`, ms (drbd.conf: tenths of a second). */
  readonly timeoutMs: number;
  readonly connectIntMs: number;
  readonly pingIntMs: number;
  readonly pingTimeoutMs: number;
  /** 0 disables. */
  readonly koCount: number;
  /** resync-rate in bytes per second. */
  readonly resyncRateBytesPerSec: number;
  /** max-buffers (4 KiB pages); resync requests in flight are limited to max-buffers / 2 blocks. */
  readonly maxBuffers: number;
  /** The local store's usable size in bytes. */
  readonly sizeBytes: number;
  /** Random bytes (challenges, UUIDs); injected so tests are deterministic. */
  readonly random: (n: number) => Uint8Array;
}

export type LogLevel = 'info' | 'warn' | 'error';
export type IoOrigin = 'app' | 'peer' | 'resync' | 'verify' | 'barrier';

export type Action =
  | { readonly type: 'send'; readonly ch: number; readonly msg: Message }
  | { readonly type: 'closeChannel'; readonly ch: number }
  | { readonly type: 'dial' }
  | { readonly type: 'log'; readonly level: LogLevel; readonly msg: string }
  | { readonly type: 'writeLocal'; readonly op: number; readonly offset: number; readonly data: Uint8Array; readonly fua: boolean; readonly origin: IoOrigin }
  | { readonly type: 'readLocal'; readonly op: number; readonly offset: number; readonly length: number; readonly origin: IoOrigin }
  | { readonly type: 'flushLocal'; readonly op: number; readonly origin: IoOrigin }
  | { readonly type: 'complete'; readonly req: number; readonly error?: ReplError }
  | { readonly type: 'saveGeneration'; readonly generation: Generation }
  | { readonly type: 'handler'; readonly name: string };

export type MachineEvent =
  | { readonly type: 'tick' }
  | { readonly type: 'channelOpen'; readonly ch: number; readonly outbound: boolean }
  | { readonly type: 'channelClosed'; readonly ch: number; readonly reason: string }
  | { readonly type: 'message'; readonly ch: number; readonly msg: Message }
  | { readonly type: 'decodeError'; readonly ch: number; readonly error: ReplError }
  | { readonly type: 'write'; readonly req: number; readonly offset: number; readonly data: Uint8Array; readonly fua: boolean }
  | { readonly type: 'flush'; readonly req: number }
  | { readonly type: 'localDone'; readonly op: number; readonly ok: boolean; readonly data?: Uint8Array };

/** What drbdsetup prints for a refused state change (drbd-spec §4.3). */
export interface StateChangeResult {
  readonly ok: boolean;
  /** DRBD's drbd_state_rv, e.g. -2. */
  readonly rv?: number;
  readonly message?: string;
}

export interface Counters {
  /** Bytes sent to / received from the peer (data and resync), DRBD's ns/nr in bytes. */
  netSent: number;
  netReceived: number;
  /** Bytes written to / read from the local store (dw/dr). */
  diskWritten: number;
  diskRead: number;
  /** Resync payload bytes sent (as source) and received (as target). */
  resyncSent: number;
  resyncReceived: number;
  /** Frames dropped as undecodable. */
  badFrames: number;
}

export interface ResyncProgress {
  /** Bits dirty when the resync (or verify) began, and still dirty (or still to verify). */
  readonly totalBits: number;
  readonly leftBits: number;
  readonly startedAt: number;
  readonly pausedMs: number;
}

export interface MachineStatus {
  readonly conn: ConnState;
  readonly role: Role;
  readonly peerRole: Role;
  readonly disk: DiskState;
  readonly peerDisk: DiskState;
  readonly peerNode: string | undefined;
  readonly protocol: ReplicationProtocol;
  readonly generation: Generation;
  readonly userPause: boolean;
  readonly peerUserPause: boolean;
  readonly outOfSyncBits: number;
  readonly resync: ResyncProgress | undefined;
  /** min(local, peer) once connected, else the local size. */
  readonly agreedSizeBytes: number;
  /** Requests waiting for the peer (DRBD's ap/pe). */
  readonly pendingPeer: number;
  readonly counters: Readonly<Counters>;
}

interface AppWrite {
  readonly req: number;
  readonly seq: number;
  readonly offset: number;
  readonly length: number;
  readonly fua: boolean;
  localDone: boolean;
  localOk: boolean;
  /** Sent to the peer and waiting for its ack (the transfer log). */
  inTransferLog: boolean;
  /** Completion waits for the peer. */
  waitPeer: boolean;
  sentAt: number;
  completed: boolean;
}

interface AppFlush {
  readonly req: number;
  localDone: boolean;
  localOk: boolean;
  barrier: number | undefined;
}

type Op =
  | { readonly kind: 'app'; readonly seq: number }
  | { readonly kind: 'appFlush'; readonly req: number }
  | { readonly kind: 'peerData'; readonly seq: number; readonly offset: number; readonly length: number; readonly gen: number }
  | { readonly kind: 'barrier'; readonly nr: number; readonly gen: number }
  | { readonly kind: 'rsRead'; readonly id: number; readonly offset: number; readonly length: number; readonly gen: number }
  | { readonly kind: 'rsWrite'; readonly id: number; readonly offset: number; readonly length: number; readonly gen: number }
  | { readonly kind: 'ovRead'; readonly id: number; readonly offset: number; readonly length: number; readonly gen: number; readonly source: boolean };

type Phase = 'none' | 'hello' | 'auth' | 'params' | 'done';

/** Refuses a configuration the machine could not run with (at construction, never mid-protocol). */
export function checkMachineConfig(cfg: MachineConfig): void {
  const positive: (keyof MachineConfig)[] = ['timeoutMs', 'connectIntMs', 'pingIntMs', 'pingTimeoutMs', 'resyncRateBytesPerSec', 'maxBuffers'];
  for (const k of positive) {
    const v = cfg[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ReplError(ReplErrorCode.BadField, `${k} must be a positive number, not ${String(v)}`);
  }
  if (!Number.isSafeInteger(cfg.koCount) || cfg.koCount < 0) throw new ReplError(ReplErrorCode.BadField, `koCount must be a non-negative integer`);
  if (!Number.isSafeInteger(cfg.sizeBytes) || cfg.sizeBytes < 0 || cfg.sizeBytes % 512 !== 0) throw new ReplError(ReplErrorCode.BadField, `size ${cfg.sizeBytes} must be a multiple of 512`);
  if (cfg.node === '' || new TextEncoder().encode(cfg.node).length > 255) throw new ReplError(ReplErrorCode.BadField, 'node name must be 1..255 bytes');
  if (cfg.cramHmacAlg !== undefined && new TextEncoder().encode(cfg.sharedSecret ?? '').length > 64) {
    throw new ReplError(ReplErrorCode.BadField, 'shared-secret is longer than 64 bytes');
  }
}

const U64 = (1n << 64n) - 1n;
const sectors = (bytes: number): number => bytes / 512;
/** Largest resync request: 1 MiB (one data message), when the rate allows it. */
const RS_MAX_BLOCKS = MAX_DATA_BYTES / BLOCK_BYTES;

function randomU64(random: (n: number) => Uint8Array): bigint {
  const b = random(8);
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(b[i] ?? 0);
  return v & U64;
}

export class ReplicationMachine {
  private now = 0;
  private out: Action[] = [];

  private conn: ConnState = 'StandAlone';
  private role: Role = 'Secondary';
  private peerRole: Role = 'Unknown';
  private disk: DiskState;
  private peerDisk: DiskState = 'DUnknown';
  private gen: Generation;
  private userPause = false;
  private peerUserPause = false;
  private discardMyData = false;
  /** drbdd tells us when the device is open (mounted): `secondary` is then refused. */
  deviceInUse = false;

  // connection
  private channel: number | undefined;
  private channelOutbound = false;
  private readonly pending = new Map<number, { outbound: boolean; openedAt: number }>();
  private phase: Phase = 'none';
  private peerNode: string | undefined;
  private agreedVersion = 0;
  private myChallenge: Uint8Array | undefined;
  private authOk = false;
  private sentParams: ReportParamsMsg | undefined;
  private peerParams: ReportParamsMsg | undefined;
  private peerUuids: Uuids | undefined;
  private peerUuidFlags = 0;
  private phaseStartedAt = 0;
  private nextDialAt: number | undefined;
  private lastRecvAt = 0;
  private pingSentAt: number | undefined;
  /** Bumped on every connection loss, so completions of the old connection's work send nothing. */
  private connGen = 0;

  // write path
  private nextSeq = 1;
  private readonly writes = new Map<number, AppWrite>();
  private readonly flushes = new Map<number, AppFlush>();
  private nextBarrier = 1;
  private readonly barrierWaiters = new Map<number, number>();
  private koLeft = 0;
  private koCheckAt: number | undefined;

  // local I/O
  private nextOp = 1;
  private readonly ops = new Map<number, Op>();

  // bitmap exchange and resync
  private bmSent = false;
  private bmReceived = false;
  private syncSource = false;
  private syncUuid: bigint | undefined;
  private bucket: TokenBucket | undefined;
  private rsCursor = 0;
  private nextRsId = 1;
  private readonly rsInFlight = new Map<number, { offset: number; length: number }>();
  private resync: { totalBits: number; startedAt: number; pausedMs: number; pausedSince: number | undefined; verify: boolean } | undefined;
  // online verify (source side)
  private ovCursor = 0;
  private ovStop = 0;
  private ovFound = 0;
  private readonly ovPending = new Map<number, { offset: number; length: number; mine?: Uint8Array; theirs?: Uint8Array }>();
  private ovTotalBlocks = 0;
  private ovDoneBlocks = 0;
  private lastOos: { start: number; end: number } | undefined;

  readonly counters: Counters = { netSent: 0, netReceived: 0, diskWritten: 0, diskRead: 0, resyncSent: 0, resyncReceived: 0, badFrames: 0 };

  constructor(
    private cfg: MachineConfig,
    private readonly bitmap: DirtyBitmap,
    generation: Generation,
    disk: DiskState,
  ) {
    this.gen = generation;
    this.disk = disk;
    checkMachineConfig(cfg);
  }

  // ---------------------------------------------------------------- queries

  status(): MachineStatus {
    return {
      conn: this.conn,
      role: this.role,
      peerRole: this.peerRole,
      disk: this.disk,
      peerDisk: this.peerDisk,
      peerNode: this.peerNode,
      protocol: this.cfg.protocol,
      generation: this.gen,
      userPause: this.userPause,
      peerUserPause: this.peerUserPause,
      outOfSyncBits: this.bitmap.countDirty(),
      resync: this.resync && {
        totalBits: this.resync.totalBits,
        leftBits: this.resync.verify ? Math.max(0, this.ovTotalBlocks - this.ovDoneBlocks) : this.bitmap.countDirty(),
        startedAt: this.resync.startedAt,
        pausedMs: this.resync.pausedMs + (this.resync.pausedSince !== undefined ? this.now - this.resync.pausedSince : 0),
      },
      agreedSizeBytes: this.peerParams && this.phase === 'done' ? Math.min(this.cfg.sizeBytes, this.peerParams.sizeBytes) : this.cfg.sizeBytes,
      pendingPeer: [...this.writes.values()].filter((w) => w.waitPeer && w.inTransferLog).length,
      counters: { ...this.counters },
    };
  }

  /** The earliest time the machine wants a tick, or undefined. */
  nextDeadline(): number | undefined {
    const ds: number[] = [];
    if (this.conn === 'WFConnection' && this.nextDialAt !== undefined) ds.push(this.nextDialAt);
    for (const p of this.pending.values()) ds.push(p.openedAt + this.cfg.timeoutMs);
    if (this.channel !== undefined) {
      if (this.phase !== 'done') ds.push(this.phaseStartedAt + this.cfg.timeoutMs);
      if (this.pingSentAt !== undefined) ds.push(this.pingSentAt + this.cfg.pingTimeoutMs);
      else ds.push(this.lastRecvAt + this.cfg.pingIntMs);
    }
    if (this.koCheckAt !== undefined) ds.push(this.koCheckAt);
    const rs = this.rsDeadline();
    if (rs !== undefined) ds.push(rs);
    return ds.length === 0 ? undefined : Math.min(...ds);
  }

  // ---------------------------------------------------------------- admin

  /** `drbdadm connect` / `up`: StandAlone -> Unconnected -> WFConnection. */
  connect(now: number, opts: { discardMyData?: boolean } = {}): Action[] {
    this.now = now;
    if (this.conn === 'StandAlone') {
      this.discardMyData = opts.discardMyData ?? false;
      this.setConn('Unconnected');
      this.enterWfConnection();
    }
    return this.flush();
  }

  /** `drbdadm disconnect`: -> Disconnecting -> StandAlone. */
  disconnect(now: number): Action[] {
    this.now = now;
    if (this.conn !== 'StandAlone') {
      if (this.channel !== undefined && this.phase === 'done') this.send({ type: 'disconnect', reason: 'admin' });
      this.dropConnection('Disconnecting', false);
      this.setConn('StandAlone');
    }
    return this.flush();
  }

  setRole(now: number, role: 'Primary' | 'Secondary', opts: { force?: boolean } = {}): { actions: Action[]; result: StateChangeResult } {
    this.now = now;
    const result = role === 'Primary' ? this.promote(opts.force ?? false) : this.demote();
    return { actions: this.flush(), result };
  }

  /** `drbdadm outdate`. */
  outdate(now: number): { actions: Action[]; result: StateChangeResult } {
    this.now = now;
    let result: StateChangeResult;
    if (isConnected(this.conn)) result = { ok: false, rv: -6, message: 'Refusing to be Outdated while Connected' };
    else if (diskRank(this.disk) < diskRank('Outdated')) result = { ok: false, rv: -16, message: 'Disk state is lower than outdated' };
    else if (this.role === 'Primary') result = { ok: false, rv: -2, message: 'Need access to UpToDate data' };
    else {
      this.setStates({ disk: 'Outdated' });
      this.saveGen({ ...this.gen.flags, wasUpToDate: false });
      result = { ok: true };
    }
    return { actions: this.flush(), result };
  }

  /** invalidate (become target of a full sync) / invalidate-remote (become its source). */
  invalidate(now: number, remote: boolean): { actions: Action[]; result: StateChangeResult } {
    this.now = now;
    let result: StateChangeResult = { ok: true };
    if (this.conn !== 'Connected' || this.phase !== 'done') {
      if (!remote && !isConnected(this.conn) && this.role === 'Secondary') {
        // A disconnected Secondary: mark everything; the next connect syncs from the peer.
        this.bitmap.mark(0, this.bitmap.blocks);
        this.setStates({ disk: 'Inconsistent' });
        this.saveGen({ ...this.gen.flags, consistent: false, wasUpToDate: false });
      } else result = { ok: false, rv: -15, message: 'Need a connection to start verify or resync' };
    } else if (!remote && this.peerDisk !== 'UpToDate') result = { ok: false, rv: -2, message: 'Need access to UpToDate data' };
    else if (remote && this.disk !== 'UpToDate') result = { ok: false, rv: -2, message: 'Need access to UpToDate data' };
    else if (!remote && this.role === 'Primary') result = { ok: false, rv: -11, message: 'Refusing to invalidate the data of a Primary' };
    else {
      this.send({ type: 'startSync', senderIsSource: remote, full: true });
      this.beginBitmapExchange(remote, true, remote ? 'StartingSyncS' : 'StartingSyncT');
    }
    return { actions: this.flush(), result };
  }

  /** `drbdadm verify`: this node becomes VerifyS. */
  verify(now: number, startSector = 0, stopSector?: number): { actions: Action[]; result: StateChangeResult } {
    this.now = now;
    let result: StateChangeResult = { ok: true };
    if (this.cfg.verifyAlg === undefined) result = { ok: false, rv: -14, message: 'Need a verify algorithm to start online verify' };
    else if (this.conn !== 'Connected' || this.phase !== 'done') {
      result = isConnected(this.conn) && this.conn !== 'Connected'
        ? { ok: false, rv: -18, message: 'Can not start OV/resync since it is already active' }
        : { ok: false, rv: -15, message: 'Need a connection to start verify or resync' };
    } else {
      const start = Math.min(startSector * 512, this.agreedSize());
      const stop = stopSector === undefined ? this.agreedSize() : Math.min(stopSector * 512, this.agreedSize());
      this.send({ type: 'verifyStart', start, stop });
      this.startVerify(true, start, stop);
    }
    return { actions: this.flush(), result };
  }

  /**
   * `drbdadm adjust`: new net/disk options. Only while StandAlone (the caller
   * disconnects first, as drbdadm does for options the kernel cannot change live);
   * the size and node name stay. Returns false (and changes nothing) otherwise.
   */
  reconfigure(cfg: Omit<MachineConfig, 'sizeBytes' | 'node' | 'random' | 'logPrefix'> & Partial<MachineConfig>): boolean {
    if (this.conn !== 'StandAlone') return false;
    const next: MachineConfig = { ...cfg, sizeBytes: this.cfg.sizeBytes, node: this.cfg.node, random: this.cfg.random, logPrefix: this.cfg.logPrefix } as MachineConfig;
    checkMachineConfig(next);
    this.cfg = next;
    return true;
  }

  /** pause-sync / resume-sync (the user flag). */
  setUserPause(now: number, pause: boolean): Action[] {
    this.now = now;
    if (this.userPause !== pause) {
      this.userPause = pause;
      this.applyPause();
      if (this.channel !== undefined && this.phase === 'done') this.sendState();
    }
    return this.flush();
  }

  // ---------------------------------------------------------------- events

  step(ev: MachineEvent, now: number): Action[] {
    if (now > this.now) this.now = now;
    switch (ev.type) {
      case 'tick':
        this.onTick();
        break;
      case 'channelOpen':
        this.onChannelOpen(ev.ch, ev.outbound);
        break;
      case 'channelClosed':
        this.onChannelClosed(ev.ch, ev.reason);
        break;
      case 'message':
        this.onMessage(ev.ch, ev.msg);
        break;
      case 'decodeError':
        this.counters.badFrames++;
        if (ev.ch === this.channel) {
          this.log('error', `${ev.error.message} (${ev.error.code})`);
          this.dropConnection('ProtocolError', true);
        } else this.closePending(ev.ch);
        break;
      case 'write':
        this.onAppWrite(ev.req, ev.offset, ev.data, ev.fua);
        break;
      case 'flush':
        this.onAppFlush(ev.req);
        break;
      case 'localDone':
        this.onLocalDone(ev.op, ev.ok, ev.data);
        break;
    }
    this.pumpResync();
    return this.flush();
  }

  // ---------------------------------------------------------------- helpers

  private flush(): Action[] {
    const a = this.out;
    this.out = [];
    return a;
  }

  private log(level: LogLevel, msg: string): void {
    this.out.push({ type: 'log', level, msg: this.cfg.logPrefix + msg });
  }

  private send(msg: Message): void {
    if (this.channel === undefined) return;
    if (msg.type === 'data' || msg.type === 'rsReply') this.counters.netSent += msg.payload.length;
    this.out.push({ type: 'send', ch: this.channel, msg });
  }

  private setConn(to: ConnState): void {
    this.setStates({ conn: to });
  }

  /** Applies state changes and logs them as one kernel-style line. */
  private setStates(ch: { conn?: ConnState; role?: Role; peerRole?: Role; disk?: DiskState; peerDisk?: DiskState }): void {
    const change: DrbdStateChange = {};
    if (ch.role !== undefined && ch.role !== this.role) {
      change.role = [this.role, ch.role];
      this.role = ch.role;
    }
    if (ch.peerRole !== undefined && ch.peerRole !== this.peerRole) {
      change.peer = [this.peerRole, ch.peerRole];
      this.peerRole = ch.peerRole;
    }
    if (ch.conn !== undefined && ch.conn !== this.conn) {
      change.conn = [this.conn, ch.conn];
      this.conn = ch.conn;
    }
    if (ch.disk !== undefined && ch.disk !== this.disk) {
      change.disk = [this.disk, ch.disk];
      this.disk = ch.disk;
    }
    if (ch.peerDisk !== undefined && ch.peerDisk !== this.peerDisk) {
      change.pdsk = [this.peerDisk, ch.peerDisk];
      this.peerDisk = ch.peerDisk;
    }
    const text = drbdStateChangeText(change);
    if (text !== '') this.log('info', text);
  }

  private saveGen(flags: GenerationFlags, uuids: Uuids = this.gen.uuids): void {
    this.gen = { uuids, flags };
    this.out.push({ type: 'saveGeneration', generation: this.gen });
  }

  private setUuids(uuids: Uuids, why: string): void {
    this.saveGen(this.gen.flags, uuids);
    this.log('info', `${why} ${uuidLine(uuids)}`);
  }

  private agreedSize(): number {
    return this.peerParams ? Math.min(this.cfg.sizeBytes, this.peerParams.sizeBytes) : this.cfg.sizeBytes;
  }

  private uuidFlags(): number {
    return (
      (this.discardMyData ? UUID_FLAG_DISCARD_MY_DATA : 0) |
      (this.gen.flags.crashedPrimary ? UUID_FLAG_CRASHED_PRIMARY : 0) |
      (this.disk === 'Inconsistent' ? UUID_FLAG_INCONSISTENT : 0)
    );
  }

  /** Data is replicated in these states (DRBD's drbd_should_do_remote). */
  private replicating(): boolean {
    return this.channel !== undefined && this.phase === 'done' && isConnected(this.conn) && diskRank(this.peerDisk) >= diskRank('Inconsistent');
  }

  private newCurrentUuid(): void {
    const u = this.gen.uuids;
    if ((u.bitmap & ~1n) !== 0n) {
      this.log('info', 'bm UUID was already set, not creating a new current UUID');
      return;
    }
    const current = (randomU64(this.cfg.random) & ~1n) | (this.role === 'Primary' ? 1n : 0n);
    this.setUuids({ current, bitmap: u.current, history1: u.history1, history2: u.history2 }, 'new current UUID');
  }

  private blockRange(offset: number, length: number): [first: number, count: number] {
    const first = Math.floor(offset / BLOCK_BYTES);
    const last = Math.floor((offset + length - 1) / BLOCK_BYTES);
    return [first, last - first + 1];
  }

  /** The 4 KiB blocks wholly covered by a write (the last, short block of the device counts when covered to the end). */
  private coveredBlocks(offset: number, length: number): [first: number, count: number] {
    const first = Math.ceil(offset / BLOCK_BYTES);
    const end = offset + length;
    const lastEnd = end >= this.cfg.sizeBytes ? Math.ceil(end / BLOCK_BYTES) : Math.floor(end / BLOCK_BYTES);
    return [first, Math.max(0, lastEnd - first)];
  }

  private markDirty(offset: number, length: number): void {
    const [f, n] = this.blockRange(offset, length);
    this.bitmap.mark(f, Math.min(n, this.bitmap.blocks - f));
  }

  private newOp(op: Op): number {
    const id = this.nextOp++;
    this.ops.set(id, op);
    return id;
  }

  // ---------------------------------------------------------------- connection

  private enterWfConnection(): void {
    this.setConn('WFConnection');
    this.nextDialAt = this.now;
    this.onTick();
  }

  private onTick(): void {
    const now = this.now;
    if (this.conn === 'WFConnection' && this.nextDialAt !== undefined && now >= this.nextDialAt && this.channel === undefined) {
      this.out.push({ type: 'dial' });
      this.nextDialAt = now + this.cfg.connectIntMs;
    }
    for (const [ch, p] of [...this.pending]) if (now >= p.openedAt + this.cfg.timeoutMs) this.closePending(ch);
    if (this.channel !== undefined) {
      if (this.phase !== 'done' && now >= this.phaseStartedAt + this.cfg.timeoutMs) {
        this.log('error', 'The peer did not answer the handshake in time (timeout)');
        this.dropConnection('Timeout', true);
        return;
      }
      if (this.pingSentAt !== undefined) {
        if (now >= this.pingSentAt + this.cfg.pingTimeoutMs) {
          this.log('error', 'PingAck did not arrive in time.');
          this.dropConnection('NetworkFailure', true);
          return;
        }
      } else if (now >= this.lastRecvAt + this.cfg.pingIntMs) {
        this.pingSentAt = now;
        this.send({ type: 'ping' });
      }
    }
    if (this.koCheckAt !== undefined && now >= this.koCheckAt) this.checkKo();
  }

  private closePending(ch: number): void {
    if (this.pending.delete(ch)) this.out.push({ type: 'closeChannel', ch });
  }

  private onChannelOpen(ch: number, outbound: boolean): void {
    if (this.conn !== 'WFConnection' && this.conn !== 'WFReportParams') {
      this.out.push({ type: 'closeChannel', ch });
      return;
    }
    this.pending.set(ch, { outbound, openedAt: this.now });
    const authAlg = this.cfg.cramHmacAlg ?? '';
    this.out.push({ type: 'send', ch, msg: { type: 'hello', versionMin: PROTOCOL_VERSION_MIN, versionMax: PROTOCOL_VERSION_MAX, node: this.cfg.node, authAlg } });
  }

  private onChannelClosed(ch: number, reason: string): void {
    if (this.pending.delete(ch)) return;
    if (ch !== this.channel) return;
    if (this.phase === 'auth') this.log('error', 'Authentication of peer failed, trying again.');
    this.log('warn', `Connection closed by peer or network: ${reason}`);
    this.dropConnection(this.phase === 'done' ? 'NetworkFailure' : 'BrokenPipe', true);
  }

  /** The channel dialed by the node with the smaller name wins when both connected. */
  private preferred(outbound: boolean, peer: string): boolean {
    const dialer = outbound ? this.cfg.node : peer;
    const other = outbound ? peer : this.cfg.node;
    return dialer < other;
  }

  private onHello(ch: number, m: Extract<Message, { type: 'hello' }>): void {
    const p = this.pending.get(ch);
    if (p === undefined) return;
    this.pending.delete(ch);
    if (m.node === this.cfg.node) {
      this.log('error', 'Connected to myself (same node name); closing');
      this.out.push({ type: 'closeChannel', ch });
      return;
    }
    const lo = Math.max(m.versionMin, PROTOCOL_VERSION_MIN);
    const hi = Math.min(m.versionMax, PROTOCOL_VERSION_MAX);
    if (lo > hi) {
      this.log('error', `incompatible DRBD dialects: I support ${PROTOCOL_VERSION_MIN}-${PROTOCOL_VERSION_MAX}, peer supports ${m.versionMin}-${m.versionMax}`);
      this.out.push({ type: 'closeChannel', ch });
      return;
    }
    if (this.channel !== undefined) {
      const switchOver = this.phase !== 'done' && this.preferred(p.outbound, m.node) && !this.preferred(this.channelOutbound, m.node);
      if (!switchOver) {
        this.out.push({ type: 'closeChannel', ch });
        return;
      }
      // Both sides connected at once: both keep the connection the smaller name dialed.
      this.out.push({ type: 'closeChannel', ch: this.channel });
      this.resetHandshake();
    } else if (this.conn !== 'WFConnection') {
      this.out.push({ type: 'closeChannel', ch });
      return;
    }
    this.channel = ch;
    this.channelOutbound = p.outbound;
    this.peerNode = m.node;
    this.agreedVersion = hi;
    this.lastRecvAt = this.now;
    this.pingSentAt = undefined;
    this.phaseStartedAt = this.now;
    this.nextDialAt = undefined;
    this.setConn('WFReportParams');
    this.log('info', `Handshake successful: Agreed network protocol version ${this.agreedVersion}`);
    const mine = this.cfg.cramHmacAlg ?? '';
    if (m.authAlg !== mine) {
      this.log('error', `cram-hmac-alg differs (mine '${mine || 'none'}', peer '${m.authAlg || 'none'}')`);
      this.authFailed();
      return;
    }
    if (this.cfg.cramHmacAlg !== undefined) {
      this.phase = 'auth';
      this.myChallenge = this.cfg.random(CHALLENGE_BYTES);
      this.send({ type: 'authChallenge', challenge: this.myChallenge });
    } else this.sendParams();
  }

  private authFailed(): void {
    this.log('error', 'Authentication of peer failed');
    this.log('error', 'Discarding network configuration.');
    this.dropConnection('Disconnecting', false);
    this.setConn('StandAlone');
  }

  private sendParams(): void {
    this.phase = 'params';
    this.phaseStartedAt = this.now;
    this.sentParams = {
      type: 'reportParams',
      protocol: this.cfg.protocol,
      afterSb0: this.cfg.afterSb0,
      afterSb1: this.cfg.afterSb1,
      afterSb2: this.cfg.afterSb2,
      allowTwoPrimaries: this.cfg.allowTwoPrimaries,
      dataIntegrityAlg: this.cfg.dataIntegrityAlg ?? '',
      verifyAlg: this.cfg.verifyAlg ?? '',
      sizeBytes: this.cfg.sizeBytes,
      uuids: this.gen.uuids,
      uuidFlags: this.uuidFlags(),
      bitsSet: this.bitmap.countDirty(),
      role: this.role,
      disk: this.disk,
    };
    this.send(this.sentParams);
    if (this.peerParams !== undefined) this.decide();
  }

  private resetHandshake(): void {
    this.channel = undefined;
    this.phase = 'none';
    this.myChallenge = undefined;
    this.authOk = false;
    this.sentParams = undefined;
    this.peerParams = undefined;
    this.pingSentAt = undefined;
  }

  /**
   * Loses the connection: marks what the peer may have missed, completes
   * what waited for it, and goes `via` (NetworkFailure, Timeout, ...) to
   * Unconnected and WFConnection when `retry`, else leaves `via` for the caller.
   */
  private dropConnection(via: ConnState, retry: boolean): void {
    const wasReplicating = this.phase === 'done';
    if (this.channel !== undefined) this.out.push({ type: 'closeChannel', ch: this.channel });
    // Connections still saying hello are new attempts: they survive a reconnect (closing
    // them too would let crossed dials close each other forever), not a StandAlone.
    if (!retry) for (const ch of [...this.pending.keys()]) this.closePending(ch);
    this.resetHandshake();
    this.connGen++;
    // The transfer log: everything the peer did not confirm may differ.
    for (const w of this.writes.values()) {
      if (w.inTransferLog) {
        this.markDirty(w.offset, w.length);
        w.inTransferLog = false;
      }
      w.waitPeer = false;
    }
    for (const w of [...this.writes.values()]) this.maybeCompleteWrite(w);
    for (const [nr, req] of [...this.barrierWaiters]) {
      this.barrierWaiters.delete(nr);
      const f = this.flushes.get(req);
      if (f) {
        f.barrier = undefined;
        this.maybeCompleteFlush(f);
      }
    }
    this.koCheckAt = undefined;
    this.rsInFlight.clear();
    this.ovPending.clear();
    this.bucket = undefined;
    const wasTarget = this.conn === 'SyncTarget' || this.conn === 'PausedSyncT';
    if (this.resync && !this.resync.verify && isSyncing(this.conn)) this.log('info', `Resync aborted${wasTarget ? '; local data stays Inconsistent' : ''}`);
    this.resync = undefined;
    this.bmSent = this.bmReceived = false;
    this.peerUserPause = false;
    const disk = this.disk === 'Consistent' && wasReplicating ? 'UpToDate' : this.disk;
    this.setStates({ conn: via, peerRole: 'Unknown', peerDisk: 'DUnknown', disk });
    if (wasReplicating) {
      const flags = { ...this.gen.flags, connectedInd: false };
      this.saveGen(flags);
      if (this.role === 'Primary') this.newCurrentUuid();
    }
    if (retry) {
      this.setConn('Unconnected');
      this.enterWfConnection();
    }
  }

  // ---------------------------------------------------------------- messages

  private onMessage(ch: number, m: Message): void {
    if (ch !== this.channel) {
      if (m.type === 'hello') this.onHello(ch, m);
      else if (this.pending.has(ch)) {
        this.log('error', `Expected hello first, got ${m.type}`);
        this.closePending(ch);
      }
      return;
    }
    this.lastRecvAt = this.now;
    if (m.type === 'data' || m.type === 'rsReply') this.counters.netReceived += m.payload.length;
    if (this.phase !== 'done' && !this.handshakeMessageOk(m)) {
      this.log('error', `Unexpected ${m.type} during the handshake`);
      this.dropConnection('ProtocolError', true);
      return;
    }
    switch (m.type) {
      case 'hello':
        this.log('error', 'Unexpected second hello');
        this.dropConnection('ProtocolError', true);
        return;
      case 'authChallenge':
        this.onAuthChallenge(m.challenge);
        return;
      case 'authResponse':
        this.onAuthResponse(m.response);
        return;
      case 'reportParams':
        this.peerParams = m;
        if (this.sentParams !== undefined) this.decide();
        return;
      case 'ping':
        this.send({ type: 'pingAck' });
        return;
      case 'pingAck':
        this.pingSentAt = undefined;
        return;
      case 'state':
        this.onPeerState(m);
        return;
      case 'startSync':
        if (this.conn !== 'Connected') {
          this.log('warn', `Ignoring a resync request in ${this.conn}`);
          return;
        }
        if (m.senderIsSource && this.role === 'Primary' && this.cfg.rrConflict !== 'violently') {
          this.log('error', 'I shall become SyncTarget, but I am primary!');
          this.dropConnection('Disconnecting', false);
          this.setConn('StandAlone');
          return;
        }
        this.beginBitmapExchange(!m.senderIsSource, m.full, m.senderIsSource ? 'StartingSyncT' : 'StartingSyncS');
        return;
      case 'bitmap':
        this.onBitmap(m);
        return;
      case 'syncUuid':
        this.onSyncUuid(m.uuids);
        return;
      case 'data':
        this.onPeerData(m);
        return;
      case 'recvAck':
      case 'writeAck':
      case 'negAck':
        this.onAck(m.type, m.seq);
        return;
      case 'barrier': {
        const op = this.newOp({ kind: 'barrier', nr: m.nr, gen: this.connGen });
        this.out.push({ type: 'flushLocal', op, origin: 'barrier' });
        return;
      }
      case 'barrierAck': {
        const req = this.barrierWaiters.get(m.nr);
        if (req === undefined) return;
        this.barrierWaiters.delete(m.nr);
        const f = this.flushes.get(req);
        if (f) {
          f.barrier = undefined;
          this.maybeCompleteFlush(f);
        }
        return;
      }
      case 'rsRequest': {
        if (!this.inRange(m.offset, m.length)) {
          this.send({ type: 'rsNegAck', id: m.id, offset: m.offset, length: m.length });
          return;
        }
        const op = this.newOp({ kind: 'rsRead', id: m.id, offset: m.offset, length: m.length, gen: this.connGen });
        this.out.push({ type: 'readLocal', op, offset: m.offset, length: m.length, origin: 'resync' });
        return;
      }
      case 'rsReply':
        this.onRsReply(m);
        return;
      case 'rsWriteAck':
        if (isConnected(this.conn)) {
          const [f, n] = this.coveredBlocks(m.offset, m.length);
          this.bitmap.clear(f, Math.min(n, this.bitmap.blocks - f));
        }
        return;
      case 'rsNegAck':
        this.onRsNegAck(m.id);
        return;
      case 'resyncDone':
        this.onPeerResyncDone();
        return;
      case 'verifyStart':
        if (this.conn === 'Connected') this.startVerify(false, m.start, m.stop);
        return;
      case 'ovRequest': {
        if (!this.inRange(m.offset, m.length)) {
          this.send({ type: 'ovReply', id: m.id, offset: m.offset, length: m.length, digest: new Uint8Array(0) });
          return;
        }
        const op = this.newOp({ kind: 'ovRead', id: m.id, offset: m.offset, length: m.length, gen: this.connGen, source: false });
        this.out.push({ type: 'readLocal', op, offset: m.offset, length: m.length, origin: 'verify' });
        return;
      }
      case 'ovReply':
        this.onOvReply(m.id, m.digest);
        return;
      case 'verifyDone':
        if (this.conn === 'VerifyT') this.finishVerify(false);
        return;
      case 'disconnect':
        this.log('info', `Peer requested disconnect (${m.reason})`);
        this.dropConnection('TearDown', true);
        return;
    }
  }

  private handshakeMessageOk(m: Message): boolean {
    switch (this.phase) {
      case 'auth':
        return m.type === 'authChallenge' || m.type === 'authResponse' || m.type === 'reportParams' || m.type === 'ping' || m.type === 'pingAck';
      case 'params':
        return m.type === 'reportParams' || m.type === 'authResponse' || m.type === 'authChallenge' || m.type === 'ping' || m.type === 'pingAck';
      default:
        return false;
    }
  }

  private inRange(offset: number, length: number): boolean {
    return offset + length <= this.cfg.sizeBytes && length <= MAX_DATA_BYTES;
  }

  private onAuthChallenge(challenge: Uint8Array): void {
    const alg = this.cfg.cramHmacAlg;
    if (alg === undefined || this.myChallenge === undefined) return;
    if (bytesEqual(challenge, this.myChallenge)) {
      this.log('error', 'Peer presented the same challenge!');
      this.authFailed();
      return;
    }
    this.send({ type: 'authResponse', response: hmac(alg, this.cfg.sharedSecret ?? '', challenge) });
  }

  private onAuthResponse(response: Uint8Array): void {
    const alg = this.cfg.cramHmacAlg;
    if (alg === undefined || this.myChallenge === undefined || this.authOk) {
      this.log('error', 'Unexpected auth response');
      this.dropConnection('ProtocolError', true);
      return;
    }
    const expected = hmac(alg, this.cfg.sharedSecret ?? '', this.myChallenge);
    if (!bytesEqual(expected, response)) {
      this.authFailed();
      return;
    }
    this.authOk = true;
    this.log('info', `Peer authenticated using ${expected.length} bytes HMAC`);
    this.sendParams();
  }

  /** Both ReportParams exchanged: check agreement, then the sync handshake. */
  private decide(): void {
    const mine = this.sentParams!;
    const peer = this.peerParams!;
    const incompatible = (what: string): void => {
      this.log('error', `incompatible ${what} settings`);
      this.dropConnection('Disconnecting', false);
      this.setConn('StandAlone');
    };
    if (mine.protocol !== peer.protocol) return incompatible('communication protocols');
    // The peer's discard-local is our discard-remote (DRBD's convert_after_sb).
    const mirrored = peer.afterSb0 === 'discard-local' ? 'discard-remote' : peer.afterSb0 === 'discard-remote' ? 'discard-local' : peer.afterSb0;
    if (mine.afterSb0 !== mirrored) return incompatible('after-sb-0pri');
    if (mine.afterSb1 !== peer.afterSb1) return incompatible('after-sb-1pri');
    if (mine.afterSb2 !== peer.afterSb2) return incompatible('after-sb-2pri');
    if (mine.allowTwoPrimaries !== peer.allowTwoPrimaries) return incompatible('allow-two-primaries');
    if (mine.dataIntegrityAlg !== peer.dataIntegrityAlg) return incompatible('data-integrity-alg');
    if ((mine.uuidFlags & UUID_FLAG_DISCARD_MY_DATA) !== 0 && (peer.uuidFlags & UUID_FLAG_DISCARD_MY_DATA) !== 0) return incompatible('discard-my-data');
    this.peerUuids = peer.uuids;
    this.peerUuidFlags = peer.uuidFlags;
    const r = syncHandshake(
      { uuids: mine.uuids, uuidFlags: mine.uuidFlags, role: mine.role, disk: mine.disk, bitsSet: mine.bitsSet },
      { uuids: peer.uuids, uuidFlags: peer.uuidFlags, role: peer.role, disk: peer.disk, bitsSet: peer.bitsSet },
      {
        afterSb0: this.cfg.afterSb0,
        afterSb1: this.cfg.afterSb1,
        afterSb2: this.cfg.afterSb2,
        rrConflict: this.cfg.rrConflict,
        alwaysAsbp: this.cfg.alwaysAsbp,
        discardMyData: this.discardMyData,
        resolveConflicts: this.cfg.node < (this.peerNode ?? ''),
        deviceInUse: this.deviceInUse,
      },
    );
    for (const l of r.logs) this.log(l.level, l.msg);
    for (const h of r.handlers) this.out.push({ type: 'handler', name: h });
    if (r.outcome.kind === 'disconnect') {
      this.dropConnection('Disconnecting', false);
      this.setConn('StandAlone');
      return;
    }
    if (r.demote) this.setStates({ role: 'Secondary' });
    if (this.role === 'Primary' && peer.role === 'Primary' && !this.cfg.allowTwoPrimaries) {
      this.log('error', 'Multiple primaries not allowed by config; dropping connection');
      this.dropConnection('Disconnecting', false);
      this.setConn('StandAlone');
      return;
    }
    if (peer.sizeBytes !== this.cfg.sizeBytes) this.log('warn', `Peer's size ${sectors(peer.sizeBytes)} sectors differs from mine ${sectors(this.cfg.sizeBytes)}; using the smaller`);
    this.phase = 'done';
    this.discardMyData = false;
    const flags = { ...this.gen.flags, connectedInd: true, crashedPrimary: false };
    this.saveGen(flags);
    const o = r.outcome;
    if (o.kind === 'connected') {
      // Connected: Consistent and Outdated become UpToDate on both sides (sanitize_state).
      const up = (d: DiskState): DiskState => (d === 'Consistent' || d === 'Outdated' ? 'UpToDate' : d);
      this.setStates({ peerRole: peer.role, conn: 'Connected', disk: up(this.disk), peerDisk: up(peer.disk) });
      if (this.disk === 'UpToDate' && !this.gen.flags.wasUpToDate) this.saveGen({ ...this.gen.flags, consistent: true, wasUpToDate: true });
      const bits = this.bitmap.countDirty();
      if (bits > 0 && this.disk === 'UpToDate' && this.peerDisk === 'UpToDate') {
        this.log('info', `No resync, but ${bits} bits in bitmap!`);
      }
    } else {
      this.setStates({ peerRole: peer.role, peerDisk: peer.disk });
      this.beginBitmapExchange(o.source, o.full, o.source ? 'WFBitMapS' : 'WFBitMapT');
    }
  }

  private onPeerState(m: Extract<Message, { type: 'state' }>): void {
    this.peerUuids = m.uuids;
    this.peerUuidFlags = m.uuidFlags;
    const wasPause = this.peerUserPause;
    this.peerUserPause = m.userPause;
    let peerDisk = m.disk;
    if (this.conn === 'Connected' && (peerDisk === 'Consistent' || peerDisk === 'Outdated')) peerDisk = 'UpToDate';
    this.setStates({ peerRole: m.role, peerDisk });
    if (wasPause !== m.userPause) this.applyPause();
    if (this.role === 'Primary' && m.role === 'Primary' && !this.cfg.allowTwoPrimaries) {
      this.log('error', 'Multiple primaries not allowed by config; dropping connection');
      this.dropConnection('Disconnecting', false);
      this.setConn('StandAlone');
      return;
    }
    // A forced Primary over our Inconsistent disk: ask it for a full sync.
    if (this.conn === 'Connected' && this.disk === 'Inconsistent' && m.disk === 'UpToDate') {
      this.log('info', 'Becoming sync target due to disk states.');
      this.send({ type: 'startSync', senderIsSource: false, full: true });
      this.beginBitmapExchange(false, true, 'WFBitMapT');
    }
  }

  private sendState(): void {
    this.send({ type: 'state', role: this.role, disk: this.disk, userPause: this.userPause, uuids: this.gen.uuids, uuidFlags: this.uuidFlags() });
  }

  // ---------------------------------------------------------------- roles

  private promote(force: boolean): StateChangeResult {
    if (this.role === 'Primary') return { ok: true };
    if (this.phase === 'done' && this.peerRole === 'Primary' && !this.cfg.allowTwoPrimaries) {
      return { ok: false, rv: -1, message: 'Multiple primaries not allowed by config' };
    }
    if (this.channel !== undefined && this.phase !== 'done') return { ok: false, rv: -18, message: 'In transient state, retry after next state change' };
    let forced = false;
    if (this.disk !== 'UpToDate') {
      const forcible = this.disk === 'Inconsistent' || this.disk === 'Outdated' || this.disk === 'Consistent';
      if (force && forcible && !(this.phase === 'done' && isSyncing(this.conn))) {
        this.log('warn', 'Forced to consider local data as UpToDate!');
        forced = true;
      } else if (this.disk === 'Consistent' && !isConnected(this.conn)) {
        // fencing dont-care: a Consistent disconnected node may take over.
      } else return { ok: false, rv: -2, message: 'Need access to UpToDate data' };
    }
    this.setStates({ role: 'Primary', disk: 'UpToDate' });
    this.saveGen({ ...this.gen.flags, primaryInd: true, consistent: true, wasUpToDate: true });
    if (forced || !this.replicating()) this.newCurrentUuid();
    else this.setUuids({ ...this.gen.uuids, current: this.gen.uuids.current | 1n }, 'updated UUIDs');
    if (forced && this.phase === 'done' && this.peerDisk === 'UpToDate') {
      this.log('warn', 'Forced into split brain situation!');
    }
    if (this.channel !== undefined && this.phase === 'done') this.sendState();
    return { ok: true };
  }

  private demote(): StateChangeResult {
    if (this.role === 'Secondary') return { ok: true };
    if (this.deviceInUse) return { ok: false, rv: -12, message: 'Device is held open by someone' };
    this.setStates({ role: 'Secondary' });
    this.saveGen({ ...this.gen.flags, primaryInd: false }, { ...this.gen.uuids, current: this.gen.uuids.current & ~1n });
    if (this.channel !== undefined && this.phase === 'done') this.sendState();
    return { ok: true };
  }

  // ---------------------------------------------------------------- write path

  private onAppWrite(req: number, offset: number, data: Uint8Array, fua: boolean): void {
    const refuse = (code: ReplErrorCode, msg: string): void => void this.out.push({ type: 'complete', req, error: new ReplError(code, msg) });
    if (this.role !== 'Primary') return refuse(ReplErrorCode.StateRefused, 'Not Primary: writes are refused on a Secondary');
    if (!Number.isSafeInteger(offset) || offset < 0 || data.length === 0 || data.length > MAX_DATA_BYTES || offset % 512 !== 0 || data.length % 512 !== 0) {
      return refuse(ReplErrorCode.OutOfRange, `write of ${data.length} bytes at ${offset}: must be a positive multiple of 512, at most ${MAX_DATA_BYTES}`);
    }
    if (offset + data.length > this.agreedSize()) return refuse(ReplErrorCode.OutOfRange, `write at ${offset}+${data.length} beyond the device size ${this.agreedSize()}`);
    const seq = this.nextSeq++;
    const repl = this.replicating();
    const w: AppWrite = {
      req,
      seq,
      offset,
      length: data.length,
      fua,
      localDone: false,
      localOk: false,
      inTransferLog: repl,
      waitPeer: repl && (this.cfg.protocol !== 'A' || fua),
      sentAt: this.now,
      completed: false,
    };
    this.writes.set(seq, w);
    if (repl) {
      this.send({ type: 'data', seq, offset, fua, digest: this.integrityDigest(data), payload: data });
      if (this.cfg.koCount > 0 && this.koCheckAt === undefined) {
        this.koLeft = this.cfg.koCount;
        this.koCheckAt = this.now + this.cfg.timeoutMs;
      }
    } else this.markDirty(offset, data.length);
    const op = this.newOp({ kind: 'app', seq });
    this.out.push({ type: 'writeLocal', op, offset, data, fua, origin: 'app' });
  }

  private integrityDigest(data: Uint8Array): Uint8Array {
    return this.cfg.dataIntegrityAlg === undefined ? new Uint8Array(0) : digest(this.cfg.dataIntegrityAlg, data);
  }

  private onAck(type: 'recvAck' | 'writeAck' | 'negAck', seq: number): void {
    const w = this.writes.get(seq);
    if (w === undefined) return;
    if (type === 'recvAck') {
      if (this.cfg.protocol === 'B' && !w.fua) {
        w.waitPeer = false;
        this.maybeCompleteWrite(w);
      }
      return;
    }
    w.inTransferLog = false;
    w.waitPeer = false;
    if (type === 'negAck') {
      this.log('warn', `Peer failed to write ${sectors(w.length)} sectors at sector ${sectors(w.offset)}; marked out of sync`);
      this.markDirty(w.offset, w.length);
    } else if (isConnected(this.conn) && this.conn !== 'Connected') {
      // During a resync a write the peer made durable brings those blocks in sync.
      const [f, n] = this.coveredBlocks(w.offset, w.length);
      if (n > 0) this.bitmap.clear(f, Math.min(n, this.bitmap.blocks - f));
    }
    this.maybeCompleteWrite(w);
    if (w.completed && !w.inTransferLog) this.writes.delete(w.seq);
    this.rearmKo();
  }

  private maybeCompleteWrite(w: AppWrite): void {
    if (!w.localDone || w.waitPeer) return;
    // Completed towards the application; it stays in the transfer log until the peer's write ack.
    if (!w.inTransferLog) this.writes.delete(w.seq);
    if (w.completed) return;
    w.completed = true;
    this.out.push(
      w.localOk ? { type: 'complete', req: w.req } : { type: 'complete', req: w.req, error: new ReplError(ReplErrorCode.IoError, `local write at ${w.offset} failed`) },
    );
  }

  private rearmKo(): void {
    const waiting = [...this.writes.values()].some((w) => w.inTransferLog);
    if (!waiting) this.koCheckAt = undefined;
    else if (this.cfg.koCount > 0) {
      this.koLeft = this.cfg.koCount;
      this.koCheckAt = this.now + this.cfg.timeoutMs;
    }
  }

  private checkKo(): void {
    const waiting = [...this.writes.values()].some((w) => w.inTransferLog);
    if (!waiting || this.cfg.koCount === 0) {
      this.koCheckAt = undefined;
      return;
    }
    this.koLeft--;
    this.log('warn', `[drbd_s] sock_sendmsg time expired, ko = ${this.koLeft}`);
    if (this.koLeft <= 0) {
      this.log('error', 'The peer did not answer writes for ko-count x timeout; considering it dead');
      this.dropConnection('Timeout', true);
      return;
    }
    this.koCheckAt = this.now + this.cfg.timeoutMs;
  }

  private onAppFlush(req: number): void {
    const f: AppFlush = { req, localDone: false, localOk: false, barrier: undefined };
    this.flushes.set(req, f);
    // Under every protocol, A included: a flush (and FUA) must reach both disks before it completes.
    if (this.replicating()) {
      const nr = this.nextBarrier;
      this.nextBarrier = (this.nextBarrier + 1) >>> 0 || 1;
      f.barrier = nr;
      this.barrierWaiters.set(nr, req);
      this.send({ type: 'barrier', nr });
    }
    const op = this.newOp({ kind: 'appFlush', req });
    this.out.push({ type: 'flushLocal', op, origin: 'app' });
  }

  private maybeCompleteFlush(f: AppFlush): void {
    if (!f.localDone || f.barrier !== undefined) return;
    this.flushes.delete(f.req);
    this.out.push(f.localOk ? { type: 'complete', req: f.req } : { type: 'complete', req: f.req, error: new ReplError(ReplErrorCode.IoError, 'local flush failed') });
  }

  private onPeerData(m: Extract<Message, { type: 'data' }>): void {
    if (this.cfg.dataIntegrityAlg !== undefined) {
      const d = digest(this.cfg.dataIntegrityAlg, m.payload);
      if (!bytesEqual(d, m.digest)) {
        this.log('error', `Digest integrity check FAILED: ${sectors(m.offset)}s +${m.payload.length}`);
        this.dropConnection('ProtocolError', true);
        return;
      }
    }
    if (!this.inRange(m.offset, m.payload.length) || this.role === 'Primary' && !this.cfg.allowTwoPrimaries) {
      this.send({ type: 'negAck', seq: m.seq });
      return;
    }
    if (this.cfg.protocol === 'B') this.send({ type: 'recvAck', seq: m.seq });
    const op = this.newOp({ kind: 'peerData', seq: m.seq, offset: m.offset, length: m.payload.length, gen: this.connGen });
    this.out.push({ type: 'writeLocal', op, offset: m.offset, data: m.payload, fua: m.fua, origin: 'peer' });
  }

  private onLocalDone(opId: number, ok: boolean, data: Uint8Array | undefined): void {
    const op = this.ops.get(opId);
    if (op === undefined) return;
    this.ops.delete(opId);
    const live = (gen: number): boolean => gen === this.connGen && this.channel !== undefined;
    switch (op.kind) {
      case 'app': {
        const w = this.writes.get(op.seq);
        if (!w) return;
        w.localDone = true;
        w.localOk = ok;
        if (ok) this.counters.diskWritten += w.length;
        this.maybeCompleteWrite(w);
        return;
      }
      case 'appFlush': {
        const f = this.flushes.get(op.req);
        if (!f) return;
        f.localDone = true;
        f.localOk = ok;
        this.maybeCompleteFlush(f);
        return;
      }
      case 'peerData':
        if (ok) {
          this.counters.diskWritten += op.length;
          if (isConnected(this.conn) && this.conn !== 'Connected') {
            const [f, n] = this.coveredBlocks(op.offset, op.length);
            if (n > 0) this.bitmap.clear(f, Math.min(n, this.bitmap.blocks - f));
          }
        } else this.markDirty(op.offset, op.length);
        if (live(op.gen)) this.send(ok ? { type: 'writeAck', seq: op.seq } : { type: 'negAck', seq: op.seq });
        this.maybeFinishResync();
        return;
      case 'barrier':
        if (live(op.gen)) this.send({ type: 'barrierAck', nr: op.nr });
        return;
      case 'rsRead':
        if (!live(op.gen)) return;
        if (!ok || data === undefined) {
          this.send({ type: 'rsNegAck', id: op.id, offset: op.offset, length: op.length });
          return;
        }
        this.counters.diskRead += data.length;
        this.counters.resyncSent += data.length;
        this.send({ type: 'rsReply', id: op.id, offset: op.offset, digest: this.integrityDigest(data), payload: data });
        return;
      case 'rsWrite':
        if (!live(op.gen)) return;
        this.rsInFlight.delete(op.id);
        if (ok) {
          this.counters.diskWritten += op.length;
          const [f, n] = this.coveredBlocks(op.offset, op.length);
          this.bitmap.clear(f, Math.min(n, this.bitmap.blocks - f));
          this.send({ type: 'rsWriteAck', id: op.id, offset: op.offset, length: op.length });
        } else this.log('error', `Resync write at sector ${sectors(op.offset)} failed`);
        this.maybeFinishResync();
        return;
      case 'ovRead': {
        if (!live(op.gen)) return;
        const alg = this.cfg.verifyAlg;
        if (alg === undefined) return;
        const d = ok && data ? digest(alg, data) : new Uint8Array(0);
        if (ok && data) this.counters.diskRead += data.length;
        if (!op.source) {
          this.send({ type: 'ovReply', id: op.id, offset: op.offset, length: op.length, digest: d });
          return;
        }
        const p = this.ovPending.get(op.id);
        if (!p) return;
        p.mine = d;
        this.maybeOvResult(op.id);
        return;
      }
    }
  }

  // ---------------------------------------------------------------- bitmap exchange and resync

  private beginBitmapExchange(source: boolean, full: boolean, state: ConnState): void {
    this.syncSource = source;
    this.bmSent = false;
    this.bmReceived = false;
    if (full) {
      this.bitmap.mark(0, this.bitmap.blocks);
      if (!source) this.saveGen({ ...this.gen.flags, consistent: false, wasUpToDate: false });
    }
    if (state !== (source ? 'WFBitMapS' : 'WFBitMapT')) this.setConn(state);
    if (source) this.setStates({ conn: 'WFBitMapS', peerDisk: 'Inconsistent' });
    else this.setStates({ conn: 'WFBitMapT' });
    for (const msg of encodeBitmap(this.bitmap)) this.send(msg);
    this.bmSent = true;
    this.maybeBitmapsDone();
  }

  private onBitmap(m: BitmapMsg): void {
    if (this.conn !== 'WFBitMapS' && this.conn !== 'WFBitMapT' && this.conn !== 'StartingSyncS' && this.conn !== 'StartingSyncT') {
      this.log('error', `Unexpected bitmap in ${this.conn}`);
      this.dropConnection('ProtocolError', true);
      return;
    }
    const blocks = this.bitmap.blocks;
    try {
      decodeBitmapChunk(m, blocks, (f, n) => this.bitmap.mark(f, n));
    } catch (e) {
      this.log('error', (e as Error).message);
      this.dropConnection('ProtocolError', true);
      return;
    }
    if (m.last) {
      this.bmReceived = true;
      this.maybeBitmapsDone();
    }
  }

  private maybeBitmapsDone(): void {
    if (!this.bmSent || !this.bmReceived) return;
    if (this.syncSource) {
      let uuid = this.gen.uuids.bitmap;
      if ((uuid & ~1n) !== 0n && uuid !== UUID_JUST_CREATED) uuid = (uuid + UUID_NEW_BM_OFFSET) & U64;
      else uuid = randomU64(this.cfg.random);
      // Setting the bitmap UUID moves the old one into the history (DRBD's drbd_uuid_set), so
      // a target that missed this message still finds us by rule 51.
      const u = this.gen.uuids;
      const moved = (u.bitmap & ~1n) !== 0n ? { history1: u.bitmap, history2: u.history1 } : { history1: u.history1, history2: u.history2 };
      const uuids = { current: u.current, bitmap: uuid, ...moved };
      this.syncUuid = uuid;
      this.setUuids(uuids, 'updated sync UUID');
      this.send({ type: 'syncUuid', uuids });
      this.startResync(true);
    } else this.setConn('WFSyncUUID');
  }

  private onSyncUuid(src: Uuids): void {
    const uuid = src.bitmap;
    if (this.conn !== 'WFSyncUUID' && this.conn !== 'WFBitMapT') {
      this.log('error', `Unexpected sync UUID in ${this.conn}`);
      this.dropConnection('ProtocolError', true);
      return;
    }
    this.syncUuid = uuid;
    this.peerUuids = src;
    this.out.push({ type: 'handler', name: 'before-resync-target' });
    this.setUuids({ ...this.gen.uuids, current: uuid, bitmap: 0n }, 'updated UUIDs');
    this.startResync(false);
  }

  private startResync(source: boolean): void {
    const bits = this.bitmap.countDirty();
    this.resync = { totalBits: bits, startedAt: this.now, pausedMs: 0, pausedSince: undefined, verify: false };
    this.rsCursor = 0;
    this.rsInFlight.clear();
    this.log('info', `Began resync as ${source ? 'SyncSource' : 'SyncTarget'} (will sync ${bits * 4} KB [${bits} bits set]).`);
    if (source) this.setStates({ conn: 'SyncSource', peerDisk: 'Inconsistent' });
    else {
      this.setStates({ conn: 'SyncTarget', disk: 'Inconsistent' });
      this.saveGen({ ...this.gen.flags, consistent: false, wasUpToDate: false });
      const burst = Math.max(this.cfg.resyncRateBytesPerSec / 10, BLOCK_BYTES);
      this.bucket = new TokenBucket(this.cfg.resyncRateBytesPerSec, burst, this.now);
    }
    this.applyPause();
    if (!source) this.maybeFinishResync();
  }

  private applyPause(): void {
    const paused = this.userPause || this.peerUserPause;
    const map: Partial<Record<ConnState, ConnState>> = paused
      ? { SyncSource: 'PausedSyncS', SyncTarget: 'PausedSyncT' }
      : { PausedSyncS: 'SyncSource', PausedSyncT: 'SyncTarget' };
    const to = map[this.conn];
    if (to === undefined) return;
    if (this.resync) {
      if (paused) this.resync.pausedSince = this.now;
      else if (this.resync.pausedSince !== undefined) {
        this.resync.pausedMs += this.now - this.resync.pausedSince;
        this.resync.pausedSince = undefined;
      }
    }
    this.setConn(to);
  }

  /** Largest resync request: 1 MiB, or what the bucket can ever hold. */
  private rsChunkBlocks(): number {
    const burst = Math.max(this.cfg.resyncRateBytesPerSec / 10, BLOCK_BYTES);
    return Math.max(1, Math.min(RS_MAX_BLOCKS, Math.floor(burst / BLOCK_BYTES)));
  }

  private rsDeadline(): number | undefined {
    if (this.conn === 'SyncTarget' && this.bucket !== undefined && this.rsInFlightBlocks() + this.rsChunkBlocks() <= Math.max(this.maxInFlight(), this.rsChunkBlocks())) {
      // countDirty is O(1); scanning from 0 on every deadline would not be on large devices.
      if (this.bitmap.countDirty() === 0) return undefined;
      if (this.rsInFlight.size > 0 && this.bitmap.nextDirty(this.rsCursor) < 0) return undefined;
      return this.bucket.readyAt(this.rsChunkBlocks() * BLOCK_BYTES, this.now);
    }
    if (this.conn === 'VerifyS' && this.bucket !== undefined && this.ovCursor < this.ovStop && this.ovPending.size < this.maxInFlight()) {
      return this.bucket.readyAt(BLOCK_BYTES, this.now);
    }
    return undefined;
  }

  /** Resync and verify data in flight is limited to max-buffers / 2 pages of 4 KiB (DRBD). */
  private maxInFlight(): number {
    return Math.max(1, Math.floor(this.cfg.maxBuffers / 2));
  }

  private rsInFlightBlocks(): number {
    let n = 0;
    for (const r of this.rsInFlight.values()) n += Math.ceil(r.length / BLOCK_BYTES);
    return n;
  }

  /** The SyncTarget requests dirty blocks at the resync rate (and VerifyS sends verify requests). */
  private pumpResync(): void {
    if (this.conn === 'VerifyS') return this.pumpVerify();
    if (this.conn !== 'SyncTarget' || this.bucket === undefined || this.channel === undefined) return;
    const size = this.agreedSize();
    const maxBlocks = this.rsChunkBlocks();
    let inFlight = this.rsInFlightBlocks();
    const limit = Math.max(this.maxInFlight(), maxBlocks);
    while (inFlight < limit) {
      let first = this.bitmap.nextDirty(this.rsCursor);
      if (first < 0) {
        if (this.rsInFlight.size > 0 || this.rsCursor === 0) break;
        this.rsCursor = 0;
        continue;
      }
      // Blocks already requested stay dirty until written: skip past them.
      const inflight = [...this.rsInFlight.values()].some((r) => r.offset === first * BLOCK_BYTES);
      if (inflight) {
        this.rsCursor = first + 1;
        continue;
      }
      // The dirty run from `first`, looked at only as far as one request reaches
      // (nextClean on a fully dirty device would scan to its end on every request).
      const reach = Math.min(maxBlocks, limit - inFlight, this.bitmap.blocks - first);
      let run = 1;
      while (run < reach && this.bitmap.isDirty(first + run)) run++;
      let count = run;
      const offset = first * BLOCK_BYTES;
      if (offset >= size) {
        // Beyond the agreed size (the peer is smaller): nothing to sync there.
        this.bitmap.clear(first, this.bitmap.blocks - first);
        continue;
      }
      const length = Math.min(count * BLOCK_BYTES, size - offset);
      count = Math.ceil(length / BLOCK_BYTES);
      if (!this.bucket.take(length, this.now)) break;
      const id = this.nextRsId++ >>> 0;
      this.rsInFlight.set(id, { offset, length });
      inFlight += count;
      this.rsCursor = first + count;
      this.send({ type: 'rsRequest', id, offset, length });
      first += count;
    }
  }

  private onRsReply(m: Extract<Message, { type: 'rsReply' }>): void {
    const req = this.rsInFlight.get(m.id);
    if (req === undefined || req.offset !== m.offset || req.length !== m.payload.length) {
      this.log('error', `Unexpected resync reply ${m.id} at sector ${sectors(m.offset)}`);
      this.dropConnection('ProtocolError', true);
      return;
    }
    if (this.cfg.dataIntegrityAlg !== undefined && !bytesEqual(digest(this.cfg.dataIntegrityAlg, m.payload), m.digest)) {
      this.log('error', `Digest integrity check FAILED: ${sectors(m.offset)}s +${m.payload.length}`);
      this.dropConnection('ProtocolError', true);
      return;
    }
    this.counters.resyncReceived += m.payload.length;
    const op = this.newOp({ kind: 'rsWrite', id: m.id, offset: m.offset, length: m.payload.length, gen: this.connGen });
    this.out.push({ type: 'writeLocal', op, offset: m.offset, data: m.payload, fua: false, origin: 'resync' });
  }

  private onRsNegAck(id: number): void {
    const req = this.rsInFlight.get(id);
    if (!req) return;
    this.rsInFlight.delete(id);
    this.log('error', `Peer could not read ${sectors(req.length)} sectors at sector ${sectors(req.offset)} for the resync`);
    this.dropConnection('ProtocolError', true);
  }

  private maybeFinishResync(): void {
    if (this.conn !== 'SyncTarget' && this.conn !== 'PausedSyncT') return;
    if (this.rsInFlight.size > 0 || this.bitmap.countDirty() > 0) return;
    this.send({ type: 'resyncDone' });
    // drbd_resync_finished on the target: take the source's UUIDs.
    const src = this.peerUuids ?? this.gen.uuids;
    this.finishResync(false, { current: src.current, bitmap: 0n, history1: this.syncUuid ?? src.bitmap, history2: src.history1 });
    this.out.push({ type: 'handler', name: 'after-resync-target' });
  }

  private onPeerResyncDone(): void {
    if (this.conn !== 'SyncSource' && this.conn !== 'PausedSyncS') return;
    this.bitmap.clear(0, this.bitmap.blocks);
    const u = this.gen.uuids;
    this.finishResync(true, { current: u.current, bitmap: 0n, history1: u.bitmap, history2: u.history1 });
  }

  private finishResync(source: boolean, uuids: Uuids): void {
    const r = this.resync;
    const total = Math.max(1, Math.round((this.now - (r?.startedAt ?? this.now)) / 1000));
    const paused = Math.round((r?.pausedMs ?? 0) / 1000);
    const kb = (r?.totalBits ?? 0) * 4;
    const rate = Math.round(kb / Math.max(1, total - paused));
    this.log('info', `Resync done (total ${total} sec; paused ${paused} sec; ${rate} K/sec)`);
    this.resync = undefined;
    this.bucket = undefined;
    this.setUuids(uuids, 'updated UUIDs');
    this.saveGen({ ...this.gen.flags, consistent: true, wasUpToDate: true });
    if (source) this.setStates({ conn: 'Connected', peerDisk: 'UpToDate' });
    else this.setStates({ conn: 'Connected', disk: 'UpToDate' });
    this.peerUuids = uuids;
  }

  // ---------------------------------------------------------------- online verify

  private startVerify(source: boolean, start: number, stop: number): void {
    this.ovCursor = Math.floor(start / BLOCK_BYTES) * BLOCK_BYTES;
    this.ovStop = stop;
    this.ovFound = 0;
    this.ovPending.clear();
    this.lastOos = undefined;
    this.ovTotalBlocks = Math.ceil((stop - this.ovCursor) / BLOCK_BYTES);
    this.ovDoneBlocks = 0;
    this.resync = { totalBits: this.ovTotalBlocks, startedAt: this.now, pausedMs: 0, pausedSince: undefined, verify: true };
    this.log('info', `Online Verify start sector: ${sectors(this.ovCursor)}`);
    if (source) {
      const burst = Math.max(this.cfg.resyncRateBytesPerSec / 10, BLOCK_BYTES);
      this.bucket = new TokenBucket(this.cfg.resyncRateBytesPerSec, burst, this.now);
    }
    this.setConn(source ? 'VerifyS' : 'VerifyT');
    if (source) this.maybeFinishVerify();
  }

  private pumpVerify(): void {
    if (this.bucket === undefined || this.channel === undefined || this.cfg.verifyAlg === undefined) return;
    while (this.ovCursor < this.ovStop && this.ovPending.size < this.maxInFlight()) {
      const length = Math.min(BLOCK_BYTES, this.ovStop - this.ovCursor);
      if (!this.bucket.take(length, this.now)) break;
      const id = this.nextRsId++ >>> 0;
      const offset = this.ovCursor;
      this.ovPending.set(id, { offset, length });
      this.ovCursor += length;
      this.send({ type: 'ovRequest', id, offset, length });
      const op = this.newOp({ kind: 'ovRead', id, offset, length, gen: this.connGen, source: true });
      this.out.push({ type: 'readLocal', op, offset, length, origin: 'verify' });
    }
  }

  private onOvReply(id: number, d: Uint8Array): void {
    const p = this.ovPending.get(id);
    if (!p || this.conn !== 'VerifyS') return;
    p.theirs = d;
    this.maybeOvResult(id);
  }

  private maybeOvResult(id: number): void {
    const p = this.ovPending.get(id);
    if (!p || p.mine === undefined || p.theirs === undefined) return;
    this.ovPending.delete(id);
    this.ovDoneBlocks++;
    if (!bytesEqual(p.mine, p.theirs)) {
      this.ovFound++;
      this.markDirty(p.offset, p.length);
      if (this.lastOos && this.lastOos.end === p.offset) this.lastOos.end = p.offset + p.length;
      else {
        this.flushOos();
        this.lastOos = { start: p.offset, end: p.offset + p.length };
      }
    }
    this.maybeFinishVerify();
  }

  private flushOos(): void {
    if (this.lastOos) this.log('warn', `Out of sync: start=${sectors(this.lastOos.start)}, size=${sectors(this.lastOos.end - this.lastOos.start)} (sectors)`);
    this.lastOos = undefined;
  }

  private maybeFinishVerify(): void {
    if (this.conn !== 'VerifyS' || this.ovCursor < this.ovStop || this.ovPending.size > 0) return;
    this.flushOos();
    this.send({ type: 'verifyDone' });
    this.finishVerify(true);
  }

  private finishVerify(source: boolean): void {
    const r = this.resync;
    const total = Math.max(1, Math.round((this.now - (r?.startedAt ?? this.now)) / 1000));
    const kb = (r?.totalBits ?? 0) * 4;
    this.log('info', `Online verify done (total ${total} sec; paused 0 sec; ${Math.round(kb / total)} K/sec)`);
    if (source && this.ovFound > 0) {
      this.log('warn', `Online verify found ${this.ovFound} 4k block out of sync!`);
      this.out.push({ type: 'handler', name: 'out-of-sync' });
    }
    this.resync = undefined;
    this.bucket = undefined;
    this.setConn('Connected');
  }
}

