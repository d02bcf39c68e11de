/**
 * Digests for data-integrity-alg and verify-alg, and the HMAC of
 * cram-hmac-alg. Names are the kernel crypto names DRBD configs use
 * (`crc32c`, `sha1`, `md5`, `sha256`, ...); crc32c is ours (crc32c.ts), the
 * others come from node:crypto. Pure functions: no I/O.
 */
import { createHash, createHmac, getHashes } from 'node:crypto';
import { crc32c } from '../../shared/crc32c.js';
import { ReplError, ReplErrorCode } from './errors.js';

/** The algorithms we accept; the kernel has more, these are the ones DRBD docs and configs use. */
export const DIGEST_ALGS = ['crc32c', 'md5', 'sha1', 'sha256', 'sha512'] as const;
export type DigestAlg = (typeof DIGEST_ALGS)[number];
/** crc32c cannot key an HMAC; the others can. */
export const HMAC_ALGS = ['md5', 'sha1', 'sha256', 'sha512'] as const;
export type HmacAlg = (typeof HMAC_ALGS)[number];

/** Kernel configs sometimes spell the HMAC as `hmac(sha1)`; we take both. */
function bareName(name: string): string {
  const m = /^hmac\((.+)\)$/i.exec(name.trim());
  return (m ? m[1]! : name.trim()).toLowerCase();
}

export function parseDigestAlg(name: string): DigestAlg {
  const n = bareName(name);
  if ((DIGEST_ALGS as readonly string[]).includes(n) && (n === 'crc32c' || getHashes().includes(n))) return n as DigestAlg;
  throw new ReplError(ReplErrorCode.UnknownAlg, `unknown digest algorithm '${name}' (we have ${DIGEST_ALGS.join(', ')})`);
}

export function parseHmacAlg(name: string): HmacAlg {
  const n = bareName(name);
  if ((HMAC_ALGS as readonly string[]).includes(n) && getHashes().includes(n)) return n as HmacAlg;
  throw new ReplError(ReplErrorCode.UnknownAlg, `unknown cram-hmac-alg '${name}' (we have ${HMAC_ALGS.join(', ')})`);
}

export function digestSize(alg: DigestAlg): number {
  switch (alg) {
    case 'crc32c':
      return 4;
    case 'md5':
      return 16;
    case 'sha1':
      return 20;
    case 'sha256':
      return 32;
    case 'sha512':
      return 64;
  }
}

export function digest(alg: DigestAlg, data: Uint8Array): Uint8Array {
  if (alg === 'crc32c') {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, crc32c(data));
    return out;
  }
  return new Uint8Array(createHash(alg).update(data).digest());
}

export function hmac(alg: HmacAlg, secret: string | Uint8Array, message: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac(alg, secret).update(message).digest());
}

/** Constant-time comparison of two byte strings (length leaks, which is public anyway). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
