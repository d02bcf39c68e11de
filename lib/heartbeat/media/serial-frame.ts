/**
 * What goes out on a serial link: the classic text format. serial.c takes the
 * netstring packet every medium is given, recomputes its inner `auth` field
 * and writes it as classic; we do the same with lib/heartbeat/wire.
 */
import { CLASSIC_START, NETSTRING_START, WireError, decodePacket, encodeClassic, signInner, type AuthKey } from '../wire/index.js';
import { MediaError, MediaErrorCode } from './errors.js';

const startsWith = (b: Uint8Array, marker: string): boolean => Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, 4)).toString('latin1') === marker;

/**
 * Classic bytes for `packet`: a classic packet as is, a netstring packet
 * re-encoded (re-signed with `key` when given; without a key its inner
 * `auth` field must already be there, as with the default `msgfmt classic`).
 */
export function serialFrameOf(packet: Uint8Array, key: AuthKey | undefined, medium: string): Uint8Array {
  if (startsWith(packet, CLASSIC_START)) return packet;
  if (!startsWith(packet, NETSTRING_START)) throw new MediaError(MediaErrorCode.BadPacket, 'not a heartbeat packet (neither ###\\n nor >>>\\n)', { medium });
  try {
    const { message } = decodePacket(packet);
    if (key !== undefined) signInner(message, key);
    else if (!message.has('auth')) throw new MediaError(MediaErrorCode.BadPacket, 'netstring packet without an inner auth field, and no key to sign it', { medium });
    return encodeClassic(message);
  } catch (e) {
    if (e instanceof WireError) throw new MediaError(MediaErrorCode.BadPacket, `cannot write as classic: ${e.message}`, { medium, cause: e });
    throw e;
  }
}
