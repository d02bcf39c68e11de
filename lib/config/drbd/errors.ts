import { ConfigError, type Diagnostic } from '../../shared/errors.js';

/** drbdadm's exit status for a configuration it refuses (E_CONFIG_INVALID). */
export const EXIT_CONFIG_INVALID = 10;
/** drbdadm's exit status when it cannot run at all, e.g. the config file cannot be opened (E_EXEC_ERROR). */
export const EXIT_EXEC_ERROR = 20;
/** drbdadm's exit status for usage errors and unknown resources. */
export const EXIT_USAGE = 1;

/** Stable codes for everything the drbd.conf reader can refuse or warn about. */
export type DrbdDiagnosticCode =
  | 'DRBD_UNKNOWN_KEYWORD'
  | 'DRBD_UNKNOWN_OPTION'
  | 'DRBD_BAD_VALUE'
  | 'DRBD_BAD_NUMBER'
  | 'DRBD_BAD_ADDRESS'
  | 'DRBD_BAD_DEVICE'
  | 'DRBD_BAD_META_DISK'
  | 'DRBD_EXPECTED_SEMICOLON'
  | 'DRBD_EXPECTED_BLOCK'
  | 'DRBD_UNEXPECTED_TOKEN'
  | 'DRBD_UNBALANCED_BRACE'
  | 'DRBD_UNTERMINATED_STRING'
  | 'DRBD_EQUALS_SIGN'
  | 'DRBD_INCLUDE'
  | 'DRBD_DUPLICATE'
  | 'DRBD_CONFLICT'
  | 'DRBD_MISSING'
  | 'DRBD_LEGACY'
  | 'DRBD_IGNORED'
  | 'DRBD_IP_NOT_LOCAL';

export interface DrbdDiagnostic extends Diagnostic {
  readonly code: DrbdDiagnosticCode;
}

export function diag(code: DrbdDiagnosticCode, file: string, line: number, message: string, token?: string): DrbdDiagnostic {
  return token === undefined ? { code, file, line, message } : { code, file, line, message, token };
}

/** Throws the one error drbdadm would stop at (it never reports more than the first). */
export function fail(code: DrbdDiagnosticCode, file: string, line: number, message: string, token?: string): never {
  throw new ConfigError(diag(code, file, line, message, token), EXIT_CONFIG_INVALID);
}

/** How a token is shown inside messages: quoted, cut short like drbdadm does for long ones. */
export function showToken(text: string): string {
  return text.length > 20 ? `'${text.slice(0, 20)}...'` : `'${text}'`;
}
