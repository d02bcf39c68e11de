import { didYouMean } from '../../shared/suggest.js';
import { LdirCode } from './codes.js';
import { parseFallback, type FallbackDraft } from './fallback.js';
import { CHECK_SERVICES, CHECK_TYPES, type AddressFamily, type CheckService, type CheckType, type EmailAlertStatus } from './model.js';
import { parseReal, type RealDraft } from './real.js';
import {
  emailAlert, emailAlertStatus, firstNumber, q, quoted, quotedOrBare, smtpHost, splitDirective, yesNo,
  type Directive, type LdirDiagnostics,
} from './values.js';

/** What a `virtual=` value names, before resolution. */
export type VirtualTarget =
  | { readonly kind: 'address'; readonly host: string; readonly port: string }
  | { readonly kind: 'fwmark'; readonly mark: number };

/** A virtual block as written; defaults and globals are applied when the whole file is read. */
export interface VirtualDraft {
  line: number;
  family: AddressFamily;
  target: VirtualTarget;
  protocol: 'tcp' | 'udp' | 'fwm';
  reals: RealDraft[];
  fallback?: FallbackDraft;
  service?: CheckService;
  checkType: CheckType;
  combinedConnects?: number;
  checkCommand: string;
  checkPort?: number;
  checkTimeout?: number;
  negotiateTimeout?: number;
  checkInterval?: { value: number; line: number };
  failureCount?: number;
  checkCount?: number;
  request: string;
  receive: string;
  httpMethod: 'GET' | 'HEAD';
  virtualHost?: string;
  login: string;
  passwd: string;
  database: string;
  secret: string;
  load?: string;
  scheduler: string;
  persistent?: number;
  netmask?: string;
  schedFlags?: string;
  ops: boolean;
  quiescent?: boolean;
  cleanStop?: boolean;
  emailAlert?: string;
  emailAlertFreq?: number;
  emailAlertStatus?: EmailAlertStatus[];
  smtp?: string;
  fallbackCommand?: string;
  monitorFile?: string;
  serviceName?: string;
  comment?: string;
}

/**
 * Reads a `virtual=`/`virtual6=` value with ldirectord's precedence (spec §2.2):
 * IPv4:port, then host:port, then leading digits as a firewall mark, then [IPv6]:port.
 */
export function parseVirtualTarget(d: LdirDiagnostics, line: number, family: AddressFamily, value: string): VirtualTarget | undefined {
  const key = family === 'ipv4' ? 'virtual' : 'virtual6';
  let m: RegExpExecArray | null;
  let target: VirtualTarget;
  let rest: string;
  if (family === 'ipv4' && (m = /^(\d+\.\d+\.\d+\.\d+):([0-9A-Za-z_-]+)/.exec(value))) {
    target = { kind: 'address', host: m[1]!, port: m[2]! };
  } else if ((m = /^([0-9A-Za-z._+-]+):([0-9A-Za-z_-]+)/.exec(value))) {
    target = { kind: 'address', host: m[1]!, port: m[2]! };
  } else if ((m = /^(\d+)/.exec(value))) {
    const mark = Number(m[1]);
    if (!(mark >= 1 && mark <= 0xffffffff)) {
      return d.error(line, LdirCode.BAD_FWMARK, `firewall mark ${q(m[1]!)} out of range 1..4294967295`, m[1]);
    }
    target = { kind: 'fwmark', mark };
    if (/^\.\d/.test(value.slice(m[0].length))) {
      // ldirectord reads virtual=10.0.0.1 as fwmark 10 (golden config-parse 18); keep it, but say so.
      d.warn(line, LdirCode.VIRTUAL_WITHOUT_PORT, `${key}=${value} has no port: it is read as firewall mark ${mark}, as ldirectord does; write ${value}:PORT for an address`, value);
      return target;
    }
  } else if ((m = /^\[([0-9A-Fa-f:.]+)\]:([0-9A-Za-z_-]+)/.exec(value))) {
    if (family === 'ipv4') {
      return d.error(line, LdirCode.WRONG_FAMILY, 'cannot specify an IPv6 address here, please use "virtual6" instead', value);
    }
    target = { kind: 'address', host: m[1]!, port: m[2]! };
  } else {
    return d.error(line, LdirCode.BAD_VIRTUAL, `invalid address for virtual server ${q(value)}: expected IP:PORT, HOST:PORT, [IPv6]:PORT or a firewall mark`, value);
  }
  rest = value.slice(m[0].length);
  if (rest.trim() !== '') d.warn(line, LdirCode.IGNORED_TEXT, `${key}: text after ${q(m[0])} ignored: ${q(rest.trim())}`, rest.trim());
  return target;
}

export function newVirtualDraft(line: number, family: AddressFamily, target: VirtualTarget): VirtualDraft {
  const isMark = target.kind === 'fwmark';
  return {
    line,
    family,
    target,
    // Port 53 or the name "domain" defaults to udp, as in read_config.
    protocol: isMark ? 'fwm' : /^(53|domain)$/.test(target.port) ? 'udp' : 'tcp',
    reals: [],
    ...(isMark ? { service: 'none' as const } : {}),
    checkType: 'negotiate',
    checkCommand: '/bin/true',
    request: '/',
    receive: '',
    httpMethod: 'GET',
    login: '',
    passwd: '',
    database: '',
    secret: '',
    scheduler: 'wrr',
    ops: false,
  };
}

type MemberHandler = (d: LdirDiagnostics, v: VirtualDraft, dir: Directive, hostname: string) => void;

function set<K extends keyof VirtualDraft>(v: VirtualDraft, key: K, value: VirtualDraft[K] | undefined): void {
  if (value !== undefined) v[key] = value;
}

const number = (what: string, key: 'checkTimeout' | 'negotiateTimeout' | 'failureCount' | 'checkCount'): MemberHandler =>
  (d, v, dir) => set(v, key, firstNumber(d, dir, what, 1));

function realHandler(want: AddressFamily): MemberHandler {
  return (d, v, dir) => {
    if (v.family !== want) {
      const use = v.family === 'ipv4' ? 'real' : 'real6';
      d.error(dir.line, LdirCode.WRONG_FAMILY, `cannot specify ${q(dir.key)} here, please use ${q(use)} instead`, dir.key);
      return;
    }
    const r = parseReal(d, dir.line, dir.value ?? '');
    if (r) v.reals.push(r);
  };
}

function fallbackHandler(want: AddressFamily): MemberHandler {
  return (d, v, dir) => {
    if (v.family !== want) {
      const use = v.family === 'ipv4' ? 'fallback' : 'fallback6';
      d.error(dir.line, LdirCode.WRONG_FAMILY, `cannot specify ${q(dir.key)} here, please use ${q(use)} instead`, dir.key);
      return;
    }
    set(v, 'fallback', parseFallback(d, dir.line, dir.value ?? ''));
  };
}

const deprecated = (message: string): MemberHandler => (d, _v, dir) => {
  d.error(dir.line, LdirCode.DEPRECATED_DIRECTIVE, message, dir.key);
};

export const CONNECTTIMEOUT_MESSAGE = 'connecttimeout directive deprecated in favour of negotiatetimeout';
export const CHECKCOUNT_MESSAGE = "checkcount option is deprecated and slated for removal, please see 'failurecount'";

/** Directives allowed inside a virtual block (spec §2.2), in ldirectord's spelling. */
export const MEMBER_DIRECTIVES: Record<string, MemberHandler> = {
  real: realHandler('ipv4'),
  real6: realHandler('ipv6'),
  request(d, v, dir) {
    const s = quoted(d, dir);
    if (s !== undefined) v.request = s.startsWith('/') ? s : '/' + s;
  },
  receive: (d, v, dir) => set(v, 'receive', quoted(d, dir)),
  checktype(d, v, dir) {
    const val = dir.value ?? '';
    const n = /\d+/.exec(val);
    if (n && !Number.isSafeInteger(Number(n[0]))) {
      d.error(dir.line, LdirCode.BAD_CHECKTYPE, `checktype number ${q(n[0])} is too large`, val);
      return;
    }
    if (n) {
      // ldirectord takes any digits as checktype=N (combined); warn when words were around them.
      v.checkType = 'combined';
      v.combinedConnects = Number(n[0]);
      if (n[0] !== val) d.warn(dir.line, LdirCode.IGNORED_TEXT, `checktype: read as the number ${n[0]}, text around it ignored: ${q(val)}`, val);
      return;
    }
    const word = /^[\w-]+/.exec(val)?.[0] ?? '';
    if (!(CHECK_TYPES as readonly string[]).includes(word)) {
      d.error(dir.line, LdirCode.BAD_CHECKTYPE, `checktype must be "connect", "negotiate", "on", "off", "ping", "external", "external-perl" or a positive number, not ${q(val)}`, val);
      return;
    }
    if (word !== val) d.warn(dir.line, LdirCode.IGNORED_TEXT, `checktype: text after ${q(word)} ignored`, val);
    v.checkType = word as CheckType;
    delete v.combinedConnects;
  },
  checkcommand: (d, v, dir) => set(v, 'checkCommand', quotedOrBare(d, dir)),
  checktimeout: number('check timeout', 'checkTimeout'),
  connecttimeout: deprecated(CONNECTTIMEOUT_MESSAGE),
  negotiatetimeout: number('negotiate timeout', 'negotiateTimeout'),
  checkcount(d, v, dir) {
    set(v, 'checkCount', firstNumber(d, dir, 'check count', 1));
    d.warn(dir.line, LdirCode.CHECKCOUNT_DEPRECATED, CHECKCOUNT_MESSAGE, dir.key);
  },
  failurecount: number('failure count', 'failureCount'),
  checkinterval(d, v, dir) {
    const n = firstNumber(d, dir, 'checkinterval', 1);
    if (n !== undefined) v.checkInterval = { value: n, line: dir.line };
  },
  checkport(d, v, dir) {
    const n = firstNumber(d, dir, 'port', 0);
    if (n === undefined) return;
    if (n < 1 || n > 65535) d.error(dir.line, LdirCode.BAD_PORT, `checkport must be in range 1..65535, not ${n}`, dir.value);
    else v.checkPort = n;
  },
  login: (d, v, dir) => set(v, 'login', quoted(d, dir)),
  passwd: (d, v, dir) => set(v, 'passwd', quoted(d, dir)),
  database: (d, v, dir) => set(v, 'database', quoted(d, dir)),
  secret: (d, v, dir) => set(v, 'secret', quoted(d, dir)),
  load(d, v, dir) {
    const s = quoted(d, dir);
    if (s === undefined) return;
    const w = /\w+/.exec(s);
    if (!w) d.error(dir.line, LdirCode.EMPTY_VALUE, `invalid string for load testing ${q(s)}`, s);
    else v.load = w[0];
  },
  scheduler(d, v, dir) {
    const val = dir.value ?? '';
    const m = /[a-z]+/.exec(val);
    if (!m) {
      d.error(dir.line, LdirCode.BAD_SCHEDULER, `invalid scheduler ${q(val)}, should be only lowercase letters (a-z)`, val);
      return;
    }
    if (m[0] !== val) d.warn(dir.line, LdirCode.IGNORED_TEXT, `scheduler ${q(val)} is read as ${q(m[0])}, as ldirectord does`, val);
    v.scheduler = m[0];
  },
  persistent: (d, v, dir) => set(v, 'persistent', firstNumber(d, dir, 'persistent timeout', 0)),
  schedflags(d, v, dir) {
    const m = /\S+/.exec(dir.value ?? '');
    if (!m) d.error(dir.line, LdirCode.EMPTY_VALUE, 'invalid sched-flags: empty', dir.value);
    else v.schedFlags = m[0];
  },
  netmask(d, v, dir) {
    const val = dir.value ?? '';
    if (v.family === 'ipv6') {
      if (!/^\d+$/.test(val) || Number(val) < 1 || Number(val) > 128) {
        d.error(dir.line, LdirCode.BAD_NETMASK, `invalid netmask ${q(val)}: a prefix length between 1 and 128 is required`, val);
        return;
      }
    } else if (!/^\d+\.\d+\.\d+\.\d+$/.test(val)) {
      d.error(dir.line, LdirCode.BAD_NETMASK, `invalid netmask ${q(val)}: dotted quad notation is required`, val);
      return;
    }
    v.netmask = val;
  },
  protocol(d, v, dir) {
    const val = dir.value ?? '';
    const word = /\w+/.exec(val)?.[0];
    if (word === undefined) {
      d.error(dir.line, LdirCode.BAD_PROTOCOL, `invalid protocol ${q(val)}`, val);
    } else if (v.protocol === 'fwm') {
      if (word !== 'fwm') d.error(dir.line, LdirCode.BAD_PROTOCOL, `protocol must be fwm if the virtual service is a fwmark (a number), not ${q(word)}`, word);
    } else if (word === 'tcp' || word === 'udp') {
      v.protocol = word;
    } else {
      d.error(dir.line, LdirCode.BAD_PROTOCOL, `protocol must be tcp or udp if the virtual service is an address and port, not ${q(word)}`, word);
    }
  },
  ops(d, v, dir) {
    set(v, 'ops', yesNo(d, dir));
  },
  service(d, v, dir, hostname) {
    const val = dir.value ?? '';
    const word = /\w+/.exec(val)?.[0] ?? '';
    if (!(CHECK_SERVICES as readonly string[]).includes(word)) {
      d.error(dir.line, LdirCode.BAD_SERVICE, `service must be ${CHECK_SERVICES.slice(0, -1).join(', ')} or ${CHECK_SERVICES.at(-1)}, not ${q(val)}`, val);
      return;
    }
    v.service = word as CheckService;
    // An explicit service=ftp/sip gives default credentials, only if none were set before this line (read_config).
    if (word === 'ftp' && v.login === '') v.login = 'anonymous';
    else if (word === 'sip' && v.login === '') v.login = `ldirectord@${hostname}`;
    if (word === 'ftp' && v.passwd === '') v.passwd = `ldirectord@${hostname}`;
  },
  httpmethod(d, v, dir) {
    const val = dir.value ?? '';
    const word = (/\w+/.exec(val)?.[0] ?? '').toUpperCase();
    if (word !== 'GET' && word !== 'HEAD') d.error(dir.line, LdirCode.BAD_HTTPMETHOD, `httpmethod must be GET or HEAD, not ${q(val)}`, val);
    else v.httpMethod = word;
  },
  virtualhost(_d, v, dir) {
    v.virtualHost = /^"?([^"]*)"?/.exec(dir.value ?? '')![1]!;
  },
  fallback: fallbackHandler('ipv4'),
  fallback6: fallbackHandler('ipv6'),
  fallbackcommand: (d, v, dir) => set(v, 'fallbackCommand', quotedOrBare(d, dir)),
  quiescent: (d, v, dir) => set(v, 'quiescent', yesNo(d, dir)),
  cleanstop: (d, v, dir) => set(v, 'cleanStop', yesNo(d, dir)),
  emailalert: (d, v, dir) => set(v, 'emailAlert', emailAlert(d, dir)),
  emailalertfreq: (d, v, dir) => set(v, 'emailAlertFreq', firstNumber(d, dir, 'email alert frequency', 0)),
  emailalertstatus: (d, v, dir) => set(v, 'emailAlertStatus', emailAlertStatus(d, dir)),
  monitorfile: (d, v, dir) => set(v, 'monitorFile', quotedOrBare(d, dir)),
  smtp: (d, v, dir) => set(v, 'smtp', smtpHost(d, dir)),
  servicename: (_d, v, dir) => set(v, 'serviceName', dir.value ?? ''),
  comment: (_d, v, dir) => set(v, 'comment', dir.value ?? ''),
};

/** Applies one indented line of a virtual block. */
export function applyMemberLine(d: LdirDiagnostics, v: VirtualDraft, line: number, text: string, hostname: string): void {
  const dir = splitDirective(line, text);
  const handler = Object.hasOwn(MEMBER_DIRECTIVES, dir.key) ? MEMBER_DIRECTIVES[dir.key] : undefined;
  if (!handler || dir.value === undefined) {
    const hint = didYouMean(dir.key, Object.keys(MEMBER_DIRECTIVES));
    d.error(line, LdirCode.UNKNOWN_DIRECTIVE, `unknown directive ${q(dir.key)} in virtual block${hint && hint !== dir.key ? ` (did you mean ${q(hint)}?)` : handler ? ' (needs key=value)' : ''}`, dir.key);
    return;
  }
  handler(d, v, dir, hostname);
}
