/** ha.cf line splitting, as parse_config cleans each line before reading it. */

/** One ha.cf line after the original's clean-up: comment cut, CR/LF dropped. */
export interface Line {
  readonly line: number;
  readonly directive: string;
  /** Text after the directive and its delimiters. */
  readonly rest: string;
}

export function cleanLines(text: string): Line[] {
  const out: Line[] = [];
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    let s = raw[i]!.replace(/^[ \t\n\r\f]+/, '');
    const hash = s.indexOf('#');
    if (hash >= 0) s = s.slice(0, hash);
    const cr = s.search(/[\r\n]/);
    if (cr >= 0) s = s.slice(0, cr);
    if (s === '') continue;
    const end = s.search(/[ \t\n\r\f]/);
    const directive = end < 0 ? s : s.slice(0, end);
    const rest = (end < 0 ? '' : s.slice(end)).replace(/^[, \t\n\r\f]+/, '').replace(/[ \t\f]+$/, '');
    out.push({ line: i + 1, directive, rest });
  }
  return out;
}

