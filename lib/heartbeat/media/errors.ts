/**
 * Typed failures of the media layer. Configuration and open problems are
 * thrown; problems met while running (a send the kernel refused, a tty that
 * went away) are reported as `fault` events, because a cable being unplugged
 * is a normal event for a cluster, not a crash.
 */
import { HbError } from '../../shared/errors.js';

export const MediaErrorCode = {
  /** An impossible medium setting: port, ttl, loop, baud, group, peer address. */
  BadConfig: 'MEDIA_BAD_CONFIG',
  /** The named interface does not exist or has no IPv4 address. */
  NoInterface: 'MEDIA_NO_INTERFACE',
  /** The UDP port (or multicast group) could not be bound. */
  BindFailed: 'MEDIA_BIND_FAILED',
  /** The serial device could not be opened or configured. */
  OpenFailed: 'MEDIA_OPEN_FAILED',
  /** send() on a closed medium. */
  Closed: 'MEDIA_CLOSED',
  /** send() of more bytes than the medium carries (a UDP datagram, a serial frame). */
  PacketTooLarge: 'MEDIA_PACKET_TOO_LARGE',
  /** send() of bytes that cannot be framed for the medium (serial needs a heartbeat packet). */
  BadPacket: 'MEDIA_BAD_PACKET',
  /** Fault: the kernel refused a send (unplugged cable, firewall, no route). */
  SendFailed: 'MEDIA_SEND_FAILED',
  /** Fault: the receive socket reported an error. */
  ReceiveFailed: 'MEDIA_RECEIVE_FAILED',
  /** Fault: the serial device went away (the other end of a pty closed, EIO). */
  DeviceLost: 'MEDIA_DEVICE_LOST',
} as const;

export type MediaErrorCode = (typeof MediaErrorCode)[keyof typeof MediaErrorCode];

export class MediaError extends HbError {
  declare readonly code: MediaErrorCode;
  /** The medium's name (interface or device path), when the error is about one. */
  readonly medium: string | undefined;
  constructor(code: MediaErrorCode, message: string, opts: { medium?: string; cause?: unknown } = {}) {
    super(code, opts.medium === undefined ? message : `${opts.medium}: ${message}`, { cause: opts.cause });
    this.name = 'MediaError';
    this.medium = opts.medium;
  }
}
