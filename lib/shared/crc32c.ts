/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum DRBD uses for meta data (superblock, activity log) and
 * offers for data-integrity-alg and verify-alg. OpenSSL has no crc32c
 * digest, so it is computed here: table-driven, eight tables ("slicing by 8")
 * so that 1 MiB blocks cost little. Check value: crc32c("123456789") = 0xE3069283.
 */

const POLY = 0x82f63b78;

const TABLES: Uint32Array[] = (() => {
  const t0 = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t0[i] = c >>> 0;
  }
  const tables = [t0];
  for (let n = 1; n < 8; n++) {
    const prev = tables[n - 1]!;
    const t = new Uint32Array(256);
    for (let i = 0; i < 256; i++) t[i] = ((prev[i]! >>> 8) ^ t0[prev[i]! & 0xff]!) >>> 0;
    tables.push(t);
  }
  return tables;
})();

/** Continues a CRC-32C over `data`; start with `crc32c(data)` (seed 0). */
export function crc32c(data: Uint8Array, seed = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let crc = ~seed >>> 0;
  let i = 0;
  const n = data.length;
  const end8 = n - (n % 8);
  while (i < end8) {
    const a = (crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    crc =
      t7[a & 0xff]! ^
      t6[(a >>> 8) & 0xff]! ^
      t5[(a >>> 16) & 0xff]! ^
      t4[a >>> 24]! ^
      t3[data[i + 4]!]! ^
      t2[data[i + 5]!]! ^
      t1[data[i + 6]!]! ^
      t0[data[i + 7]!]!;
    i += 8;
  }
  while (i < n) crc = (crc >>> 8) ^ t0[(crc ^ data[i++]!) & 0xff]!;
  return ~crc >>> 0;
}

/** The one-table bytewise form, kept as the reference the sliced one is tested against. */
export function crc32cBytewise(data: Uint8Array): number {
  const t0 = TABLES[0]!;
  let crc = 0xffffffff;
  for (const b of data) crc = (crc >>> 8) ^ t0[(crc ^ b) & 0xff]!;
  return ~crc >>> 0;
}
