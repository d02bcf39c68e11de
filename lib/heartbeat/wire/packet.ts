/**
 * Whole packets: what a medium hands us and what we hand it. Decoding
 * dispatches on the first four bytes like glue's wirefmt2msg (`###\n`
 * netstring, `>>>\n` classic) and never throws anything but WireError;
 * authentication is a separate, explicit step.
 */
import { assertAuthentic, signBytes, signInner, verifyInner, verifyTrailer, type AuthKey, type AuthVerdict, type VerifyOptions } from './auth.js';
import { hasAt } from './bytes.js';
import { CLASSIC_START, decodeClassic, encodeClassic } from './classic.js';
import { WireError, WireErrorCode } from './errors.js';
import type { HaMessage } from './message.js';
import { NETSTRING_START, decodeNetstring, encodeNetstring, encodeNetstringBody, type AuthTrailer } from './netstring.js';

export type WireFormat = 'netstring' | 'classic';

export type DecodedPacket =
  | {
      readonly format: 'netstring';
      readonly message: HaMessage;
      /** `###\n` .. `%%%\n`: what the trailer signs. */
      readonly signedBytes: Uint8Array;
      readonly trailer: AuthTrailer | undefined;
    }
  | { readonly format: 'classic'; readonly message: HaMessage; readonly trailingNul: boolean };

/** Decodes either format; throws WireError (never anything else) when malformed. */
export function decodePacket(input: Uint8Array): DecodedPacket {
  try {
    if (hasAt(input, 0, NETSTRING_START)) return { format: 'netstring', ...decodeNetstring(input) };
    if (hasAt(input, 0, CLASSIC_START)) return { format: 'classic', ...decodeClassic(input) };
  } catch (e) {
    if (e instanceof WireError) throw e;
    // A bug of ours must not take the daemon down with a peer's packet; keep it typed.
    throw new WireError(WireErrorCode.Internal, `undecodable packet: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (input.length < 4) throw new WireError(WireErrorCode.Truncated, `packet of ${input.length} bytes`, 0);
  throw new WireError(WireErrorCode.BadStart, 'packet starts with neither "###\\n" nor ">>>\\n"', 0);
}

/** The receiver's check: the trailer for netstring, the inner `auth` field for classic. */
export function verifyPacket(p: DecodedPacket, keys: readonly AuthKey[], opts: VerifyOptions = {}): AuthVerdict {
  return p.format === 'netstring' ? verifyTrailer(p.signedBytes, p.trailer, keys, opts) : verifyInner(p.message, keys);
}

/** Decode, then verify; throws WireError with a WIRE_AUTH_* code when not authentic. */
export function decodeAuthenticPacket(input: Uint8Array, keys: readonly AuthKey[], opts: VerifyOptions = {}): DecodedPacket {
  const p = decodePacket(input);
  assertAuthentic(verifyPacket(p, keys, opts));
  return p;
}

/** Re-encodes a decoded packet as it came (same format, same trailer): byte-identical. */
export function reencodePacket(p: DecodedPacket): Uint8Array {
  return p.format === 'netstring' ? encodeNetstring(p.message, p.trailer) : encodeClassic(p.message, { trailingNul: p.trailingNul });
}

export interface SignOptions {
  /** The active key (`auth N` in authkeys). */
  readonly key: AuthKey;
  /**
   * Also add the inner `auth` field, as a 3.0.6 node with the default
   * `msgfmt classic` does (default true). Only for netstring: classic always has it.
   */
  readonly innerAuth?: boolean;
}

/**
 * What a 3.0.6 node sends over UDP: the message with its inner `auth` field,
 * in netstring format, with the trailer. The caller's message is not changed.
 */
export function encodeSignedNetstring(m: HaMessage, opts: SignOptions): Uint8Array {
  const msg = m.clone();
  if (opts.innerAuth !== false) signInner(msg, opts.key);
  const body = encodeNetstringBody(msg);
  return encodeNetstring(msg, signBytes(opts.key, body));
}

/** What a serial link carries: classic format with the inner `auth` field. */
export function encodeSignedClassic(m: HaMessage, opts: { readonly key: AuthKey; readonly trailingNul?: boolean }): Uint8Array {
  const msg = signInner(m.clone(), opts.key);
  return encodeClassic(msg, { trailingNul: opts.trailingNul ?? false });
}
