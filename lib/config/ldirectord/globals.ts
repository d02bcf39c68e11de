import { didYouMean } from '../../shared/suggest.js';
import { LdirCode } from './codes.js';
import { parseFallback, type FallbackDraft } from './fallback.js';
import type { EmailAlertStatus } from './model.js';
import { CHECKCOUNT_MESSAGE, CONNECTTIMEOUT_MESSAGE, MEMBER_DIRECTIVES } from './virtual.js';
import {
  emailAlert, emailAlertStatus, firstNumber, nonEmpty, q, quoted, quotedOrBare, smtpHost, splitDirective, yesNo,
  type Directive, type LdirDiagnostics,
} from './values.js';
import { EMAIL_ALERT_STATUSES } from './model.js';

/** Global settings as written, with set_defaults' values. */
export interface GlobalsDraft {
  checkTimeout?: number;
  negotiateTimeout?: number;
  checkInterval: number;
  checkCount: number;
  failureCount: number;
  autoreload: boolean;
  callback?: string;
  fallback?: FallbackDraft;
  fallback6?: FallbackDraft;
  fallbackCommand?: string;
  logfile: string;
  emailAlert: string;
  emailAlertFreq: number;
  emailAlertStatus: EmailAlertStatus[];
  emailAlertFrom?: string;
  smtp?: string;
  execute: string[];
  supervised: boolean;
  fork: boolean;
  quiescent: boolean;
  readdQuiescent: boolean;
  cleanStop: boolean;
  maintenanceDir?: { path: string; line: number };
  /** Ours: where the table lives (`backend=auto|ipvsadm|userspace`). */
  backend: 'auto' | 'ipvsadm' | 'userspace';
}

export function defaultGlobals(): GlobalsDraft {
  return {
    checkInterval: 10,
    checkCount: 1,
    failureCount: 1,
    autoreload: false,
    logfile: '/var/log/ldirectord.log',
    emailAlert: '',
    emailAlertFreq: 0,
    emailAlertStatus: [...EMAIL_ALERT_STATUSES],
    execute: [],
    supervised: false,
    // The manual says quiescent defaults to yes; the code says no, and the code is what runs (spec §11).
    fork: false,
    quiescent: false,
    readdQuiescent: false,
    cleanStop: true,
    backend: 'auto',
  };
}

type GlobalHandler = (d: LdirDiagnostics, g: GlobalsDraft, dir: Directive) => void;

function set<K extends keyof GlobalsDraft>(g: GlobalsDraft, key: K, value: GlobalsDraft[K] | undefined): void {
  if (value !== undefined) g[key] = value;
}

const yn = (key: 'autoreload' | 'fork' | 'quiescent' | 'readdQuiescent' | 'cleanStop'): GlobalHandler => (d, g, dir) => set(g, key, yesNo(d, dir));

/** Global directives (spec §2.1). `virtual=` is handled by the parser itself. */
export const GLOBAL_DIRECTIVES: Record<string, GlobalHandler> = {
  checktimeout: (d, g, dir) => set(g, 'checkTimeout', firstNumber(d, dir, 'check timeout value', 1)),
  connecttimeout: (d, _g, dir) => void d.error(dir.line, LdirCode.DEPRECATED_DIRECTIVE, CONNECTTIMEOUT_MESSAGE, dir.key),
  timeout: (d, _g, dir) => void d.error(dir.line, LdirCode.DEPRECATED_DIRECTIVE, 'timeout directive deprecated in favour of checktimeout and negotiatetimeout', dir.key),
  negotiatetimeout: (d, g, dir) => set(g, 'negotiateTimeout', firstNumber(d, dir, 'negotiate timeout value', 1)),
  checkinterval: (d, g, dir) => set(g, 'checkInterval', firstNumber(d, dir, 'check interval value', 1)),
  checkcount(d, g, dir) {
    set(g, 'checkCount', firstNumber(d, dir, 'check count value', 1));
    d.warn(dir.line, LdirCode.CHECKCOUNT_DEPRECATED, CHECKCOUNT_MESSAGE, dir.key);
  },
  failurecount: (d, g, dir) => set(g, 'failureCount', firstNumber(d, dir, 'failure count value', 1)),
  fallback: (d, g, dir) => set(g, 'fallback', parseFallback(d, dir.line, dir.value ?? '')),
  fallback6: (d, g, dir) => set(g, 'fallback6', parseFallback(d, dir.line, dir.value ?? '')),
  fallbackcommand: (d, g, dir) => set(g, 'fallbackCommand', quotedOrBare(d, dir)),
  autoreload: yn('autoreload'),
  callback: (d, g, dir) => set(g, 'callback', quoted(d, dir, { allowEmpty: true })),
  logfile: (d, g, dir) => set(g, 'logfile', quoted(d, dir)),
  execute: (d, g, dir) => {
    const name = dir.value ?? '';
    // ldirectord accepts an empty name (and would later run `ldirectord "" start`); we skip it with a warning.
    if (name === '') d.warn(dir.line, LdirCode.EMPTY_EXECUTE, 'execute= without a config name is ignored', '');
    else if (!g.execute.includes(name)) g.execute.push(name);
  },
  fork: yn('fork'),
  supervised(d, g, dir) {
    if (dir.value === undefined && dir.text === 'supervised') {
      g.supervised = true;
      d.warn(dir.line, LdirCode.BARE_SUPERVISED, 'please update your config not to use a bare supervised directive', dir.key);
      return;
    }
    set(g, 'supervised', yesNo(d, dir));
  },
  quiescent: yn('quiescent'),
  readdquiescent: yn('readdQuiescent'),
  emailalert: (d, g, dir) => set(g, 'emailAlert', emailAlert(d, dir)),
  emailalertfreq: (d, g, dir) => set(g, 'emailAlertFreq', firstNumber(d, dir, 'email alert frequency', 0)),
  emailalertstatus: (d, g, dir) => set(g, 'emailAlertStatus', emailAlertStatus(d, dir)),
  emailalertfrom: (d, g, dir) => set(g, 'emailAlertFrom', nonEmpty(d, dir)),
  cleanstop: yn('cleanStop'),
  smtp: (d, g, dir) => set(g, 'smtp', smtpHost(d, dir)),
  backend(d, g, dir) {
    const v = dir.value ?? '';
    if (v === 'auto' || v === 'ipvsadm' || v === 'userspace') g.backend = v;
    else d.error(dir.line, LdirCode.BAD_BACKEND, `backend must be 'auto', 'ipvsadm' or 'userspace', not ${q(v)}`, v);
  },
  maintenancedir(d, g, dir) {
    const path = nonEmpty(d, dir);
    if (path !== undefined) g.maintenanceDir = { path, line: dir.line };
  },
};

/** Applies one column-0 line that is not `virtual=`. */
export function applyGlobalLine(d: LdirDiagnostics, g: GlobalsDraft, line: number, text: string): void {
  const dir = splitDirective(line, text);
  const handler = Object.hasOwn(GLOBAL_DIRECTIVES, dir.key) ? GLOBAL_DIRECTIVES[dir.key] : undefined;
  if (handler && (dir.value !== undefined || dir.key === 'supervised')) {
    handler(d, g, dir);
    return;
  }
  if (Object.hasOwn(MEMBER_DIRECTIVES, dir.key)) {
    d.error(line, LdirCode.OUTSIDE_VIRTUAL, `${q(dir.key)} belongs in a virtual block: put it after a virtual= line, indented by a TAB or at least 4 spaces`, dir.key);
    return;
  }
  const hint = didYouMean(dir.key, [...Object.keys(GLOBAL_DIRECTIVES), 'virtual', 'virtual6']);
  d.error(line, LdirCode.UNKNOWN_DIRECTIVE, `unknown directive ${q(dir.key)}${hint && hint !== dir.key ? ` (did you mean ${q(hint)}?)` : handler ? ' (needs key=value)' : ''}`, dir.key);
}
