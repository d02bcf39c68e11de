/** The Heartbeat 3.0.6 wire core: message model, both codecs, auth. No I/O. */
export * from './auth.js';
export * from './classic.js';
export * from './control-fields.js';
export * from './crc.js';
export * from './errors.js';
export * from './limits.js';
export * from './message.js';
export * from './netstring.js';
export * from './packet.js';
export * from './serial-framer.js';
export * from './signature.js';
export { fromBase64, toBase64 } from './base64.js';
