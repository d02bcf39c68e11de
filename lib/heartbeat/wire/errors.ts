/**
 * Typed failures of the wire codec. Every malformed input ends in a WireError
 * (an HbError) with one of these stable codes, so the transport can count and
 * log bad packets by kind without parsing messages, and never crashes.
 */
import { HbError } from '../../shared/errors.js';

export const WireErrorCode = {
  /** Input larger than MAX_WIRE_MESSAGE_BYTES. */
  TooLarge: 'WIRE_TOO_LARGE',
  /** Neither `###\n` (netstring) nor `>>>\n` (classic) where a message must start. */
  BadStart: 'WIRE_BAD_START',
  /** Input ends before the message does (no end marker, a length running past the end). */
  Truncated: 'WIRE_TRUNCATED',
  /** A netstring length prefix, its `:` or its closing `,` is wrong. */
  BadNetstring: 'WIRE_BAD_NETSTRING',
  /** A field without `(t)` prefix, an empty or illegal name, no `=`. */
  BadField: 'WIRE_BAD_FIELD',
  /** A field type digit we do not decode (only 0 string, 1 binary, 2 struct, 3 list). */
  BadFieldType: 'WIRE_BAD_FIELD_TYPE',
  /** A classic line that is empty or has no `=`. */
  BadLine: 'WIRE_BAD_LINE',
  /** A binary value in classic format that is not canonical base64. */
  BadBase64: 'WIRE_BAD_BASE64',
  /** A packed string list that does not parse. */
  BadList: 'WIRE_BAD_LIST',
  /** Nested messages deeper than MAX_NESTING_DEPTH. */
  TooDeep: 'WIRE_TOO_DEEP',
  /** The netstring auth trailer is not `<n> <token>` in a netstring. */
  BadTrailer: 'WIRE_BAD_TRAILER',
  /** Bytes after the end of the message (and its trailer). */
  TrailingData: 'WIRE_TRAILING_DATA',
  /** A message the chosen format cannot represent (e.g. NUL in a classic string value). */
  Unencodable: 'WIRE_UNENCODABLE',
  /** A bug of ours met while decoding; reported as a bad packet so a peer can never crash us. */
  Internal: 'WIRE_INTERNAL',
  /** No signature to check: no trailer (netstring) or no `auth` field (classic). */
  AuthMissing: 'WIRE_AUTH_MISSING',
  /** The signature text is not `<index> <token>`. */
  AuthMalformed: 'WIRE_AUTH_MALFORMED',
  /** The signature names a key index we do not have. */
  AuthUnknownKey: 'WIRE_AUTH_UNKNOWN_KEY',
  /** The signature does not match the bytes. */
  AuthMismatch: 'WIRE_AUTH_MISMATCH',
} as const;

export type WireErrorCode = (typeof WireErrorCode)[keyof typeof WireErrorCode];

export class WireError extends HbError {
  declare readonly code: WireErrorCode;
  /** Byte offset in the input where the problem was found, when it is about input. */
  readonly offset: number | undefined;
  constructor(code: WireErrorCode, message: string, offset?: number) {
    super(code, offset === undefined ? message : `${message} (at byte ${offset})`);
    this.name = 'WireError';
    this.offset = offset;
  }
}
