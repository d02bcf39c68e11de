import type { SourcePos } from '../../shared/errors.js';
import { fail, showToken } from './errors.js';
import type { Token } from './lexer.js';
import type { RawBlock } from './model.js';
import type { Statement } from './tree.js';

/* Small checks on the statement tree, shared by the builder and the value parsers. */

export const pos = (t: Token): SourcePos => ({ file: t.file, line: t.line });
export const isWord = (t: Token | undefined, text?: string): boolean => t !== undefined && t.kind === 'word' && (text === undefined || t.text === text);

export function expectedSemicolon(after: string, got: Token): never {
  fail('DRBD_EXPECTED_SEMICOLON', got.file, got.line, `';' expected after ${showToken(after)}, but got ${showToken(got.text)}`, got.text);
}

export function noBody(st: Statement): void {
  if (st.body !== undefined) {
    fail('DRBD_UNEXPECTED_TOKEN', st.keyword.file, st.keyword.line, `${showToken(st.keyword.text)} takes a value, not a { } section`, st.keyword.text);
  }
}

export function needBody(st: Statement): readonly Statement[] {
  if (st.body === undefined) {
    const t = st.args[st.args.length - 1] ?? st.keyword;
    fail('DRBD_EXPECTED_BLOCK', t.file, t.line, `'{' expected after ${showToken(st.keyword.text)}`, t.text);
  }
  return st.body;
}

export function expectedBlockOpen(after: Token, got: Token): never {
  fail('DRBD_EXPECTED_BLOCK', got.file, got.line, `'{' expected after ${showToken(after.text)}, but got ${showToken(got.text)}`, got.text);
}

export function rawBlock(st: Statement): RawBlock {
  return {
    keyword: st.keyword.text,
    args: st.args.map((a) => a.text),
    ...(st.body !== undefined ? { body: st.body.map(rawBlock) } : {}),
  };
}
