import { ConfigError } from '../../shared/errors.js';
import type { ConfigFs } from '../../shared/fs.js';
import { ConfigBuilder } from './build.js';
import type { DrbdConfig } from './model.js';
import { readStatementTree } from './tree.js';

export type { DrbdConfig } from './model.js';

export interface ParseOptions {
  /** The main file's text when it did not come from `fs` (e.g. `-c -`, stdin). */
  readonly text?: string;
}

/** Errors about a token as written, which drbdadm reports as soon as it reads that token. */
const TOKEN_ERRORS = new Set(['DRBD_UNKNOWN_KEYWORD', 'DRBD_UNKNOWN_OPTION', 'DRBD_BAD_VALUE', 'DRBD_BAD_NUMBER', 'DRBD_BAD_ADDRESS', 'DRBD_BAD_DEVICE', 'DRBD_BAD_META_DISK', 'DRBD_EXPECTED_SEMICOLON', 'DRBD_EXPECTED_BLOCK', 'DRBD_INCLUDE', 'DRBD_DUPLICATE']);

/**
 * Reads a drbd.conf of any dialect (0.7, 8.3, 8.4, 9) and its includes.
 * Throws ConfigError (exit code 10) at the first problem, as drbdadm does.
 */
export function parseDrbdConfig(fs: ConfigFs, file: string, options: ParseOptions = {}): DrbdConfig {
  const { statements, files, syntaxError } = readStatementTree(fs, file, options.text);
  if (syntaxError === undefined) return new ConfigBuilder(files).build(statements);
  // drbdadm parses as it reads: a bad token before the syntax error is what it reports.
  const at = (e: ConfigError) => [files.indexOf(e.file), e.line] as const;
  try {
    new ConfigBuilder(files).build(statements);
  } catch (e) {
    if (e instanceof ConfigError && TOKEN_ERRORS.has(e.code)) {
      const [fa, la] = at(e);
      const [fb, lb] = at(syntaxError);
      if (fa < fb || (fa === fb && la < lb)) throw e;
    }
  }
  throw syntaxError;
}
