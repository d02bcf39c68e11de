/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum DRBD uses for
 * meta data and offers as data-integrity-alg/verify-alg. Node's crypto has no crc32c.
 */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** crc32c of `data`; pass a previous result as `seed` to continue over several buffers. */
export function crc32c(data: Uint8Array, seed = 0): number {
  let c = ~seed >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
