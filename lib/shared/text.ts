/**
 * Config files are bytes, not UTF-8: admins' files carry Latin-1 or GBK in
 * comments. Decoding never throws; undecodable bytes become U+FFFD, which only
 * ever matters inside comments or quoted strings.
 */
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });

export function decodeConfigBytes(bytes: Uint8Array | string): string {
  return typeof bytes === 'string' ? bytes : decoder.decode(bytes);
}

export interface SourceLine {
  /** 1-based line number. */
  readonly line: number;
  /** The line without its terminator; a CR before LF is dropped. */
  readonly text: string;
}

/** Splits on LF, dropping the CR of CRLF; a missing final newline is fine. */
export function splitLines(text: string): SourceLine[] {
  const parts = text.split('\n');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.map((raw, i) => ({ line: i + 1, text: raw.endsWith('\r') ? raw.slice(0, -1) : raw }));
}

/** Whitespace as the C originals see it (isspace in the C locale). */
export function isSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v';
}
