import * as path from 'node:path';
import { HbError } from '../../shared/errors.js';
import type { ConfigFs } from '../../shared/fs.js';
import { decodeConfigBytes } from '../../shared/text.js';
import { fail, showToken } from './errors.js';
import { Lexer, type Token } from './lexer.js';

/**
 * The shape every drbd.conf dialect shares: `keyword args... ;` or
 * `keyword args... { statements }`. Meaning is given to it in build.ts; keeping
 * the two apart lets one grammar walker serve 0.7, 8.3, 8.4 and 9.
 */
export interface Statement {
  readonly keyword: Token;
  readonly args: readonly Token[];
  /** Present for sections. */
  readonly body?: readonly Statement[];
  /** Line of the `}` closing the body, or of the `;`. */
  readonly endLine: number;
}

export interface ParsedFiles {
  readonly statements: Statement[];
  /** Every file read, in order (the main file first). */
  readonly files: string[];
}

const MAX_INCLUDE_DEPTH = 32;

/** Reads `file` and every file its `include` statements pull in, in order. */
export function readStatementTree(fs: ConfigFs, file: string, text?: string): ParsedFiles {
  const files: string[] = [];
  const statements = readFile(fs, file, text, files, 0);
  return { statements, files };
}

function readFile(fs: ConfigFs, file: string, text: string | undefined, files: string[], depth: number): Statement[] {
  files.push(file);
  const lexer = new Lexer(text ?? decodeConfigBytes(fs.readFile(file)), file);
  const out: Statement[] = [];
  for (const st of parseBlock(lexer, true)) {
    if (st.keyword.kind === 'word' && st.keyword.text === 'include' && st.body === undefined) {
      out.push(...expandInclude(fs, st, files, depth));
    } else out.push(st);
  }
  return out;
}

function expandInclude(fs: ConfigFs, st: Statement, files: string[], depth: number): Statement[] {
  const kw = st.keyword;
  const pattern = st.args[0];
  if (pattern === undefined || st.args.length !== 1) {
    fail('DRBD_INCLUDE', kw.file, kw.line, 'include takes exactly one file name or glob', 'include');
  }
  if (depth >= MAX_INCLUDE_DEPTH) {
    fail('DRBD_INCLUDE', kw.file, kw.line, `includes nested more than ${MAX_INCLUDE_DEPTH} deep (an include loop?)`, pattern.text);
  }
  // Relative patterns are relative to the including file's directory, as drbdadm does.
  const full = path.isAbsolute(pattern.text) ? pattern.text : path.join(path.dirname(kw.file), pattern.text);
  const out: Statement[] = [];
  // A glob matching nothing is silently ignored, like glob(3) in drbdadm.
  for (const match of fs.glob(full)) {
    try {
      out.push(...readFile(fs, match, undefined, files, depth + 1));
    } catch (e) {
      if (e instanceof HbError && (e.code === 'ENOENT' || e.code === 'EIO')) {
        fail('DRBD_INCLUDE', kw.file, kw.line, `cannot read included file ${match}`, pattern.text);
      }
      throw e;
    }
  }
  return out;
}

function parseBlock(lexer: Lexer, topLevel: boolean): Statement[] {
  const out: Statement[] = [];
  for (;;) {
    const t = lexer.peek();
    if (t.kind === 'eof') {
      if (!topLevel) fail('DRBD_UNBALANCED_BRACE', t.file, t.line, "'}' expected, but the file ended");
      return out;
    }
    if (t.kind === '}') {
      if (topLevel) fail('DRBD_UNEXPECTED_TOKEN', t.file, t.line, "unexpected '}' (no section is open here)", '}');
      return out;
    }
    if (t.kind === ';') {
      // A stray `;` (e.g. `};`) carries no meaning; tolerated like an empty statement.
      lexer.next();
      continue;
    }
    if (t.kind === '{') fail('DRBD_UNEXPECTED_TOKEN', t.file, t.line, "'{' without a keyword before it", '{');
    const st = parseStatement(lexer);
    if (st !== undefined) out.push(st);
  }
}

function parseStatement(lexer: Lexer): Statement | undefined {
  const keyword = lexer.next();
  const args: Token[] = [];
  for (;;) {
    const t = lexer.next();
    if (t.kind === ';') return { keyword, args, endLine: t.line };
    if (t.kind === 'eof' || t.kind === '}') {
      const last = args[args.length - 1] ?? keyword;
      fail('DRBD_EXPECTED_SEMICOLON', t.file, t.kind === 'eof' ? last.line : t.line,
        `';' expected after ${showToken(keyword.text)}, but got ${t.kind === 'eof' ? 'end of file' : "'}'"}`, t.kind === 'eof' ? last.text : '}');
    }
    if (t.kind === '{') {
      if (keyword.kind === 'word' && keyword.text === 'skip') {
        lexer.skipBalanced(t.line);
        return undefined;
      }
      const body = parseBlock(lexer, false);
      const close = lexer.next();
      return { keyword, args, body, endLine: close.line };
    }
    args.push(t);
  }
}
