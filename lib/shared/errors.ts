/**
 * One error class for the whole project, with stable codes (the zwave-js model):
 * callers and tests switch on `code`, never on message text.
 */
export class HbError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HbError';
    this.code = code;
  }
}

/** A position in a configuration file; line is 1-based, 0 when the problem is the whole file. */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
}

export interface Diagnostic extends SourcePos {
  /** Stable machine-readable code, e.g. `HACF_UNKNOWN_DIRECTIVE`. */
  readonly code: string;
  readonly message: string;
  /** The offending token as written in the file, when there is one. */
  readonly token?: string;
}

export type ConfigWarning = Diagnostic;

/** `FILE:LINE: message`, the form every config diagnostic takes. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}: ${d.message}`;
}

/**
 * A configuration file the original tool would refuse. `exitCode` is the
 * original tool's exit status for that refusal, so bin/ shells can use it as is.
 */
export class ConfigError extends HbError {
  readonly diagnostics: readonly Diagnostic[];
  readonly exitCode: number;
  constructor(diagnostics: Diagnostic | readonly Diagnostic[], exitCode = 1) {
    const list = Array.isArray(diagnostics) ? (diagnostics as readonly Diagnostic[]) : [diagnostics as Diagnostic];
    if (list.length === 0) throw new TypeError('ConfigError needs at least one diagnostic');
    const first = list[0]!;
    super(first.code, list.map(formatDiagnostic).join('\n'));
    this.name = 'ConfigError';
    this.diagnostics = list;
    this.exitCode = exitCode;
  }
  get file(): string {
    return this.diagnostics[0]!.file;
  }
  get line(): number {
    return this.diagnostics[0]!.line;
  }
  get token(): string | undefined {
    return this.diagnostics[0]!.token;
  }
}

/** Collects diagnostics while a parser runs, then throws them together. */
export class DiagnosticSink {
  readonly errors: Diagnostic[] = [];
  readonly warnings: ConfigWarning[] = [];
  error(d: Diagnostic): void {
    this.errors.push(d);
  }
  warn(d: ConfigWarning): void {
    this.warnings.push(d);
  }
  /** Throws a ConfigError when any error was recorded. */
  throwIfErrors(exitCode: number): void {
    if (this.errors.length > 0) throw new ConfigError(this.errors, exitCode);
  }
}

/**
 * Error and warning lists for one file, with `err`/`warn` that take the line,
 * code, message and offending token: what every line-based parser records.
 */
export function diagnosticsFor(file: string): {
  errors: Diagnostic[];
  warnings: ConfigWarning[];
  err: (line: number, code: string, message: string, token?: string) => void;
  warn: (line: number, code: string, message: string, token?: string) => void;
} {
  const errors: Diagnostic[] = [];
  const warnings: ConfigWarning[] = [];
  const make = (line: number, code: string, message: string, token?: string): Diagnostic =>
    token === undefined ? { file, line, code, message } : { file, line, code, message, token };
  return {
    errors,
    warnings,
    err: (line, code, message, token) => void errors.push(make(line, code, message, token)),
    warn: (line, code, message, token) => void warnings.push(make(line, code, message, token)),
  };
}
