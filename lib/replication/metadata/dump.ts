/**
 * `drbdadm dump-md` text: drbdmeta's layout (drbd-spec §6.5) with our version
 * string. The bitmap is printed as 64-bit little-endian words with `N times`
 * run-length compression, as drbdmeta does.
 */
import type { Bitmap } from './bitmap.js';
import type { MetaLayout } from './layout.js';
import { uuidHex, type SuperBlock } from './superblock.js';

export const DUMP_VERSION = 'hbts-v1';

const hex64 = (u: bigint) => '0x' + uuidHex(u);

export function dumpMdText(o: { sb: SuperBlock; layout: MetaLayout; bitmap: Bitmap; alExtents: readonly number[]; header: readonly string[] }): string {
  const { sb, layout, bitmap } = o;
  const lines = ['# DRBD meta data dump (heartbeat-ts format)', ...o.header.map((h) => `# ${h}`), '#', '', `version "${DUMP_VERSION}";`, ''];
  lines.push(`# md_size_sect ${layout.mdSizeSect}`, `# md_offset ${layout.superOffset}`, `# al_offset ${layout.alOffset}`, `# bm_offset ${layout.bmOffset}`, '');
  lines.push('uuid {', `    ${hex64(sb.current)}; ${hex64(sb.bitmap)}; ${hex64(sb.history[0])}; ${hex64(sb.history[1])};`, `    flags 0x${sb.flags.toString(16).padStart(8, '0')};`, '}');
  lines.push(`# al-extents ${sb.alExtents};`);
  if (o.alExtents.length > 0) lines.push(`# al-active ${o.alExtents.join(' ')};`);
  lines.push(`la-size-sect ${sb.laSizeSect};`, `bm-byte-per-bit ${sb.bmBytesPerBit};`, `device-uuid ${hex64(sb.deviceUuid)};`, `node-id ${sb.nodeId};`);
  const words = Math.ceil(bitmap.bits / 64);
  lines.push(`# bm-bytes ${words * 8};`, 'bm {');
  const view = new DataView(bitmap.bytes.buffer, bitmap.bytes.byteOffset, bitmap.bytes.byteLength);
  let i = 0;
  const row: string[] = [];
  const flushRow = () => {
    if (row.length > 0) lines.push('   ' + row.join(' '));
    row.length = 0;
  };
  while (i < words) {
    const w = view.getBigUint64(i * 8, true);
    let n = 1;
    while (i + n < words && view.getBigUint64((i + n) * 8, true) === w) n++;
    if (n > 1) {
      flushRow();
      lines.push(`   ${n} times 0x${w.toString(16).toUpperCase().padStart(16, '0')};`);
    } else {
      row.push(`0x${w.toString(16).toUpperCase().padStart(16, '0')};`);
      if (row.length === 4) flushRow();
    }
    i += n;
  }
  flushRow();
  lines.push('}', `# bits-set ${bitmap.count()};`);
  return lines.join('\n') + '\n';
}
