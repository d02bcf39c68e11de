/**
 * The `crc` auth method of Heartbeat's HBauth plugin: CRC-32 with polynomial
 * 0x04C11DB7, MSB first, initial value 0, *no* length appended (unlike POSIX
 * cksum) and a final complement; printed as lowercase hex without padding.
 * It is a checksum, not a signature: anyone can forge it.
 */

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function heartbeatCrc(data: Uint8Array): number {
  let crc = 0;
  for (const byte of data) crc = ((crc << 8) ^ TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  return ~crc >>> 0;
}

/** The token as the plugin prints it (`%lx`). */
export const heartbeatCrcToken = (data: Uint8Array): string => heartbeatCrc(data).toString(16);
