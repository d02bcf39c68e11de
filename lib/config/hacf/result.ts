import type { ConfigWarning, Diagnostic } from '../../shared/errors.js';

/** LSB "program is not configured": heartbeat's exit status for every configuration error. */
export const EXIT_NOT_CONFIGURED = 6;

/** What the ha.d parsers return: the model plus warnings. */
export interface ParseResult<T> {
  readonly config: T;
  readonly warnings: readonly ConfigWarning[];
}

/**
 * A parse that keeps its errors instead of throwing, so `heartbeat --check`
 * can report every file's problems at once. `config` is absent when there are errors.
 */
export interface Collected<T> {
  readonly config?: T;
  readonly errors: readonly Diagnostic[];
  readonly warnings: readonly ConfigWarning[];
}
