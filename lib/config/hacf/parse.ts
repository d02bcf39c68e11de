/**
 * ha.cf parser: Heartbeat 3.0.6's parse_config + init_config, as a pure
 * function. It collects every problem (the original also keeps going after an
 * error) and reports each as FILE:LINE naming the offending token.
 */
import { ConfigError, type ConfigWarning, type Diagnostic, diagnosticsFor } from '../../shared/errors.js';
import type { ConfigFs } from '../../shared/fs.js';
import { didYouMean } from '../../shared/suggest.js';
import { decodeConfigBytes } from '../../shared/text.js';
import { EXIT_NOT_CONFIGURED, type Collected, type ParseResult } from './result.js';
import { Builder } from './builder.js';
import {
  ALIASES, ALL_DIRECTIVES, DEFAULT_BAUD, DEFAULT_PORT, IPFAIL_PATHS, ONCE_ONLY, PACEMAKER_APIAUTH, PACEMAKER_CHILDREN, WHOLE_LINE_DIRECTIVES,
} from './directives.js';
import { finishHaCf } from './finish.js';
import { cleanLines, type Line } from './lines.js';
import { PER_VALUE_MEDIA, WHOLE_LINE_MEDIA, parseWholeLineMedium } from './media.js';
import type { AutoFailback, HaCf, Medium, PacemakerMode } from './model.js';
import { parseApiAuth, parseClientChild, parseStonith, parseStonithHost } from './whole-line.js';
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

export function collectHaCf(input: Uint8Array | string, file: string, opts: HaCfOptions = {}): Collected<HaCf> {
  const { errors, warnings, err, warn } = diagnosticsFor(file);

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
        const r = parseClientChild(d, l.rest, words);
        if ('error' in r) return err(l.line, r.error.code, r.error.message, r.error.token);
        const { user, command, path } = r.value;
        b.respawn.push({ line: l.line, user, command, path, failfast: d === 'failfast', implicit: false });
        // Our own ipfail stands in for the original's (see IPFAIL_PATHS): no need for the file.
        if (opts.fs && !IPFAIL_PATHS.includes(path)) {
          const st = opts.fs.stat(path);
          if (!st) warn(l.line, 'HACF_CLIENT_MISSING', `client child command [${path}] does not exist on this machine`, path);
          else if ((st.mode & 0o111) === 0) warn(l.line, 'HACF_CLIENT_MISSING', `client child command [${path}] is not executable`, path);
        }
        return;
      }
      case 'apiauth': {
        const r = parseApiAuth(words);
        if ('error' in r) return err(l.line, r.error.code, r.error.message, r.error.token);
        const { client } = r.value;
        const prev = b.apiauth.find((a) => a.client === client);
        if (prev) {
          const where = prev.implicit ? `added by pacemaker on line ${prev.line}` : `on line ${prev.line}`;
          return err(l.line, 'HACF_DUPLICATE', `duplicate apiauth directive for API client ${client} (already ${where})`, client);
        }
        b.apiauth.push({ line: l.line, ...r.value, implicit: false });
        return;
      }
      case 'stonith': {
        const r = parseStonith(l.rest, words);
        if ('error' in r) return err(l.line, r.error.code, r.error.message, r.error.token);
        b.stonith.push({ line: l.line, ...r.value });
        return;
      }
      case 'stonith_host': {
        const r = parseStonithHost(l.rest, words);
        if ('error' in r) return err(l.line, r.error.code, r.error.message, r.error.token);
        b.stonithHost.push({ line: l.line, ...r.value });
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

  const config = finishHaCf(b, { err, warn, hasErrors: () => errors.length > 0 }, opts);
  return config ? { config, errors, warnings } : { errors, warnings };
}

/** Parses ha.cf; throws ConfigError (exit status 6, as heartbeat) listing every problem. */
export function parseHaCf(input: Uint8Array | string, file: string, opts: HaCfOptions = {}): ParseResult<HaCf> {
  const r = collectHaCf(input, file, opts);
  if (!r.config) throw new ConfigError(r.errors, EXIT_NOT_CONFIGURED);
  return { config: r.config, warnings: r.warnings };
}

