/**
 * The parameter table `getparm` answers from, built the way Heartbeat 3.0.6
 * builds it (heartbeat/config.c): a single-valued ha.cf directive is recorded
 * with its value exactly as written (`keepalive 1` reports `1`, not `1000ms`),
 * the last occurrence winning; unset directives get the original's fixed
 * defaults (`keepalive` `1000ms`, `deadtime` `30000ms`, ...), and a few are
 * derived from the timing in milliseconds (`warntime` `15000ms`). Pure: the
 * daemon hands in the directives in file order and the resolved deadtime.
 */

/** Directives the original records for getparm, with their fixed default (null: none, or derived). */
export const RECORDED_DIRECTIVES: Readonly<Record<string, string | null>> = {
  cluster: 'linux-ha',
  hopfudge: '1',
  keepalive: '1000ms',
  deadtime: '30000ms',
  deadping: null,
  initdead: null,
  warntime: null,
  watchdog: null,
  baud: '19200',
  udpport: null,
  logfacility: null,
  logfile: null,
  debugfile: null,
  auto_failback: 'legacy',
  rtprio: null,
  hbgenmethod: 'file',
  realtime: 'true',
  debug: null,
  normalpoll: 'true',
  msgfmt: 'classic',
  use_logd: null,
  conn_logd_time: '60',
  log_badpack: 'true',
  syslogmsgfmt: 'true',
  coredumps: 'true',
  coreroot: null,
  crm_daemon_dir: null,
  crmd_spawns_pengine: null,
  pacemaker: 'false',
  autojoin: 'none',
  uuidfrom: 'file',
  compression: 'zlib',
  compression_threshold: '2',
  traditional_compression: 'no',
  max_rexmit_delay: '250',
  record_config_changes: 'on',
  record_pengine_inputs: 'on',
  enable_config_writes: 'on',
  memreserve: '6500',
  quorum_server: null,
};

export interface ApiParameterInputs {
  /** Single-valued directives in file order, values as written (`crm` is recorded as `pacemaker`). */
  readonly directives: Iterable<readonly [string, string]>;
  /** The deadtime in effect, in ms (the derived defaults come from it). */
  readonly deadtimeMs: number;
  /** `udpport` when not configured: the `ha-cluster` entry of /etc/services, else 694. */
  readonly defaultUdpPort?: number;
  /** The debug level in effect (`-d` flags) when `debug` is not configured. */
  readonly debugLevel?: number;
  /** The syslog facility number in effect, -1 (or absent) for none. */
  readonly logFacility?: number;
  /** The daemon's version, reported as `hbversion` (not a directive). */
  readonly version?: string;
}

/** Every parameter `getparm` can report, by name. */
export function apiParameters(inputs: ApiParameterInputs): Record<string, string> {
  const p: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of inputs.directives) {
    const key = name === 'crm' ? 'pacemaker' : name;
    if (Object.prototype.hasOwnProperty.call(RECORDED_DIRECTIVES, key)) p[key] = value;
  }
  const logFacility = inputs.logFacility ?? -1;
  // No logfile, no debugfile, no facility: the original turns on logd and records it.
  if (p.use_logd === undefined && p.logfile === undefined && p.debugfile === undefined && logFacility <= 0) p.use_logd = 'yes';
  for (const [name, def] of Object.entries(RECORDED_DIRECTIVES)) if (def !== null && p[name] === undefined) p[name] = def;
  p.debug ??= String(inputs.debugLevel ?? 0);
  const dt = Math.trunc(inputs.deadtimeMs);
  p.warntime ??= `${Math.trunc(dt / 2)}ms`;
  p.initdead ??= `${dt > 10000 ? dt : dt < 6000 ? 12000 : 2 * dt}ms`;
  p.deadping ??= `${dt}ms`;
  p.udpport ??= String(inputs.defaultUdpPort ?? 694);
  if (logFacility > 0) {
    p.logfile ??= '/dev/null';
    p.debugfile ??= '/dev/null';
  }
  p.hbversion = inputs.version ?? '3.0.6';
  return { ...p };
}

const WHITESPACE = /^[ \t\n\r\f]*/;
const DELIMS = /[, \t\n\r\f]+/;

/**
 * The single-valued directives of an ha.cf text in file order, values as the
 * original's reader cuts them: comments from `#`, the directive up to a blank,
 * then each value separated by blanks or commas applied on its own (so
 * `keepalive 1 2` records `2`). Only directives getparm reports are returned
 * (`crm` included; apiParameters records it as `pacemaker`).
 */
export function recordedDirectives(haCfText: string): [string, string][] {
  const out: [string, string][] = [];
  for (const raw of haCfText.split('\n')) {
    let line = raw.replace(WHITESPACE, '');
    const hash = line.indexOf('#');
    if (hash >= 0) line = line.slice(0, hash);
    const cr = line.search(/[\r\n]/);
    if (cr >= 0) line = line.slice(0, cr);
    if (line === '') continue;
    const m = /^[^ \t\n\r\f]*/.exec(line)!;
    const name = m[0];
    if (name !== 'crm' && !Object.prototype.hasOwnProperty.call(RECORDED_DIRECTIVES, name)) continue;
    for (const value of line.slice(name.length).split(DELIMS)) if (value !== '') out.push([name, value]);
  }
  return out;
}
