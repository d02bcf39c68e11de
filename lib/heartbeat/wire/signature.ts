/**
 * The `<index> <token>` text both signatures use (auth field and netstring
 * trailer). The original reads it with sscanf("%d %s"); we accept exactly the
 * shape it writes: a plain decimal index, one space, a printable token.
 */

export interface AuthSignature {
  /** authkeys index (0-15 in a valid config). */
  readonly index: number;
  /** Lowercase hex for sha1/md5/crc. */
  readonly token: string;
}

const SIGNATURE = /^(0|[1-9][0-9]{0,8}) ([\x21-\x7e]+)$/;

export function parseSignature(text: string): AuthSignature | undefined {
  const m = SIGNATURE.exec(text);
  return m === null ? undefined : { index: Number(m[1]), token: m[2]! };
}

export const formatSignature = (s: AuthSignature): string => `${s.index} ${s.token}`;
