import type { Diagnostic } from '../../shared/errors.js';
import { LdirCode } from './codes.js';

/** Collects diagnostics for one file; handlers report and carry on, so one run lists every bad line. */
export class LdirDiagnostics {
  readonly errors: Diagnostic[] = [];
  readonly warnings: Diagnostic[] = [];
  constructor(readonly file: string) {}
  error(line: number, code: string, message: string, token?: string): undefined {
    this.errors.push(token === undefined ? { file: this.file, line, code, message } : { file: this.file, line, code, message, token });
    return undefined;
  }
  warn(line: number, code: string, message: string, token?: string): void {
    this.warnings.push(token === undefined ? { file: this.file, line, code, message } : { file: this.file, line, code, message, token });
  }
}

export interface Directive {
  readonly line: number;
  readonly key: string;
  /** Undefined when the line has no `=` (a bare word such as `supervised`). */
  readonly value: string | undefined;
  readonly text: string;
}

/** `key = value`: spaces around `=` are allowed (spec §2); the value keeps inner blanks. */
export function splitDirective(line: number, text: string): Directive {
  const m = /^([^\s=]+)\s*=\s*(.*)$/.exec(text);
  if (m) return { line, key: m[1]!, value: m[2]!, text };
  return { line, key: text.split(/\s/)[0]!, value: undefined, text };
}

/** JSON-quoted token for messages: shows blanks and control characters unambiguously. */
export const q = (s: string): string => JSON.stringify(s);

export function yesNo(d: LdirDiagnostics, dir: Directive): boolean | undefined {
  const v = dir.value ?? '';
  if (v === 'yes') return true;
  if (v === 'no') return false;
  return d.error(dir.line, LdirCode.BAD_YESNO, `${dir.key} must be 'yes' or 'no', not ${q(v)}`, v);
}

/**
 * A count or time: ldirectord takes the first run of digits anywhere in the
 * value (`5 # five` is 5), so we do too, with a warning when text was ignored.
 */
export function firstNumber(d: LdirDiagnostics, dir: Directive, what: string, min: number): number | undefined {
  const v = dir.value ?? '';
  const m = /\d+/.exec(v);
  const n = m ? Number(m[0]) : NaN;
  if (!m || !(n >= min) || !Number.isSafeInteger(n)) {
    return d.error(dir.line, LdirCode.BAD_NUMBER, `invalid ${what} ${q(v)}: ${min > 0 ? 'a positive' : 'a non-negative'} integer is required`, v);
  }
  if (m[0] !== v) d.warn(dir.line, LdirCode.IGNORED_TEXT, `${dir.key}: text around the number ${q(v)} ignored`, v);
  return n;
}

/**
 * A value ldirectord only accepts in double quotes (request, receive, login, ...).
 * As in the original the string ends at the last quote on the line.
 */
export function quoted(d: LdirDiagnostics, dir: Directive, opts: { allowEmpty?: boolean } = {}): string | undefined {
  const v = dir.value ?? '';
  const m = /^"(.*)"(.*)$/.exec(v);
  if (!m) return d.error(dir.line, LdirCode.QUOTES_REQUIRED, `${dir.key} needs a double-quoted value, e.g. ${dir.key}="${v}"`, v);
  if (m[2] !== '') d.warn(dir.line, LdirCode.IGNORED_TEXT, `${dir.key}: text after the closing quote ignored: ${q(m[2]!)}`, m[2]);
  if (m[1] === '' && !opts.allowEmpty) return d.error(dir.line, LdirCode.EMPTY_VALUE, `${dir.key} must not be empty`, v);
  return m[1]!;
}

/** A value that may be quoted or bare (checkcommand, fallbackcommand, monitorfile). */
export function quotedOrBare(d: LdirDiagnostics, dir: Directive): string | undefined {
  const v = dir.value ?? '';
  const m = /^"(.*)"/.exec(v);
  const s = m ? m[1]! : v;
  if (s === '') return d.error(dir.line, LdirCode.EMPTY_VALUE, `${dir.key} must not be empty`, v);
  return s;
}

export function nonEmpty(d: LdirDiagnostics, dir: Directive): string | undefined {
  const v = dir.value ?? '';
  if (v === '') return d.error(dir.line, LdirCode.EMPTY_VALUE, `${dir.key} must not be empty`, v);
  return v;
}

/** `emailalert`: enclosing quotes are optional. */
export function emailAlert(d: LdirDiagnostics, dir: Directive): string | undefined {
  const v = (dir.value ?? '').replace(/^"([^"]*)"$/, '$1');
  if (v === '') return d.error(dir.line, LdirCode.EMPTY_VALUE, 'no email address specified', dir.value);
  return v;
}

export function smtpHost(d: LdirDiagnostics, dir: Directive): string | undefined {
  const v = dir.value ?? '';
  const m = /^[0-9A-Za-z._+-]+/.exec(v);
  if (!m) return d.error(dir.line, LdirCode.BAD_SMTP, `invalid SMTP server address ${q(v)}`, v);
  if (m[0] !== v) d.warn(dir.line, LdirCode.IGNORED_TEXT, `smtp: text after the host name ignored: ${q(v.slice(m[0].length))}`, v);
  return m[0];
}

import { EMAIL_ALERT_STATUSES, type EmailAlertStatus } from './model.js';

/** `all`, `none`, or a comma list of starting, running, stopping, reloading; `none` mixes with nothing. */
export function emailAlertStatus(d: LdirDiagnostics, dir: Directive): EmailAlertStatus[] | undefined {
  const v = dir.value ?? '';
  const items = v === '' ? [] : v.split(/\s*,\s*/);
  const hasNone = items.includes('none');
  const out = new Set<EmailAlertStatus>();
  for (const item of items) {
    if (item === 'none') continue;
    if (item === 'all') EMAIL_ALERT_STATUSES.forEach((s) => out.add(s));
    else if ((EMAIL_ALERT_STATUSES as readonly string[]).includes(item)) out.add(item as EmailAlertStatus);
    else return d.error(dir.line, LdirCode.BAD_EMAILALERTSTATUS, `invalid email alert status at: ${q(item)}`, item);
    if (hasNone) return d.error(dir.line, LdirCode.BAD_EMAILALERTSTATUS, `invalid email alert status: ${q(item)} specified with "none"`, item);
  }
  return EMAIL_ALERT_STATUSES.filter((s) => out.has(s));
}
