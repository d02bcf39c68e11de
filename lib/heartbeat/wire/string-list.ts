/**
 * Packed string lists (field type 3): `<len>:<elem>,` repeated, the same packing
 * in both formats. Elements are C strings in the original, so they are
 * non-empty and NUL-free, and a list has at least one element.
 */
import { ByteWriter } from './bytes.js';
import { WireError, WireErrorCode } from './errors.js';

export function listProblem(items: readonly Uint8Array[]): string | undefined {
  if (items.length === 0) return 'empty list';
  if (items.some((i) => i.length === 0)) return 'empty list element';
  if (items.some((i) => i.includes(0))) return 'NUL in a list element';
  return undefined;
}

export function packList(items: readonly Uint8Array[], out: ByteWriter): void {
  const problem = listProblem(items);
  if (problem !== undefined) throw new WireError(WireErrorCode.Unencodable, problem);
  for (const item of items) {
    out.ascii(`${item.length}:`);
    out.bytes(item);
    out.ascii(',');
  }
}

/** Unpacks `value[start, end)`; offsets in errors are relative to `base`. */
export function unpackList(value: Uint8Array, base: number): Uint8Array[] {
  const items: Uint8Array[] = [];
  let pos = 0;
  const bad = (why: string, at: number): never => {
    throw new WireError(WireErrorCode.BadList, `bad string list: ${why}`, base + at);
  };
  while (pos < value.length) {
    let len = 0;
    let digits = 0;
    while (pos + digits < value.length && value[pos + digits]! >= 0x30 && value[pos + digits]! <= 0x39 && digits < 7) {
      len = len * 10 + value[pos + digits]! - 0x30;
      digits++;
    }
    if (digits === 0 || (digits > 1 && value[pos] === 0x30)) bad('length expected', pos);
    if (value[pos + digits] !== 0x3a) bad('":" expected', pos + digits);
    if (len === 0) bad('empty element', pos);
    const start = pos + digits + 1;
    const end = start + len;
    if (end >= value.length || value[end] !== 0x2c) bad('element length does not end at ","', pos);
    const item = value.slice(start, end);
    if (item.includes(0)) bad('NUL in element', start);
    items.push(item);
    pos = end + 1;
  }
  if (items.length === 0) bad('empty list', 0);
  return items;
}
