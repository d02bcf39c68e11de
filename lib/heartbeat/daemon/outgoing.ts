/**
 * What we send: the membership's and the seq layer's messages, given the
 * control fields (seq for sequenced types, hg, ts, ld, ttl) by the wire
 * helpers, signed with the active key, and put on every medium as the same
 * bytes, as the original does.
 */
import * as fs from 'node:fs';
import type { Medium } from '../media/index.js';
import type { MembershipAction } from '../membership/index.js';
import { HaMessage, addControlFields, encodeSignedNetstring, isUnsequencedType, type AuthKey } from '../wire/index.js';

export interface SenderConfig {
  readonly localNode: string;
  readonly uuid: Uint8Array;
  readonly generation: number;
  readonly key: AuthKey;
  readonly ttl: number;
  readonly innerAuth: boolean;
  /** Wall clock in seconds for `ts`. */
  readonly wallSeconds?: () => number;
  /** The `ld` field: /proc/loadavg by default. */
  readonly load?: () => string;
}

export function procLoadavg(): string {
  try {
    return fs.readFileSync('/proc/loadavg', 'latin1').trim();
  } catch {
    return 'n/a';
  }
}

/** One packet ready for the media; `seq` when it is a sequenced (history) packet. */
export interface Outgoing {
  readonly bytes: Uint8Array;
  readonly seq: number | undefined;
}

export class PacketStamper {
  /** ha_msg_seq: one counter for every non-NS_ message, starting at 1. */
  private lastSeq = 0;
  private key: AuthKey;
  private ttl: number;
  private innerAuth: boolean;
  constructor(private readonly c: SenderConfig) {
    this.key = c.key;
    this.ttl = c.ttl;
    this.innerAuth = c.innerAuth;
  }

  setKey(key: AuthKey): void {
    this.key = key;
  }

  /** ha.cf re-read: `ttl` (hopfudge + nodes) and `msgfmt` from now on; seq and generation go on. */
  setFormat(ttl: number, innerAuth: boolean): void {
    this.ttl = ttl;
    this.innerAuth = innerAuth;
  }

  stamp(m: HaMessage): Outgoing {
    const type = m.type ?? '';
    const seq = isUnsequencedType(type) ? undefined : ++this.lastSeq;
    addControlFields(m, {
      src: this.c.localNode,
      srcUuid: this.c.uuid,
      generation: this.c.generation,
      timestamp: Math.max(1, (this.c.wallSeconds ?? (() => Math.floor(Date.now() / 1000)))()),
      load: (this.c.load ?? procLoadavg)(),
      ttl: this.ttl,
      ...(seq !== undefined ? { seq } : {}),
    });
    return { bytes: encodeSignedNetstring(m, { key: this.key, innerAuth: this.innerAuth }), seq };
  }
}

/** The membership's send actions as messages, fields in the original's order (heartbeat-wire.md §3.2, §5.1). */
export function membershipMessage(a: MembershipAction): HaMessage | undefined {
  switch (a.kind) {
    case 'sendStatus': {
      const m = new HaMessage().add('t', 'status').add('st', a.status).setHex('dt', a.deadtimeMs);
      if (a.protocol) m.add('protocol', '1');
      return m;
    }
    case 'sendReqnodes':
      return new HaMessage().add('t', 'reqnodes').add('dest', a.dest);
    case 'sendRepnodes':
      return new HaMessage()
        .add('dest', a.dest)
        .add('t', 'repnodes')
        .add('nodelist', a.nodelist.map((n) => `${n} `).join(''))
        .add('delnodelist', a.delnodelist.length === 0 ? ' ' : a.delnodelist.map((n) => `${n} `).join(''));
    case 'sendShutdone':
      return new HaMessage().add('t', 'shutdone').add('st', 'dead');
    default:
      return undefined;
  }
}

/** Hands the bytes to every medium; a refusal is reported, never thrown. */
export function sendOnAll(media: readonly Medium[], bytes: Uint8Array, onRefused: (m: Medium, e: unknown) => void): void {
  for (const m of media) {
    try {
      m.send(bytes);
    } catch (e) {
      onRefused(m, e);
    }
  }
}
