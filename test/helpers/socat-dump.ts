/**
 * Reads a `socat -x -v` dump (reference/vectors/serial-2node) back into the
 * byte stream of each direction: `>` blocks are one direction, `<` the other.
 */
import { readFileSync } from 'node:fs';

export interface SocatStreams {
  readonly forward: Uint8Array;
  readonly backward: Uint8Array;
}

export function readSocatDump(file: string): SocatStreams {
  const chunks: Record<'>' | '<', number[]> = { '>': [], '<': [] };
  let dir: '>' | '<' | undefined;
  for (const line of readFileSync(file, 'latin1').split('\n')) {
    const head = /^([<>]) \d{4}\/\d\d\/\d\d [\d:.]+\s+length=(\d+)/.exec(line);
    if (head) {
      dir = head[1] as '>' | '<';
      continue;
    }
    // Data lines: up to 16 " xx" groups in the first 48 columns, then the ASCII column.
    if (dir === undefined || !/^ [0-9a-f]{2}( |$)/.test(line)) continue;
    for (const m of line.slice(0, 48).matchAll(/ ([0-9a-f]{2})/g)) chunks[dir].push(parseInt(m[1]!, 16));
  }
  return { forward: Uint8Array.from(chunks['>']), backward: Uint8Array.from(chunks['<']) };
}

/**
 * Splits a serial stream into classic messages as the serial plugin reads it:
 * from a `>>>` line through the next `<<<` line; anything between is skipped.
 */
export function splitClassicMessages(stream: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const text = Buffer.from(stream).toString('latin1');
  let pos = 0;
  for (;;) {
    const start = text.indexOf('>>>\n', pos);
    if (start < 0) break;
    const end = text.indexOf('\n<<<\n', start);
    if (end < 0) break;
    out.push(stream.slice(start, end + 5));
    pos = end + 5;
  }
  return out;
}
