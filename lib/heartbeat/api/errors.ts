/**
 * Typed failures of the local client API. A client that sends garbage gets
 * its connection closed with one of these codes logged; it never crashes the
 * daemon.
 */
import { HbError } from '../../shared/errors.js';

export const ApiErrorCode = {
  /** The 8-byte IPC header does not carry clplumbing's magic number 0xABCD. */
  BadMagic: 'API_BAD_MAGIC',
  /** The IPC header announces a negative length or one over MAX_IPC_BODY_BYTES. */
  BadLength: 'API_BAD_LENGTH',
  /** The frame body is not a classic or netstring message (the cause is the WireError). */
  BadBody: 'API_BAD_BODY',
  /** A frame ended with the connection (header or body cut). */
  Truncated: 'API_TRUNCATED',
  /** The server could not be reached (no socket, refused). */
  NoServer: 'API_NO_SERVER',
} as const;

export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

export class ApiError extends HbError {
  declare readonly code: ApiErrorCode;
  constructor(code: ApiErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ApiError';
  }
}
