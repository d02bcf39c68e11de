import type { ConfigFs } from '../../shared/fs.js';
import { ConfigBuilder } from './build.js';
import type { DrbdConfig } from './model.js';
import { readStatementTree } from './tree.js';

export type { DrbdConfig } from './model.js';

export interface ParseOptions {
  /** The main file's text when it did not come from `fs` (e.g. `-c -`, stdin). */
  readonly text?: string;
}

/**
 * Reads a drbd.conf of any dialect (0.7, 8.3, 8.4, 9) and its includes.
 * Throws ConfigError (exit code 10) at the first problem, as drbdadm does.
 */
export function parseDrbdConfig(fs: ConfigFs, file: string, options: ParseOptions = {}): DrbdConfig {
  const { statements, files } = readStatementTree(fs, file, options.text);
  return new ConfigBuilder(files).build(statements);
}
