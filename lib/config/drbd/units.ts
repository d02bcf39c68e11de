import type { UnitKind } from './model.js';

/**
 * Number syntax of drbd.conf: digits with an optional unit letter K, M, G
 * (binary, relative to the option's base unit) or s (512-byte sectors).
 * Lower-case letters are accepted too, as drbdadm's value parser is
 * case-insensitive even though its scanner is not.
 */
const NUMBER = /^(\d{1,20})([kKmMgGsS]?)$/;

/** Bytes in one base unit of each kind (0 = not a size: suffixes scale by 1024 powers). */
const BASE_BYTES: Readonly<Record<UnitKind, number>> = {
  kib: 1024,
  sectors: 512,
  bytes: 1,
  tenths: 0,
  seconds: 0,
  count: 0,
};

const SUFFIX_BYTES: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, s: 512 };

/**
 * The value of `text` in the option's base unit, or undefined when it is not a
 * number. Fractions round up (`1s` of a KiB/s option is 1), as drbdadm does.
 */
export function parseNumber(text: string, unit: UnitKind): number | undefined {
  const m = NUMBER.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]);
  const suffix = m[2]!.toLowerCase();
  const base = BASE_BYTES[unit];
  if (suffix === '') return n;
  if (base === 0) {
    // Counts and times: K/M/G are plain multipliers; `s` means nothing here.
    if (suffix === 's') return undefined;
    return n * SUFFIX_BYTES[suffix]!;
  }
  return Math.ceil((n * SUFFIX_BYTES[suffix]!) / base);
}
