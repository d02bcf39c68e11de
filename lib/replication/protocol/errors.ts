/**
 * Typed failures of the replication protocol. A malformed frame from the
 * network always ends in a ReplError with one of these stable codes; the
 * connection is dropped (DRBD's ProtocolError) and the daemon never crashes.
 */
import { HbError } from '../../shared/errors.js';

export const ReplErrorCode = {
  /** The frame does not start with our magic: not our protocol, or the stream lost sync. */
  BadMagic: 'REPL_BAD_MAGIC',
  /** A frame header announces a body larger than MAX_FRAME_BODY. */
  TooLarge: 'REPL_TOO_LARGE',
  /** A message type we do not know. */
  UnknownType: 'REPL_UNKNOWN_TYPE',
  /** The body ends before the message does. */
  Truncated: 'REPL_TRUNCATED',
  /** Bytes left in the body after the message. */
  TrailingData: 'REPL_TRAILING_DATA',
  /** A field with a value out of its range (bad enum, unaligned offset, oversized string). */
  BadField: 'REPL_BAD_FIELD',
  /** Reserved header flags set. */
  BadFlags: 'REPL_BAD_FLAGS',
  /** A bitmap's run-length encoding does not decode to the announced number of bits. */
  BadBitmap: 'REPL_BAD_BITMAP',
  /** A message that cannot be encoded (payload too large, string too long). */
  Unencodable: 'REPL_UNENCODABLE',
  /** data-integrity-alg / verify-alg / cram-hmac-alg names an algorithm we do not have. */
  UnknownAlg: 'REPL_UNKNOWN_ALG',
  /** A local I/O request outside the device. */
  OutOfRange: 'REPL_OUT_OF_RANGE',
  /** A write refused because of the node's state (Secondary, no UpToDate data, ...). */
  StateRefused: 'REPL_STATE_REFUSED',
  /** A write or flush failed because the local disk failed. */
  IoError: 'REPL_IO_ERROR',
  /** The engine was stopped while a request was pending. */
  Stopped: 'REPL_STOPPED',
} as const;

export type ReplErrorCode = (typeof ReplErrorCode)[keyof typeof ReplErrorCode];

export class ReplError extends HbError {
  declare readonly code: ReplErrorCode;
  constructor(code: ReplErrorCode, message: string) {
    super(code, message);
    this.name = 'ReplError';
  }
}
