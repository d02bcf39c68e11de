import { decodeConfigBytes, splitLines } from '../../shared/text.js';

/**
 * The layout layer of ldirectord.cf: which lines are globals, which start a
 * virtual block and which belong to one. It fixes the original's traps (spec §2
 * and §10): comments after a value are removed, trailing blanks and CR are
 * dropped, and a blank or comment line never ends a virtual block.
 */

export interface LayoutLine {
  readonly line: number;
  /** `global`: column 0 outside or after a block; `member`: indented line of a virtual block; `stray`: indented with no block to belong to, or indented by 1–3 columns. */
  readonly kind: 'global' | 'member' | 'stray';
  /** The directive text without indentation, comment or trailing blanks. */
  readonly text: string;
  /** Indentation width with a TAB counted as 4 columns, as ldirectord counts it. */
  readonly indent: number;
}

/**
 * Removes a comment: a `#` outside double quotes. Inside a virtual block any
 * such `#` starts one (as ldirectord strips from the first `#`); on a global
 * line only a `#` at the start or after a blank does, since ldirectord never
 * stripped global lines and a `#` glued to a value may belong to it.
 */
export function stripComment(text: string, needBlankBefore: boolean): string {
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') inQuotes = !inQuotes;
    else if (c === '#' && !inQuotes && (!needBlankBefore || i === 0 || /\s/.test(text[i - 1]!))) return text.slice(0, i);
  }
  return text;
}

/** Indentation width: a TAB is 4 columns (ldirectord expands each TAB to 4 spaces). */
export function indentWidth(text: string): number {
  let w = 0;
  for (const c of text) {
    if (c === ' ') w += 1;
    else if (c === '\t') w += 4;
    else break;
  }
  return w;
}

const VIRTUAL_START = /^virtual6?\s*=/;

export function layoutLines(input: Uint8Array | string): LayoutLine[] {
  const out: LayoutLine[] = [];
  let inVirtual = false;
  for (const { line, text: raw } of splitLines(decodeConfigBytes(input))) {
    const indent = indentWidth(raw);
    const body = raw.replace(/^[ \t]+/, '');
    const text = stripComment(body, indent === 0).replace(/\s+$/, '');
    // Blank and comment-only lines are skipped without ending a block (the fix for golden case 06).
    if (text === '') continue;
    if (indent === 0) {
      inVirtual = VIRTUAL_START.test(text);
      out.push({ line, kind: 'global', text, indent });
    } else if (indent >= 4 && inVirtual) {
      out.push({ line, kind: 'member', text, indent });
    } else {
      // ldirectord ends the block here and then fails on the line as an unknown global.
      if (indent < 4) inVirtual = false;
      out.push({ line, kind: 'stray', text, indent });
    }
  }
  return out;
}
