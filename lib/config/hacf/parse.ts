/**
 * ha.cf parser: Heartbeat 3.0.6's parse_config + init_config, as a pure
 * function. It collects every problem (the original also keeps going after an
 * error) and reports each as FILE:LINE naming the offending token.
 */
import { ConfigError, type ConfigWarning, type Diagnostic } from '../../shared/errors.js';
import type { ConfigFs } from '../../shared/fs.js';
import { didYouMean } from '../../shared/suggest.js';
import { decodeConfigBytes } from '../../shared/text.js';
import { EXIT_NOT_CONFIGURED, type Collected, type ParseResult } from './result.js';
import {
  ALIASES, ALL_DIRECTIVES, DEFAULT_APIAUTH, DEFAULT_BAUD, DEFAULT_PORT, ONCE_ONLY,
  PACEMAKER_APIAUTH, PACEMAKER_CHILDREN, WHOLE_LINE_DIRECTIVES,
} from './directives.js';
import { PER_VALUE_MEDIA, WHOLE_LINE_MEDIA, parseWholeLineMedium } from './media.js';
import type { ApiAuth, AutoFailback, AutoJoin, ClientChild, HaCf, Medium, PacemakerMode, PingNode, Stonith, StonithHost } from './model.js';
import { BAUD_RATES, SYSLOG_FACILITIES, isHostName, isIPv4, isIPv6, parseBoolean, parseInteger, parseTimeMs } from './values.js';

export interface HaCfOptions {
  /** This machine's node name (`uname -n` or ha.d/nodeinfo); when given, a missing `node` line for it is warned about. */
  readonly localNode?: string;
  /** When given, respawn/failfast programs that are missing or not executable are warned about. */
  readonly fs?: ConfigFs;
}

/** Limits compiled into the original (MAXNODE, MAXMEDIA). */
const MAX_NODES = 100;
const MAX_MEDIA = 64;
/** sched_get_priority_{min,max}(SCHED_FIFO) on Linux. */
const RTPRIO_MIN = 1;
const RTPRIO_MAX = 99;

const WHITESPACE = /[ \t\n\r\f]+/;
const DELIMS = /[, \t\n\r\f]+/;

/** One ha.cf line after the original's clean-up: comment cut, CR/LF dropped. */
interface Line {
  readonly line: number;
  readonly directive: string;
  /** Text after the directive and its delimiters. */
  readonly rest: string;
}

function cleanLines(text: string): Line[] {
  const out: Line[] = [];
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    let s = raw[i]!.replace(/^[ \t\n\r\f]+/, '');
    const hash = s.indexOf('#');
    if (hash >= 0) s = s.slice(0, hash);
    const cr = s.search(/[\r\n]/);
    if (cr >= 0) s = s.slice(0, cr);
    if (s === '') continue;
    const end = s.search(/[ \t\n\r\f]/);
    const directive = end < 0 ? s : s.slice(0, end);
    const rest = (end < 0 ? '' : s.slice(end)).replace(/^[, \t\n\r\f]+/, '').replace(/[ \t\f]+$/, '');
    out.push({ line: i + 1, directive, rest });
  }
  return out;
}

/** Mutable state while reading; frozen into HaCf at the end. */
class Builder {
  nodes: string[] = [];
  nodeLines = new Map<string, number>();
  media: Medium[] = [];
  pingNodes: PingNode[] = [];
  /** Parameters recorded as the original's SetParameterValue does: last value and its line. */
  params = new Map<string, { value: string; line: number }>();
  keepaliveMs = 1000;
  deadtimeMs = 30000;
  warntimeMs: number | undefined;
  initdeadMs: number | undefined;
  deadpingMs: number | undefined;
  udpport: number | undefined;
  baud = DEFAULT_BAUD;
  /** Each UDP plugin fixes its port when its first medium is read (a static in bcast.c / ucast.c). */
  pluginPort = new Map<string, { port: number; line: number }>();
  autoFailback: AutoFailback = 'legacy';
  autoFailbackWritten = false;
  pacemaker: PacemakerMode = 'off';
  pacemakerLine = 0;
  autojoin: AutoJoin = 'none';
  autojoinLine = 0;
  respawn: ClientChild[] = [];
  apiauth: ApiAuth[] = [];
  stonith: Stonith[] = [];
  stonithHost: StonithHost[] = [];
  env: { name: string; value: string }[] = [];
  logfile: string | undefined;
  debugfile: string | undefined;
  logfacility: string | undefined;
  useLogd: boolean | undefined;
  useLogdLine = 0;
  syslogmsgfmt = true;
  connLogdTimeMs = 60000;
  logBadpack = true;
  debug = 0;
  realtime = true;
  rtprio: number | undefined;
  watchdog: string | undefined;
  hopfudge = 1;
  hbgenmethod: 'file' | 'time' = 'file';
  msgfmt: 'classic' | 'netstring' = 'classic';
  compression = 'zlib';
  compressionThresholdKb = 2;
  traditionalCompression = false;
  coredumps = true;
  coreroot: string | undefined;
  maxRexmitDelayMs = 250;
  memreserveKb = 6500;
  cluster = 'linux-ha';
  quorumServer: string | undefined;
  uuidfrom: 'file' | 'nodename' = 'file';
  useApphbd = false;
  pacemakerSettings: Record<string, string> = {};
  seen = new Map<string, number>();
}

export function collectHaCf(input: Uint8Array | string, file: string, opts: HaCfOptions = {}): Collected<HaCf> {
  const errors: Diagnostic[] = [];
  const warnings: ConfigWarning[] = [];
  const err = (line: number, code: string, message: string, token?: string): void => {
    errors.push(token === undefined ? { file, line, code, message } : { file, line, code, message, token });
  };
  const warn = (line: number, code: string, message: string, token?: string): void => {
    warnings.push(token === undefined ? { file, line, code, message } : { file, line, code, message, token });
  };

  const b = new Builder();
  const text = decodeConfigBytes(input);

  const badValue = (l: Line, value: string, what: string): void =>
    err(l.line, 'HACF_BAD_VALUE', `invalid ${l.directive} value [${value}]: ${what}`, value);

  const setTime = (l: Line, value: string, min: number): number | undefined => {
    const ms = parseTimeMs(value);
    if (ms === undefined) {
      // Heartbeat takes no `s` suffix: a plain number already means seconds.
      const hint = /^\d+(\.\d*)?(s|sec|secs)$/i.test(value) ? `; write ${value.replace(/[a-z]+$/i, '')} for seconds` : '';
      err(l.line, 'HACF_BAD_TIME', `invalid time [${value}] for ${l.directive} (seconds, or a number with ms/us)${hint}`, value);
      return undefined;
    }
    if (ms < min) {
      err(l.line, 'HACF_BAD_TIME', `${l.directive} [${value}] must be ${min === 0 ? 'at least 0' : 'greater than 0'}`, value);
      return undefined;
    }
    return ms;
  };
  const setBool = (l: Line, value: string): boolean | undefined => {
    const v = parseBoolean(value);
    if (v === undefined) err(l.line, 'HACF_BAD_BOOLEAN', `invalid ${l.directive} value [${value}] (true/false, on/off, yes/no, y/n, 1/0)`, value);
    return v;
  };
  const setInt = (l: Line, value: string, min: number, max: number): number | undefined => {
    const v = parseInteger(value);
    if (v === undefined || v < min || v > max) {
      badValue(l, value, `a whole number from ${min} to ${max} is expected`);
      return undefined;
    }
    return v;
  };
  const record = (l: Line, value: string): void => {
    b.params.set(l.directive, { value, line: l.line });
  };
  const addNode = (l: Line, name: string, kind: 'normal' | 'ping'): boolean => {
    if (b.nodes.length + b.pingNodes.length >= MAX_NODES) {
      err(l.line, 'HACF_TOO_MANY_NODES', `too many nodes (at most ${MAX_NODES}, ping nodes included)`, name);
      return false;
    }
    if (kind === 'normal') {
      const lower = name.toLowerCase();
      const prev = b.nodeLines.get(lower);
      if (prev !== undefined) {
        warn(l.line, 'HACF_DUPLICATE_NODE', `node [${name}] is already declared on line ${prev}`, name);
        return true;
      }
      b.nodes.push(lower);
      b.nodeLines.set(lower, l.line);
    }
    return true;
  };
  const mediaCount = () => b.media.length + b.pingNodes.length;
  const addMedium = (l: Line, m: Medium, token: string): void => {
    if (mediaCount() >= MAX_MEDIA) {
      err(l.line, 'HACF_TOO_MANY_MEDIA', `too many media (at most ${MAX_MEDIA})`, token);
      return;
    }
    b.media.push(m);
  };
  /** The port a bcast/ucast medium gets: fixed by the first medium of its plugin. */
  const portFor = (type: string, line: number): number => {
    const fixed = b.pluginPort.get(type);
    if (fixed) return fixed.port;
    const port = b.udpport ?? DEFAULT_PORT;
    b.pluginPort.set(type, { port, line });
    return port;
  };
  const setPacemaker = (l: Line, value: string): void => {
    if (b.seen.has('pacemaker')) {
      err(l.line, 'HACF_DUPLICATE', `pacemaker/crm directive used multiple times (first on line ${b.seen.get('pacemaker')})`, value);
      return;
    }
    b.seen.set('pacemaker', l.line);
    const lower = value.toLowerCase();
    let mode: PacemakerMode;
    if (lower === 'minimal' || lower === 'manual' || lower === 'respawn' || lower === 'ccm-only' || lower === 'valgrind') mode = lower;
    else {
      const on = parseBoolean(value);
      if (on === undefined) {
        err(l.line, 'HACF_BAD_VALUE', `invalid ${l.directive} value [${value}] (on/off, respawn, minimal, manual, ccm-only, valgrind)`, value);
        return;
      }
      if (!on) return;
      mode = 'on';
    }
    b.pacemaker = mode;
    b.pacemakerLine = l.line;
    const minimal = mode === 'minimal' || mode === 'manual';
    for (const a of PACEMAKER_APIAUTH) {
      if (minimal && !a.minimal) break;
      b.apiauth.push({ line: l.line, client: a.client, uids: [a.uid], gids: [], implicit: true });
    }
    const crmdSpawnsPengine = parseBoolean(b.pacemakerSettings['crmd_spawns_pengine'] ?? 'true') ?? true;
    for (const [j, c] of PACEMAKER_CHILDREN.entries()) {
      if (mode === 'ccm-only' && j > 0) break;
      if (minimal && c.skipIfMinimal) continue;
      if (c.name === 'pengine' && crmdSpawnsPengine) continue;
      const path = `/usr/lib/heartbeat/${c.name}`;
      b.respawn.push({
        line: l.line, user: c.user, command: c.args ? `${path} ${c.args}` : path, path,
        // failfast[] in set_pcmk_support: only `on` and `minimal` make these children reboot the node.
        failfast: (mode === 'on' || minimal) && c.failfastWhenOn,
        implicit: true,
      });
    }
  };

  /** Applies one value of a value directive (the original's add_option). */
  const applyValue = (l: Line, d: string, value: string): void => {
    switch (d) {
      case 'node':
        addNode(l, value, 'normal');
        return;
      case 'bcast':
        addMedium(l, { type: 'bcast', device: value, port: portFor('bcast', l.line), line: l.line }, value);
        return;
      case 'serial':
        if (!value.startsWith('/')) {
          err(l.line, 'HACF_BAD_MEDIA', `serial port not full pathname [${value}]`, value);
          return;
        }
        addMedium(l, { type: 'serial', device: value, baud: b.baud, line: l.line }, value);
        return;
      case 'ping':
      case 'ping6': {
        const ok = d === 'ping' ? isIPv4(value) || isHostName(value) : isIPv6(value);
        if (!ok) {
          err(l.line, 'HACF_BAD_MEDIA', `${d}: bad address [${value}]`, value);
          return;
        }
        if (mediaCount() >= MAX_MEDIA) {
          err(l.line, 'HACF_TOO_MANY_MEDIA', `too many media (at most ${MAX_MEDIA})`, value);
          return;
        }
        if (addNode(l, value, 'ping')) b.pingNodes.push({ type: d, name: value, addresses: [value], line: l.line });
        return;
      }
      case 'cluster':
        b.cluster = value;
        break;
      case 'quorum_server':
        // The original stores it as the cluster name too.
        b.cluster = value;
        b.quorumServer = value;
        break;
      case 'hopfudge': {
        const v = setInt(l, value, 0, 255);
        if (v === undefined) return;
        b.hopfudge = v;
        break;
      }
      case 'keepalive': {
        const v = setTime(l, value, 1);
        if (v === undefined) return;
        b.keepaliveMs = v;
        break;
      }
      case 'deadtime': {
        const v = setTime(l, value, 0);
        if (v === undefined) return;
        b.deadtimeMs = v;
        break;
      }
      case 'deadping': {
        const v = setTime(l, value, 0);
        if (v === undefined) return;
        b.deadpingMs = v;
        break;
      }
      case 'initdead': {
        const v = setTime(l, value, 0);
        if (v === undefined) return;
        b.initdeadMs = v;
        break;
      }
      case 'warntime': {
        const v = setTime(l, value, 1);
        if (v === undefined) return;
        b.warntimeMs = v;
        break;
      }
      case 'watchdog':
        b.watchdog = value;
        break;
      case 'baud': {
        const v = parseInteger(value);
        if (v === undefined || !BAUD_RATES.includes(v)) {
          badValue(l, value, `one of ${BAUD_RATES.join(', ')} is expected`);
          return;
        }
        b.baud = v;
        const serial = b.media.find((m) => m.type === 'serial');
        if (serial) warn(l.line, 'HACF_ORDER', `baud must precede media statements: the serial line ${serial.line} before it keeps ${DEFAULT_BAUD}`, value);
        break;
      }
      case 'udpport': {
        const v = setInt(l, value, 1, 65535);
        if (v === undefined) return;
        b.udpport = v;
        for (const [type, fixed] of b.pluginPort) {
          if (fixed.port !== v) {
            warn(l.line, 'HACF_ORDER', `udpport must precede media statements: ${type} media keep port ${fixed.port} (fixed by line ${fixed.line})`, value);
          }
        }
        break;
      }
      case 'logfacility':
        if (!SYSLOG_FACILITIES.includes(value)) {
          const hint = didYouMean(value, SYSLOG_FACILITIES);
          badValue(l, value, `not a syslog facility${hint ? `; did you mean ${hint}?` : ''}`);
          return;
        }
        b.logfacility = value;
        break;
      case 'logfile':
        b.logfile = value;
        break;
      case 'debugfile':
        b.debugfile = value;
        break;
      case 'nice_failback': {
        const v = setBool(l, value);
        if (v === undefined) return;
        // set_nice_failback: a nice mode (on/off) already chosen becomes off, otherwise legacy.
        const becomes: AutoFailback = b.autoFailback === 'legacy' ? 'legacy' : 'off';
        warn(l.line, 'HACF_DEPRECATED', `nice_failback is obsolete; 'nice_failback ${value}' is taken as 'auto_failback ${becomes}'`, 'nice_failback');
        b.autoFailback = becomes;
        return; // not recorded: an unset auto_failback still defaults to legacy afterwards
      }
      case 'auto_failback': {
        const lower = value.toLowerCase();
        if (lower === 'legacy') b.autoFailback = 'legacy';
        else {
          const v = parseBoolean(value);
          if (v === undefined) {
            badValue(l, value, 'on, off or legacy is expected');
            return;
          }
          b.autoFailback = v ? 'on' : 'off';
        }
        b.autoFailbackWritten = true;
        break;
      }
      case 'rtprio': {
        const v = setInt(l, value, RTPRIO_MIN, RTPRIO_MAX);
        if (v === undefined) return;
        b.rtprio = v;
        break;
      }
      case 'hbgenmethod':
        if (value !== 'file' && value !== 'time') return badValue(l, value, 'file or time is expected');
        b.hbgenmethod = value;
        break;
      case 'realtime': {
        const v = setBool(l, value);
        if (v === undefined) return;
        b.realtime = v;
        break;
      }
      case 'debug': {
        const v = setInt(l, value, 0, 255);
        if (v === undefined) return;
        b.debug = v;
        break;
      }
      case 'msgfmt':
        if (value !== 'classic' && value !== 'netstring') return badValue(l, value, 'classic or netstring is expected');
        b.msgfmt = value;
        break;
      case 'use_logd': {
        const v = setBool(l, value);
        if (v === undefined) return;
        b.useLogd = v;
        b.useLogdLine = l.line;
        break;
      }
      case 'conn_logd_time': {
        const v = setTime(l, value, 1);
        if (v === undefined) return;
        b.connLogdTimeMs = v;
        break;
      }
      case 'use_apphbd': {
        const v = setBool(l, value);
        if (v === undefined) return;
        b.useApphbd = v;
        warn(l.line, 'HACF_IGNORED', 'use_apphbd is accepted but apphbd is not supported; it is ignored', 'use_apphbd');
        return;
      }
      case 'log_badpack': {
        const v = setBool(l, value);
        if (v === undefined) return;
        b.logBadpack = v;
        break;
      }
      case 'syslogmsgfmt': {
        const v = setBool(l, value);
        if (v === undefined) return;
        b.syslogmsgfmt = v;
        break;
      }
      case 'coredumps': {
        const v = setBool(l, value);
        if (v === undefined) return;
        b.coredumps = v;
        break;
      }
      case 'coreroot':
        b.coreroot = value;
        break;
      case 'crm_daemon_dir':
        // The original inverts this test (refuses it before pacemaker, takes it after); we take it before and warn after.
        if (b.seen.has('pacemaker')) {
          warn(l.line, 'HACF_ORDER', `crm_daemon_dir after the pacemaker directive (line ${b.seen.get('pacemaker')}) has no effect`, d);
        }
        b.pacemakerSettings[d] = value;
        break;
      case 'crmd_spawns_pengine':
        if (setBool(l, value) === undefined) return;
        if (b.seen.has('pacemaker')) {
          err(l.line, 'HACF_ORDER', `crmd_spawns_pengine must come before the pacemaker directive (line ${b.seen.get('pacemaker')})`, d);
          return;
        }
        b.pacemakerSettings[d] = value;
        break;
      case 'pacemaker':
        setPacemaker(l, value);
        break;
      case 'autojoin': {
        const lower = value.toLowerCase();
        if (lower !== 'none' && lower !== 'other' && lower !== 'any') return badValue(l, value, 'none, other or any is expected');
        b.autojoin = lower;
        b.autojoinLine = l.line;
        break;
      }
      case 'uuidfrom':
        if (value !== 'file' && value !== 'nodename') return badValue(l, value, 'file or nodename is expected');
        b.uuidfrom = value;
        break;
      case 'compression':
        if (value !== 'zlib' && value !== 'bz2') return badValue(l, value, 'no such compression module (zlib, bz2)');
        b.compression = value;
        break;
      case 'compression_threshold': {
        const v = setInt(l, value, 1, 1 << 20);
        if (v === undefined) return;
        b.compressionThresholdKb = v;
        break;
      }
      case 'traditional_compression': {
        const v = setBool(l, value);
        if (v === undefined) return;
        b.traditionalCompression = v;
        break;
      }
      case 'env': {
        const eq = value.indexOf('=');
        if (eq <= 0) return badValue(l, value, 'NAME=VALUE is expected (values are split at commas and blanks)');
        b.env.push({ name: value.slice(0, eq), value: value.slice(eq + 1) });
        return;
      }
      case 'max_rexmit_delay': {
        const v = setInt(l, value, 1, 2 ** 31 - 1);
        if (v === undefined) return;
        b.maxRexmitDelayMs = v;
        break;
      }
      case 'record_config_changes':
      case 'record_pengine_inputs':
      case 'enable_config_writes':
        if (setBool(l, value) === undefined) return;
        b.pacemakerSettings[d] = value;
        break;
      case 'memreserve': {
        const v = setInt(l, value, 1, 2 ** 31 - 1);
        if (v === undefined) return;
        b.memreserveKb = v;
        break;
      }
      default:
        throw new Error(`unhandled ha.cf directive ${d}`);
    }
    record(l, value);
  };

  const applyWholeLine = (l: Line): void => {
    const d = l.directive;
    const words = l.rest.split(WHITESPACE).filter((w) => w !== '');
    switch (d) {
      case 'respawn':
      case 'failfast': {
        const [user, cmd] = words;
        if (user === undefined || cmd === undefined) {
          err(l.line, 'HACF_BAD_CLIENT', `${d} needs a user and an absolute command path`, user ?? d);
          return;
        }
        if (!cmd.startsWith('/')) {
          err(l.line, 'HACF_BAD_CLIENT', `client child command [${cmd}] is not a full pathname`, cmd);
          return;
        }
        const command = l.rest.slice(l.rest.indexOf(cmd)).trim();
        b.respawn.push({ line: l.line, user, command, path: cmd, failfast: d === 'failfast', implicit: false });
        if (opts.fs) {
          const st = opts.fs.stat(cmd);
          if (!st) warn(l.line, 'HACF_CLIENT_MISSING', `client child command [${cmd}] does not exist on this machine`, cmd);
          else if ((st.mode & 0o111) === 0) warn(l.line, 'HACF_CLIENT_MISSING', `client child command [${cmd}] is not executable`, cmd);
        }
        return;
      }
      case 'apiauth': {
        const [client, ...specs] = words;
        if (client === undefined) {
          err(l.line, 'HACF_BAD_APIAUTH', 'apiauth needs a client name and uid=LIST and/or gid=LIST', d);
          return;
        }
        let uids: string[] | undefined;
        let gids: string[] | undefined;
        for (const s of specs) {
          const list = (t: string) => t.slice(4).split(',').filter((x) => x !== '');
          if (s.startsWith('uid=') || s.startsWith('gid=')) {
            const isUid = s.startsWith('uid=');
            if ((isUid ? uids : gids) !== undefined) {
              err(l.line, 'HACF_BAD_APIAUTH', `duplicate ${isUid ? 'uid' : 'gid'} list in apiauth ${client}`, s);
              return;
            }
            if (list(s).length === 0) {
              err(l.line, 'HACF_BAD_APIAUTH', `empty ${isUid ? 'uid' : 'gid'} list in apiauth ${client}`, s);
              return;
            }
            if (isUid) uids = list(s);
            else gids = list(s);
          } else {
            err(l.line, 'HACF_BAD_APIAUTH', `missing uid= or gid= in apiauth ${client}: [${s}]`, s);
            return;
          }
        }
        if (!uids && !gids) {
          err(l.line, 'HACF_BAD_APIAUTH', `apiauth ${client} needs uid=LIST and/or gid=LIST`, client);
          return;
        }
        const prev = b.apiauth.find((a) => a.client === client);
        if (prev) {
          const where = prev.implicit ? `added by pacemaker on line ${prev.line}` : `on line ${prev.line}`;
          err(l.line, 'HACF_DUPLICATE', `duplicate apiauth directive for API client ${client} (already ${where})`, client);
          return;
        }
        b.apiauth.push({ line: l.line, client, uids: uids ?? [], gids: gids ?? [], implicit: false });
        return;
      }
      case 'stonith': {
        const [type, ...restWords] = words;
        if (type === undefined) {
          err(l.line, 'HACF_BAD_STONITH', 'no STONITH type given', d);
          return;
        }
        if (restWords.length === 0) {
          err(l.line, 'HACF_BAD_STONITH', `stonith ${type} needs a configuration file`, type);
          return;
        }
        b.stonith.push({ line: l.line, type, configFile: l.rest.slice(l.rest.indexOf(type) + type.length).trim() });
        return;
      }
      case 'stonith_host': {
        const [host, type] = words;
        if (host === undefined) {
          err(l.line, 'HACF_BAD_STONITH', 'no STONITH hostname given', d);
          return;
        }
        if (type === undefined) {
          err(l.line, 'HACF_BAD_STONITH', `stonith_host ${host}: no STONITH type given`, host);
          return;
        }
        const afterHost = l.rest.slice(l.rest.indexOf(host) + host.length);
        const params = afterHost.slice(afterHost.indexOf(type) + type.length).trim();
        b.stonithHost.push({ line: l.line, host: host === '*' ? '*' : host.toLowerCase(), type, params });
        return;
      }
      default: {
        // Whole-line media.
        const r = parseWholeLineMedium(d, words);
        if (r.error) {
          err(l.line, 'HACF_BAD_MEDIA', r.error.message, r.error.token);
          return;
        }
        if (r.ignored.length > 0) warn(l.line, 'HACF_IGNORED', `extra words after ${d} are ignored: ${r.ignored.join(' ')}`, r.ignored[0]);
        const m = r.medium!;
        if (m.type === 'ping_group') {
          if (mediaCount() >= MAX_MEDIA) {
            err(l.line, 'HACF_TOO_MANY_MEDIA', `too many media (at most ${MAX_MEDIA})`, m.name);
            return;
          }
          if (addNode(l, m.name, 'ping')) b.pingNodes.push({ type: 'ping_group', name: m.name, addresses: m.addresses, line: l.line });
        } else if (m.type === 'mcast' || m.type === 'mcast6') {
          addMedium(l, { ...m, line: l.line }, m.device);
        } else {
          addMedium(l, { ...m, port: portFor(m.type, l.line), line: l.line }, m.device);
        }
      }
    }
  };

  for (const l of cleanLines(text)) {
    let d = l.directive;
    const alias = Object.hasOwn(ALIASES, d) ? ALIASES[d] : undefined; // never Object.prototype's names
    if (alias !== undefined) {
      if (d === 'udp') warn(l.line, 'HACF_DEPRECATED', `directive 'udp' is obsolete, taken as 'bcast'`, d);
      d = alias;
    }
    if (!ALL_DIRECTIVES.includes(d)) {
      const hint = didYouMean(d, [...ALL_DIRECTIVES, ...Object.keys(ALIASES)]);
      err(l.line, 'HACF_UNKNOWN_DIRECTIVE', `unknown directive [${d}]${hint ? `; did you mean ${hint}?` : ''}`, d);
      continue;
    }
    const line: Line = { ...l, directive: d };
    if (ONCE_ONLY.has(d) && d !== 'pacemaker' && b.seen.has(d)) {
      err(l.line, 'HACF_DUPLICATE', `${d} multiply specified (first on line ${b.seen.get(d)})`, d);
      continue;
    }
    if (d !== 'pacemaker') b.seen.set(d, b.seen.get(d) ?? l.line);
    if (WHOLE_LINE_DIRECTIVES.includes(d) || WHOLE_LINE_MEDIA.has(d)) {
      applyWholeLine(line);
      continue;
    }
    const values = l.rest.split(DELIMS).filter((v) => v !== '');
    if (values.length === 0) {
      warn(l.line, 'HACF_NO_VALUE', `${d} without a value is ignored`, d);
      continue;
    }
    const single = d !== 'node' && d !== 'env' && !PER_VALUE_MEDIA.has(d);
    if (single && values.length > 1) {
      if (ONCE_ONLY.has(d)) {
        err(l.line, 'HACF_DUPLICATE', `${d} multiply specified on one line`, values[1]);
        continue;
      }
      warn(l.line, 'HACF_EXTRA_VALUE', `${d} takes one value; the original applies each in turn, so ${values[values.length - 1]} wins`, values[1]);
    }
    for (const v of values) applyValue(line, d, v);
  }

  // init_config: defaults and cross-checks, in the original's order.
  const lineOf = (d: string) => b.params.get(d)?.line ?? 0;
  if (!b.autoFailbackWritten) b.autoFailback = 'legacy';
  if (b.media.length === 0) err(0, 'HACF_NO_MEDIA', 'no heartbeat media defined (bcast, ucast, mcast or serial)');
  const warntimeMs = b.warntimeMs ?? Math.trunc(b.deadtimeMs / 2);
  if (b.nodes.length + b.pingNodes.length < 1 && b.autojoin !== 'any') err(0, 'HACF_NO_NODES', 'no nodes defined');
  if (opts.localNode !== undefined && b.autojoin !== 'any' && !b.nodes.includes(opts.localNode.toLowerCase())) {
    warn(0, 'HACF_LOCAL_NODE_MISSING', `current node [${opts.localNode.toLowerCase()}] is not declared by a node line; heartbeat will not start on this machine`, opts.localNode);
  }
  const deadLine = lineOf('deadtime') || lineOf('keepalive');
  if (b.deadtimeMs <= 2 * b.keepaliveMs) {
    err(deadLine, 'HACF_DEADTIME_TOO_SMALL', `deadtime [${b.deadtimeMs} ms] is too small compared to keepalive [${b.keepaliveMs} ms]: it must be more than twice keepalive`, b.params.get('deadtime')?.value ?? b.params.get('keepalive')?.value);
  }
  let initdeadMs = b.initdeadMs;
  if (initdeadMs === undefined) initdeadMs = b.deadtimeMs > 10000 ? b.deadtimeMs : b.deadtimeMs < 6000 ? 12000 : 2 * b.deadtimeMs;
  if (initdeadMs < b.deadtimeMs) {
    err(lineOf('initdead') || deadLine, 'HACF_INITDEAD_TOO_SMALL', `initdead [${initdeadMs} ms] is smaller than deadtime [${b.deadtimeMs} ms]`, b.params.get('initdead')?.value);
  } else if (initdeadMs < 10000) {
    warn(lineOf('initdead'), 'HACF_INITDEAD_SMALL', `initdead [${initdeadMs} ms] may be too small: it should be >= deadtime and >= 10 seconds to allow for slow network start-up`, b.params.get('initdead')?.value);
  }
  let deadpingMs = b.deadpingMs;
  if (deadpingMs === undefined) deadpingMs = b.deadtimeMs;
  else if (deadpingMs <= 2 * b.keepaliveMs) {
    err(lineOf('deadping'), 'HACF_DEADPING_TOO_SMALL', `deadping [${deadpingMs} ms] is too small compared to keepalive [${b.keepaliveMs} ms]: it must be more than twice keepalive`, b.params.get('deadping')?.value);
  }
  if (b.warntimeMs !== undefined && warntimeMs >= b.deadtimeMs) {
    warn(lineOf('warntime'), 'HACF_WARNTIME_USELESS', `warntime [${warntimeMs} ms] is not below deadtime [${b.deadtimeMs} ms], so late heartbeats are never warned about`, b.params.get('warntime')?.value);
  }
  const manageResources = b.pacemaker === 'off';
  if (b.autoFailback === 'legacy' && manageResources) {
    warn(lineOf('auto_failback'), 'HACF_DEPRECATED', `deprecated 'legacy' auto_failback${b.autoFailbackWritten ? '' : ' (the default)'}; please convert to 'auto_failback on'`, b.params.get('auto_failback')?.value);
  }
  // check_logd_usage: with no log destination at all, logs go to logd.
  const facilityOn = b.logfacility !== undefined && b.logfacility !== 'none' && b.logfacility !== 'kern';
  let useLogd = b.useLogd ?? false;
  if (b.logfile === undefined && b.debugfile === undefined && !facilityOn) {
    if (b.useLogd === false) err(b.useLogdLine, 'HACF_NO_LOGGING', 'no log entry (logfile, debugfile, logfacility) and use_logd is off', 'use_logd');
    else useLogd = true;
  }
  if (manageResources && b.autojoin !== 'none') {
    err(b.autojoinLine, 'HACF_AUTOJOIN_R1', `R1 style resource management (haresources) conflicts with autojoin ${b.autojoin}: unset autojoin or enable pacemaker`, b.autojoin);
  }
  for (const def of DEFAULT_APIAUTH) {
    if (!b.apiauth.some((a) => a.client === def.client)) b.apiauth.push({ line: 0, ...def, implicit: true });
  }

  if (errors.length > 0) return { errors, warnings };
  const config: HaCf = {
    nodes: b.nodes,
    media: b.media,
    pingNodes: b.pingNodes,
    timings: { keepaliveMs: b.keepaliveMs, deadtimeMs: b.deadtimeMs, warntimeMs, initdeadMs, deadpingMs },
    udpport: b.udpport ?? DEFAULT_PORT,
    baud: b.baud,
    autoFailback: b.autoFailback,
    pacemaker: b.pacemaker,
    manageResources,
    autojoin: b.autojoin,
    respawn: b.respawn,
    apiauth: b.apiauth,
    stonith: b.stonith,
    stonithHost: b.stonithHost,
    env: b.env,
    logging: {
      logfile: b.logfile ?? (facilityOn ? '/dev/null' : undefined),
      debugfile: b.debugfile ?? (facilityOn ? '/dev/null' : undefined),
      logfacility: b.logfacility,
      useLogd,
      syslogmsgfmt: b.syslogmsgfmt,
      connLogdTimeMs: b.connLogdTimeMs,
      logBadpack: b.logBadpack,
    },
    debug: b.debug,
    realtime: b.realtime,
    rtprio: b.rtprio,
    watchdog: b.watchdog,
    hopfudge: b.hopfudge,
    hbgenmethod: b.hbgenmethod,
    msgfmt: b.msgfmt,
    compression: b.compression,
    compressionThresholdKb: b.compressionThresholdKb,
    traditionalCompression: b.traditionalCompression,
    coredumps: b.coredumps,
    coreroot: b.coreroot,
    maxRexmitDelayMs: b.maxRexmitDelayMs,
    memreserveKb: b.memreserveKb,
    cluster: b.cluster,
    quorumServer: b.quorumServer,
    uuidfrom: b.uuidfrom,
    useApphbd: b.useApphbd,
    pacemakerSettings: b.pacemakerSettings,
  };
  return { config, errors, warnings };
}

/** Parses ha.cf; throws ConfigError (exit status 6, as heartbeat) listing every problem. */
export function parseHaCf(input: Uint8Array | string, file: string, opts: HaCfOptions = {}): ParseResult<HaCf> {
  const r = collectHaCf(input, file, opts);
  if (!r.config) throw new ConfigError(r.errors, EXIT_NOT_CONFIGURED);
  return { config: r.config, warnings: r.warnings };
}

