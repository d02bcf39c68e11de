/**
 * Base64 as glue writes binary values in classic format: standard alphabet,
 * `=` padding, no line breaks. Decoding accepts only that canonical form
 * (Buffer's own decoder would silently skip junk).
 */
import { WireError, WireErrorCode } from './errors.js';

const CANONICAL = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const toBase64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64');

export function fromBase64(text: string, offset: number): Uint8Array {
  if (!CANONICAL.test(text)) throw new WireError(WireErrorCode.BadBase64, 'binary value is not base64', offset);
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  // Unused low bits must be zero, otherwise two texts would give one value.
  if (toBase64(bytes) !== text) throw new WireError(WireErrorCode.BadBase64, 'binary value is not canonical base64', offset);
  return bytes;
}
