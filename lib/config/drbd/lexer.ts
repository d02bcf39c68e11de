import { isSpace } from '../../shared/text.js';
import { fail } from './errors.js';

/**
 * drbd.conf tokens. A word is any run of characters that is not white space,
 * a brace, a semicolon, a quote or a comment start: the real scanner's word
 * classes (names, numbers with units, IPs, `[fd00::1]:7789`, `/dev/x[1]`) are
 * all such runs, and the parser judges their shape where it knows the context.
 */
export type TokenKind = 'word' | 'string' | '{' | '}' | ';' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** The word, the unescaped content of a quoted string, or the punctuation. */
  readonly text: string;
  readonly file: string;
  readonly line: number;
}

const PUNCT = new Set(['{', '}', ';']);

export function isWordChar(ch: string): boolean {
  return !isSpace(ch) && !PUNCT.has(ch) && ch !== '"' && ch !== '#';
}

export class Lexer {
  private pos = 0;
  private line = 1;
  private peeked: Token | undefined;

  constructor(
    private readonly text: string,
    readonly file: string,
  ) {}

  peek(): Token {
    this.peeked ??= this.scan();
    return this.peeked;
  }

  next(): Token {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }

  /** The line the scanner has reached (for errors at end of file). */
  get currentLine(): number {
    return this.line;
  }

  /**
   * Drops a `skip ... { ... }` block: counts braces over raw characters, because
   * skipped text is free prose (unbalanced quotes, keywords, backslashes) that
   * need not tokenize. Call after the opening `{` has been consumed.
   */
  skipBalanced(openLine: number): void {
    if (this.peeked !== undefined) throw new Error('skipBalanced after peek');
    let depth = 1;
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos++]!;
      if (ch === '\n') this.line++;
      else if (ch === '{') depth++;
      else if (ch === '}' && --depth === 0) return;
    }
    fail('DRBD_UNBALANCED_BRACE', this.file, openLine, "'}' expected: the skip block opened here is never closed", 'skip');
  }

  private scan(): Token {
    const s = this.text;
    for (;;) {
      while (this.pos < s.length && isSpace(s[this.pos])) {
        if (s[this.pos] === '\n') this.line++;
        this.pos++;
      }
      if (s[this.pos] === '#') {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
        continue;
      }
      break;
    }
    const line = this.line;
    if (this.pos >= s.length) return { kind: 'eof', text: '', file: this.file, line };
    const ch = s[this.pos]!;
    if (PUNCT.has(ch)) {
      this.pos++;
      return { kind: ch as '{' | '}' | ';', text: ch, file: this.file, line };
    }
    if (ch === '"') return this.scanString(line);
    const start = this.pos;
    while (this.pos < s.length && isWordChar(s[this.pos]!)) this.pos++;
    const text = s.slice(start, this.pos);
    // Outside quotes the real scanner knows only printable ASCII; a no-break
    // space pasted from a web page or a stray UTF-8 letter is an error there.
    const bad = /[^\x21-\x7e]/.exec(text);
    if (bad !== null) {
      const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      fail('DRBD_UNEXPECTED_TOKEN', this.file, line, `invalid character U+${code} in ${JSON.stringify(text)} (only quoted strings may hold non-ASCII text)`, text);
    }
    if (text.includes('=')) {
      fail('DRBD_EQUALS_SIGN', this.file, line, `'=' is not drbd.conf syntax: write 'name value;' (got ${JSON.stringify(text)})`, text);
    }
    return { kind: 'word', text, file: this.file, line };
  }

  /** `"..."` with backslash escapes, on one line, like the flex rule of drbdadm. */
  private scanString(line: number): Token {
    const s = this.text;
    let out = '';
    this.pos++;
    while (this.pos < s.length) {
      const ch = s[this.pos++]!;
      if (ch === '"') return { kind: 'string', text: out, file: this.file, line };
      if (ch === '\n') break;
      if (ch === '\\' && this.pos < s.length && s[this.pos] !== '\n') {
        out += s[this.pos++]!;
        continue;
      }
      out += ch;
    }
    fail('DRBD_UNTERMINATED_STRING', this.file, line, 'unterminated quoted string (a closing \'"\' is missing on this line)', '"' + out);
  }
}
