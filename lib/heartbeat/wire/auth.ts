/**
 * Message authentication as Heartbeat 3.0.6 computes it (heartbeat-wire.md §2).
 *
 * Two signatures exist, both `<index> <token>`:
 *  - the inner `auth` field (classic): over `classicAuthInput(message)`;
 *  - the netstring trailer: over the bytes `###\n` .. `%%%\n`, which include the
 *    inner field when present.
 * A receiver checks only the trailer of a netstring packet and only the inner
 * field of a classic one.
 *
 * Keys are plain `{ index, method, key }` objects so this module does not
 * depend on the authkeys parser.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { classicAuthInput } from './classic.js';
import { heartbeatCrcToken } from './crc.js';
import { WireError, WireErrorCode } from './errors.js';
import { MAX_AUTH_INDEX } from './limits.js';
import { F, type HaMessage } from './message.js';
import { formatSignature, parseSignature, type AuthSignature } from './signature.js';

export type AuthMethod = 'sha1' | 'md5' | 'crc';

/** One authkeys line: `index method [key]`. The key is raw bytes; strings are taken as UTF-8. */
export interface AuthKey {
  readonly index: number;
  readonly method: AuthMethod;
  /** Required for sha1 and md5, ignored for crc. */
  readonly key?: string | Uint8Array;
}

export type AuthVerdict =
  | { readonly ok: true; readonly index: number }
  | {
      readonly ok: false;
      readonly code:
        | typeof WireErrorCode.AuthMissing
        | typeof WireErrorCode.AuthMalformed
        | typeof WireErrorCode.AuthUnknownKey
        | typeof WireErrorCode.AuthMismatch;
      readonly reason: string;
    };

export interface VerifyOptions {
  /**
   * Whose key checks a netstring trailer. `indexed` (default): the key of the
   * index the trailer names. `active`: the method of that index with the key of
   * `activeIndex`, which is what a real 3.0.6 receiver does (a quirk that only
   * matters during key rotation).
   */
  readonly trailerKey?: 'indexed' | 'active';
  /** The local `auth N`; needed for `trailerKey: 'active'`. */
  readonly activeIndex?: number;
}

const keyBytes = (k: AuthKey): Uint8Array => (typeof k.key === 'string' ? Buffer.from(k.key, 'utf8') : (k.key ?? new Uint8Array()));

function checkKey(k: AuthKey): void {
  if (!Number.isInteger(k.index) || k.index < 0 || k.index > MAX_AUTH_INDEX) {
    throw new WireError(WireErrorCode.Unencodable, `auth key index must be 0-${MAX_AUTH_INDEX}, got ${k.index}`);
  }
  if (k.method !== 'crc' && keyBytes(k).length === 0) throw new WireError(WireErrorCode.Unencodable, `auth method ${k.method} needs a key`);
  if (k.method !== 'sha1' && k.method !== 'md5' && k.method !== 'crc') throw new WireError(WireErrorCode.Unencodable, `unknown auth method ${String(k.method)}`);
}

/** The token (lowercase hex) the original's plugin prints for `data`. */
export function computeAuthToken(method: AuthMethod, key: string | Uint8Array | undefined, data: Uint8Array): string {
  if (method === 'crc') return heartbeatCrcToken(data);
  // HMAC with the key as given; node hashes keys longer than the block, as RFC 2104 says.
  const k = typeof key === 'string' ? Buffer.from(key, 'utf8') : (key ?? new Uint8Array());
  return createHmac(method, k).update(data).digest('hex');
}

/** `<index> <token>` for `data` signed with `key`. */
export function signBytes(key: AuthKey, data: Uint8Array): AuthSignature {
  checkKey(key);
  return { index: key.index, token: computeAuthToken(key.method, key.key, data) };
}

/**
 * Adds the inner `auth` field, or replaces the existing one in place (as
 * ha_msg_mod does), signed with `key`.
 */
export function signInner(m: HaMessage, key: AuthKey): HaMessage {
  const t = signBytes(key, classicAuthInput(m));
  return m.setString(F.auth, formatSignature(t));
}

/** Compares tokens without leaking where they differ. */
function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a, 'latin1');
  const y = Buffer.from(b, 'latin1');
  return x.length === y.length && timingSafeEqual(x, y);
}

function checkToken(signature: AuthSignature, data: Uint8Array, keys: readonly AuthKey[], opts: VerifyOptions): AuthVerdict {
  const named = keys.find((k) => k.index === signature.index);
  if (named === undefined) {
    return { ok: false, code: WireErrorCode.AuthUnknownKey, reason: `no auth key with index ${signature.index}` };
  }
  let keyMaterial = named.key;
  if (opts.trailerKey === 'active') {
    const active = keys.find((k) => k.index === opts.activeIndex);
    if (active === undefined) return { ok: false, code: WireErrorCode.AuthUnknownKey, reason: `no active auth key ${String(opts.activeIndex)}` };
    keyMaterial = active.key;
  }
  const expected = computeAuthToken(named.method, keyMaterial, data);
  if (!sameToken(signature.token, expected)) {
    return { ok: false, code: WireErrorCode.AuthMismatch, reason: `signature does not match (key index ${signature.index}, ${named.method})` };
  }
  return { ok: true, index: signature.index };
}

/** Checks a netstring trailer against the bytes it signs. */
export function verifyTrailer(signedBytes: Uint8Array, trailer: AuthSignature | undefined, keys: readonly AuthKey[], opts: VerifyOptions = {}): AuthVerdict {
  if (trailer === undefined) return { ok: false, code: WireErrorCode.AuthMissing, reason: 'no auth trailer' };
  return checkToken(trailer, signedBytes, keys, opts);
}

/**
 * Checks the inner `auth` field: the last one, as the original's isauthentic()
 * does, over every field not named `auth`.
 */
export function verifyInner(m: HaMessage, keys: readonly AuthKey[]): AuthVerdict {
  const text = m.auth;
  if (text === undefined) return { ok: false, code: WireErrorCode.AuthMissing, reason: 'no auth field' };
  const sig = parseSignature(text);
  if (sig === undefined) return { ok: false, code: WireErrorCode.AuthMalformed, reason: 'auth field is not "<index> <token>"' };
  let input: Uint8Array;
  try {
    input = classicAuthInput(m);
  } catch {
    // The original cannot render such a message either, so it cannot be authentic.
    return { ok: false, code: WireErrorCode.AuthMismatch, reason: 'message has no classic rendering to check' };
  }
  return checkToken(sig, input, keys, {});
}

/** Throws the verdict as a WireError when it is a failure. */
export function assertAuthentic(v: AuthVerdict): void {
  if (!v.ok) throw new WireError(v.code, v.reason);
}

