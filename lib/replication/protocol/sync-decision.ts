/**
 * The sync decision on connect (drbd-spec §4.6, §4.7): compare generation
 * UUIDs (DRBD 8.4's drbd_uuid_compare rules 10..100), let disk states
 * override, apply the after-split-brain policies by the number of current
 * Primaries, --discard-my-data, and rr-conflict. Pure: both peers run it on
 * mirrored inputs and reach mirrored verdicts; `resolveConflicts` (exactly
 * one side has it) breaks ties.
 *
 * Result convention as DRBD's `hg`: > 0 I am sync source, < 0 target,
 * |1| bitmap-based, |2| full sync, 0 no sync, ±100 split brain, -1000 unrelated.
 */
import type { Uuids } from './messages.js';
import { UUID_FLAG_CRASHED_PRIMARY, UUID_FLAG_DISCARD_MY_DATA } from './messages.js';
import type { AfterSb0, AfterSb1, AfterSb2, DiskState, Role, RrConflict } from './states.js';
import { diskRank } from './states.js';

export const UUID_JUST_CREATED = 4n;
/** What a resync start adds to the bitmap UUID (DRBD's UUID_NEW_BM_OFFSET). */
export const UUID_NEW_BM_OFFSET = 1n << 48n;
const U64 = (1n << 64n) - 1n;
const m = (u: bigint): bigint => u & ~1n & U64;

export interface UuidSide {
  readonly uuids: Uuids;
  readonly crashedPrimary: boolean;
  readonly role: Role;
}

export interface UuidVerdict {
  readonly hg: number;
  readonly rule: number;
}

/** drbd_uuid_compare of DRBD 8.4. */
export function uuidCompare(self: UuidSide, peer: UuidSide, resolveConflicts: boolean): UuidVerdict {
  const s = self.uuids;
  const p = peer.uuids;
  let mine = m(s.current);
  let theirs = m(p.current);
  if (mine === UUID_JUST_CREATED && theirs === UUID_JUST_CREATED) return { hg: 0, rule: 10 };
  if ((mine === UUID_JUST_CREATED || mine === 0n) && theirs !== UUID_JUST_CREATED) return { hg: -2, rule: 20 };
  if (mine !== UUID_JUST_CREATED && (theirs === UUID_JUST_CREATED || theirs === 0n)) return { hg: 2, rule: 30 };
  if (mine === theirs) {
    // I was SyncSource and the peer finished (or missed the finish): fix history.
    if (m(p.bitmap) === 0n && m(s.bitmap) !== 0n) return { hg: 1, rule: 34 };
    if (m(s.bitmap) === 0n && m(p.bitmap) !== 0n) return { hg: -1, rule: 35 };
    const rct = (self.crashedPrimary ? 1 : 0) + (peer.crashedPrimary ? 2 : 0);
    if (rct === 0) return { hg: 0, rule: 40 };
    if (self.role === 'Primary' || peer.role === 'Primary') {
      if (self.role === 'Primary' && peer.role === 'Primary') return { hg: -100, rule: 41 };
      return { hg: self.role === 'Primary' ? 1 : -1, rule: 41 };
    }
    if (rct === 1) return { hg: 1, rule: 40 };
    if (rct === 2) return { hg: -1, rule: 40 };
    return { hg: resolveConflicts ? -1 : 1, rule: 40 };
  }
  theirs = m(p.bitmap);
  if (mine === theirs) return { hg: -1, rule: 50 };
  theirs = m(p.history1);
  if (mine === theirs && m(p.bitmap) === ((m(p.history1) + UUID_NEW_BM_OFFSET) & U64 & ~1n)) return { hg: -1, rule: 51 };
  for (const h of [p.history1, p.history2]) if (mine === m(h)) return { hg: -2, rule: 60 };
  mine = m(s.bitmap);
  theirs = m(p.current);
  if (mine === theirs) return { hg: 1, rule: 70 };
  mine = m(s.history1);
  if (mine === theirs && m(s.bitmap) === ((m(s.history1) + UUID_NEW_BM_OFFSET) & U64 & ~1n)) return { hg: 1, rule: 71 };
  for (const h of [s.history1, s.history2]) if (m(h) === theirs) return { hg: 2, rule: 80 };
  mine = m(s.bitmap);
  theirs = m(p.bitmap);
  if (mine === theirs && mine !== 0n) return { hg: 100, rule: 90 };
  for (const a of [s.history1, s.history2]) {
    for (const b of [p.history1, p.history2]) if (m(a) !== 0n && m(a) === m(b)) return { hg: -100, rule: 100 };
  }
  return { hg: -1000, rule: 0 };
}

export interface HandshakeSide {
  readonly uuids: Uuids;
  readonly uuidFlags: number;
  readonly role: Role;
  readonly disk: DiskState;
  /** Bits set in this side's bitmap now (discard-least-changes). */
  readonly bitsSet: number;
}

export interface HandshakePolicy {
  readonly afterSb0: AfterSb0;
  readonly afterSb1: AfterSb1;
  readonly afterSb2: AfterSb2;
  readonly rrConflict: RrConflict;
  readonly alwaysAsbp: boolean;
  /** connect --discard-my-data on this node. */
  readonly discardMyData: boolean;
  readonly resolveConflicts: boolean;
  /** The device is open (mounted): a losing Primary cannot demote. */
  readonly deviceInUse: boolean;
}

export type HandshakeOutcome =
  | { readonly kind: 'connected' }
  | { readonly kind: 'sync'; readonly source: boolean; readonly full: boolean }
  | { readonly kind: 'disconnect'; readonly reason: 'unrelated' | 'split-brain' | 'inconsistent-source' | 'rr-conflict' };

export interface HandshakeResult {
  readonly outcome: HandshakeOutcome;
  readonly hg: number;
  readonly rule: number;
  readonly logs: readonly { readonly level: 'info' | 'warn' | 'error'; readonly msg: string }[];
  /** Handlers to run, in order (`initial-split-brain`, `split-brain`, `pri-lost-after-sb`, `pri-lost`). */
  readonly handlers: readonly string[];
  /** The losing Primary demotes itself (call-pri-lost-after-sb). */
  readonly demote: boolean;
}

const hex = (u: bigint): string => (u & U64).toString(16).toUpperCase().padStart(16, '0');
export const uuidLine = (u: Uuids): string => `${hex(u.current)}:${hex(u.bitmap)}:${hex(u.history1)}:${hex(u.history2)}`;

/** drbd_asb_recover_0p. */
function recover0p(policy: AfterSb0, self: HandshakeSide, peer: HandshakeSide, resolveConflicts: boolean, logs: HandshakeResult['logs'][number][]): number {
  const selfWasPri = (self.uuids.bitmap & 1n) === 1n;
  const peerWasPri = (peer.uuids.bitmap & 1n) === 1n;
  const tie = resolveConflicts ? -1 : 1;
  const zeroOrLeast = (leastToo: boolean): number => {
    if (self.bitsSet === 0 && peer.bitsSet === 0) return tie;
    if (peer.bitsSet === 0) return 1;
    if (self.bitsSet === 0) return -1;
    if (!leastToo) return -100;
    return self.bitsSet < peer.bitsSet ? -1 : self.bitsSet > peer.bitsSet ? 1 : tie;
  };
  switch (policy) {
    case 'disconnect':
      return -100;
    case 'discard-younger-primary':
    case 'discard-older-primary': {
      if (selfWasPri !== peerWasPri) {
        const iAmOlder = selfWasPri;
        return (policy === 'discard-younger-primary') === iAmOlder ? 1 : -1;
      }
      logs.push({ level: 'warn', msg: 'Discard younger/older primary did not find a decision' });
      logs.push({ level: 'warn', msg: 'Using discard-least-changes instead' });
      return zeroOrLeast(true);
    }
    case 'discard-zero-changes':
      return zeroOrLeast(false);
    case 'discard-least-changes':
      return zeroOrLeast(true);
    case 'discard-local':
      return -1;
    case 'discard-remote':
      return 1;
  }
}

/** drbd_sync_handshake: what happens after the UUID comparison. */
export function syncHandshake(self: HandshakeSide, peer: HandshakeSide, policy: HandshakePolicy): HandshakeResult {
  const logs: { level: 'info' | 'warn' | 'error'; msg: string }[] = [];
  const handlers: string[] = [];
  let demote = false;
  logs.push({ level: 'info', msg: 'drbd_sync_handshake:' });
  logs.push({ level: 'info', msg: `self ${uuidLine(self.uuids)} bits:${self.bitsSet} flags:${self.uuidFlags}` });
  logs.push({ level: 'info', msg: `peer ${uuidLine(peer.uuids)} bits:${peer.bitsSet} flags:${peer.uuidFlags}` });
  const v = uuidCompare(
    { uuids: self.uuids, crashedPrimary: (self.uuidFlags & UUID_FLAG_CRASHED_PRIMARY) !== 0, role: self.role },
    { uuids: peer.uuids, crashedPrimary: (peer.uuidFlags & UUID_FLAG_CRASHED_PRIMARY) !== 0, role: peer.role },
    policy.resolveConflicts,
  );
  let hg = v.hg;
  logs.push({ level: 'info', msg: `uuid_compare()=${hg} by rule ${v.rule}` });
  const done = (outcome: HandshakeOutcome): HandshakeResult => ({ outcome, hg, rule: v.rule, logs, handlers, demote });
  if (hg === -1000) {
    logs.push({ level: 'error', msg: 'Unrelated data, aborting!' });
    return done({ kind: 'disconnect', reason: 'unrelated' });
  }
  const inc = diskRank('Inconsistent');
  if ((self.disk === 'Inconsistent' && diskRank(peer.disk) > inc) || (peer.disk === 'Inconsistent' && diskRank(self.disk) > inc)) {
    const full = hg === -100 || Math.abs(hg) === 2;
    hg = diskRank(self.disk) > inc ? 1 : -1;
    if (full) hg *= 2;
    logs.push({ level: 'info', msg: `Becoming sync ${hg > 0 ? 'source' : 'target'} due to disk states.` });
  }
  if (Math.abs(hg) === 100) handlers.push('initial-split-brain');
  if (hg === 100 || (hg === -100 && policy.alwaysAsbp)) {
    const pcount = (self.role === 'Primary' ? 1 : 0) + (peer.role === 'Primary' ? 1 : 0);
    const forced = hg === -100;
    const zero = (): number => recover0p(policy.afterSb0, self, peer, policy.resolveConflicts, logs);
    const selfPrimary = self.role === 'Primary';
    const losePrimary = (r: number): number => {
      // call-pri-lost-after-sb: a losing Primary demotes, or its handler runs.
      if (r === -1 && selfPrimary) {
        if (policy.deviceInUse) {
          handlers.push('pri-lost-after-sb');
          return -100;
        }
        demote = true;
        logs.push({ level: 'info', msg: 'Successfully gave up primary role.' });
      }
      return r;
    };
    let r = -100;
    if (pcount === 0) r = zero();
    else if (pcount === 1) {
      switch (policy.afterSb1) {
        case 'disconnect':
          break;
        case 'consensus': {
          const z = zero();
          if ((z === -1 && !selfPrimary) || (z === 1 && selfPrimary)) r = z;
          break;
        }
        case 'violently-as0p':
          r = zero();
          break;
        case 'discard-secondary':
          r = selfPrimary ? 1 : -1;
          break;
        case 'call-pri-lost-after-sb':
          r = losePrimary(zero());
          break;
      }
    } else {
      switch (policy.afterSb2) {
        case 'disconnect':
          break;
        case 'violently-as0p':
          r = zero();
          break;
        case 'call-pri-lost-after-sb':
          r = losePrimary(zero());
          break;
      }
    }
    hg = r;
    if (Math.abs(hg) < 100) {
      logs.push({ level: 'warn', msg: `Split-Brain detected, ${pcount} primaries, automatically solved. Sync from ${hg < 0 ? 'peer' : 'this'} node` });
      if (forced) {
        logs.push({ level: 'warn', msg: 'Doing a full sync, since UUIDs where ambiguous.' });
        hg *= 2;
      }
    }
  }
  if (hg === -100) {
    const peerDiscards = (peer.uuidFlags & UUID_FLAG_DISCARD_MY_DATA) !== 0;
    if (policy.discardMyData && !peerDiscards) hg = -1;
    if (!policy.discardMyData && peerDiscards) hg = 1;
    if (Math.abs(hg) < 100) logs.push({ level: 'warn', msg: `Split-Brain detected, manually solved. Sync from ${hg < 0 ? 'peer' : 'this'} node` });
  }
  if (hg === -100 || hg === 100) {
    logs.push({ level: 'error', msg: 'Split-Brain detected but unresolved, dropping connection!' });
    handlers.push('split-brain');
    return done({ kind: 'disconnect', reason: 'split-brain' });
  }
  if (hg > 0 && diskRank(self.disk) <= inc) {
    logs.push({ level: 'error', msg: 'I shall become SyncSource, but I am inconsistent!' });
    return done({ kind: 'disconnect', reason: 'inconsistent-source' });
  }
  if (hg < 0 && self.role === 'Primary' && !demote && diskRank(self.disk) >= diskRank('Consistent')) {
    if (policy.rrConflict === 'call-pri-lost') handlers.push('pri-lost');
    if (policy.rrConflict !== 'violently') {
      logs.push({ level: 'error', msg: 'I shall become SyncTarget, but I am primary!' });
      return done({ kind: 'disconnect', reason: 'rr-conflict' });
    }
    logs.push({ level: 'warn', msg: 'Becoming SyncTarget, violating the stable-data assumption' });
  }
  if (Math.abs(hg) >= 2) logs.push({ level: 'info', msg: 'Writing the whole bitmap, full sync required after drbd_sync_handshake.' });
  if (hg === 0) return done({ kind: 'connected' });
  return done({ kind: 'sync', source: hg > 0, full: Math.abs(hg) >= 2 });
}
