import * as path from 'node:path';
import { ConfigError, HbError } from '../../shared/errors.js';
import type { ConfigFs } from '../../shared/fs.js';
import { decodeConfigBytes } from '../../shared/text.js';
import { fail, showToken } from './errors.js';
import { Lexer, type Token } from './lexer.js';
import { isTopLevelKeyword, TOP_LEVEL_KEYWORDS } from './schema.js';

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
  /** Complete statements read before any syntax error. */
  readonly statements: Statement[];
  /** Every file read, in order (the main file first). */
  readonly files: string[];
  /**
   * The first syntax error, if any. drbdadm reads as it parses, so an earlier
   * error in the statements before it must win: the caller builds those first.
   */
  readonly syntaxError?: ConfigError;
}

const MAX_INCLUDE_DEPTH = 32;

interface Context {
  readonly fs: ConfigFs;
  readonly files: string[];
  error?: ConfigError;
}

/** Reads `file` and every file its `include` statements pull in, in order. */
export function readStatementTree(fs: ConfigFs, file: string, text?: string): ParsedFiles {
  const ctx: Context = { fs, files: [] };
  const statements = readFile(ctx, file, text, 0);
  return { statements, files: ctx.files, ...(ctx.error ? { syntaxError: ctx.error } : {}) };
}

/** Runs `fn`, turning a ConfigError into the context's syntax error. */
function guarded<T>(ctx: Context, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    ctx.error ??= e;
    return undefined;
  }
}

function readFile(ctx: Context, file: string, text: string | undefined, depth: number): Statement[] {
  ctx.files.push(file);
  const lexer = new Lexer(text ?? decodeConfigBytes(ctx.fs.readFile(file)), file);
  const out: Statement[] = [];
  for (const st of parseBlock(ctx, lexer, true)) {
    if (st.keyword.kind === 'word' && st.keyword.text === 'include' && st.body === undefined) {
      out.push(...expandInclude(ctx, st, depth));
      if (ctx.error) break;
    } else out.push(st);
  }
  return out;
}

function expandInclude(ctx: Context, st: Statement, depth: number): Statement[] {
  const kw = st.keyword;
  const pattern = st.args[0];
  const out: Statement[] = [];
  guarded(ctx, () => {
    if (pattern === undefined || st.args.length !== 1) {
      fail('DRBD_INCLUDE', kw.file, kw.line, 'include takes exactly one file name or glob', 'include');
    }
    if (depth >= MAX_INCLUDE_DEPTH) {
      fail('DRBD_INCLUDE', kw.file, kw.line, `includes nested more than ${MAX_INCLUDE_DEPTH} deep (an include loop?)`, pattern.text);
    }
    // Relative patterns are relative to the including file's directory, as drbdadm does.
    const full = path.isAbsolute(pattern.text) ? pattern.text : path.join(path.dirname(kw.file), pattern.text);
    // A glob matching nothing is silently ignored, like glob(3) in drbdadm.
    for (const match of ctx.fs.glob(full)) {
      let text: string;
      try {
        text = decodeConfigBytes(ctx.fs.readFile(match));
      } catch (e) {
        if (e instanceof HbError && (e.code === 'ENOENT' || e.code === 'EIO')) {
          fail('DRBD_INCLUDE', kw.file, kw.line, `cannot read included file ${match}`, pattern.text);
        }
        throw e;
      }
      out.push(...readFile(ctx, match, text, depth + 1));
      if (ctx.error) return;
    }
  });
  return out;
}

function parseBlock(ctx: Context, lexer: Lexer, topLevel: boolean): Statement[] {
  const out: Statement[] = [];
  while (ctx.error === undefined) {
    const ok = guarded(ctx, () => {
      const t = lexer.peek();
      if (t.kind === 'eof') {
        if (!topLevel) fail('DRBD_UNBALANCED_BRACE', t.file, t.line, "'}' expected, but the file ended");
        return false;
      }
      if (t.kind === '}') {
        if (topLevel) fail('DRBD_UNEXPECTED_TOKEN', t.file, t.line, "unexpected '}' (no section is open here)", '}');
        return false;
      }
      if (t.kind === ';') {
        // A stray `;` (e.g. `};`) carries no meaning; tolerated like an empty statement.
        lexer.next();
        return true;
      }
      if (t.kind === '{') fail('DRBD_UNEXPECTED_TOKEN', t.file, t.line, "'{' without a keyword before it", '{');
      if (topLevel && !(t.kind === 'word' && isTopLevelKeyword(t.text))) {
        // Checked before reading on, so a pasted shell line is named, not its missing `;`.
        fail('DRBD_UNKNOWN_KEYWORD', t.file, t.line, `${showToken(t.text)} is not valid here; expected ${TOP_LEVEL_KEYWORDS.join(' | ')}`, t.text);
      }
      const st = parseStatement(ctx, lexer);
      if (st !== undefined) out.push(st);
      return true;
    });
    if (ok !== true) break;
  }
  return out;
}

function parseStatement(ctx: Context, lexer: Lexer): Statement | undefined {
  const keyword = lexer.next();
  const args: Token[] = [];
  for (;;) {
    const t = lexer.next();
    if (t.kind === ';') return { keyword, args, endLine: t.line };
    if (t.kind === 'eof' || t.kind === '}') {
      const last = args[args.length - 1] ?? keyword;
      fail('DRBD_EXPECTED_SEMICOLON', t.file, t.kind === 'eof' ? last.line : t.line,
        `';' expected after ${showToken(last.text)}, but got ${t.kind === 'eof' ? 'end of file' : "'}'"}`, t.kind === 'eof' ? last.text : '}');
    }
    if (t.kind === '{') {
      if (keyword.kind === 'word' && keyword.text === 'skip') {
        lexer.skipBalanced(t.line);
        return undefined;
      }
      const body = parseBlock(ctx, lexer, false);
      // After a syntax error inside, keep the partial section so earlier errors in it can be found.
      if (ctx.error) return { keyword, args, body, endLine: t.line };
      const close = lexer.next();
      return { keyword, args, body, endLine: close.line };
    }
    args.push(t);
  }
}
