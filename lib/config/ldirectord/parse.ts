import { ConfigError, type ConfigWarning } from '../../shared/errors.js';
import { LDIR_CONFIG_ERROR_EXIT, LdirCode } from './codes.js';
import type { FallbackDraft } from './fallback.js';
import { applyGlobalLine, defaultGlobals, type GlobalsDraft } from './globals.js';
import { layoutLines } from './lines.js';
import type {
  AddressFamily, CheckService, Fallback, GlobalFallback, LdirectordConfig, LdirectordGlobals, RealServer, VirtualService,
} from './model.js';
import { intToIpv4, ipv4ToInt, resolveAddress, resolvePort, staticResolver, type LdirectordResolver } from './resolve.js';
import { portToService } from './services.js';
import { LdirDiagnostics, q } from './values.js';
import { applyMemberLine, newVirtualDraft, parseVirtualTarget, type VirtualDraft } from './virtual.js';

export interface LdirectordParseOptions {
  /** The name used in diagnostics (FILE:LINE:). */
  readonly file: string;
  /** Host and service lookups; defaults to a fixed table (localhost and common service names). */
  readonly resolver?: LdirectordResolver;
  /** For the maintenancedir warning; when absent the directory is not checked. */
  readonly isDirectory?: (path: string) => boolean;
  /** $HOSTNAME as ldirectord sees it, for the ftp/sip default logins. */
  readonly hostname?: string;
}

export interface LdirectordParseResult {
  readonly config: LdirectordConfig;
  readonly warnings: ConfigWarning[];
}

/** A range A->B may not expand to more reals than this (a typo like 10.0.0.1->10.9.0.1 would be millions). */
export const MAX_RANGE = 65536;

/**
 * Parses ldirectord.cf. Pure: lookups come through `opts`. Throws a ConfigError
 * (exit code 2, like ldirectord) listing every error, sorted by line.
 */
export function parseLdirectordConfig(input: Uint8Array | string, opts: LdirectordParseOptions): LdirectordParseResult {
  const d = new LdirDiagnostics(opts.file);
  const resolver = opts.resolver ?? staticResolver();
  const hostname = opts.hostname ?? 'localhost';
  const globals = defaultGlobals();
  const drafts: VirtualDraft[] = [];
  let current: VirtualDraft | undefined;

  for (const l of layoutLines(input)) {
    if (l.kind === 'member') {
      if (current) applyMemberLine(d, current, l.line, l.text, hostname);
      // else: the block's virtual= line was invalid; its members were already reported through it.
      continue;
    }
    if (l.kind === 'stray') {
      current = undefined;
      d.error(l.line, l.indent < 4 ? LdirCode.BAD_INDENT : LdirCode.OUTSIDE_VIRTUAL,
        l.indent < 4
          ? `line indented by ${l.indent} column${l.indent === 1 ? '' : 's'}: global directives start in column 0, virtual-block lines need a TAB or at least 4 spaces: ${q(l.text)}`
          : `indented line outside a virtual block (global directives start in column 0): ${q(l.text)}`,
        l.text.split(/\s|=/)[0]);
      continue;
    }
    const v = /^virtual(6?)\s*=\s*(.*)$/.exec(l.text);
    if (v) {
      const family: AddressFamily = v[1] === '6' ? 'ipv6' : 'ipv4';
      const target = parseVirtualTarget(d, l.line, family, v[2]!);
      current = target ? newVirtualDraft(l.line, family, target) : undefined;
      if (current) drafts.push(current);
      continue;
    }
    current = undefined;
    applyGlobalLine(d, globals, l.line, l.text);
  }

  const resolvedGlobals = finishGlobals(d, globals, resolver, opts.isDirectory);
  const virtuals: VirtualService[] = [];
  const seen = new Map<string, number>();
  for (const draft of drafts) {
    const vs = finishVirtual(d, draft, globals, resolvedGlobals, resolver);
    if (!vs) continue;
    const first = seen.get(vs.id);
    if (first !== undefined) {
      d.error(draft.line, LdirCode.DUPLICATE_VIRTUAL, `duplicate virtual server ${vs.id} (first defined at line ${first})`, vs.id);
      continue;
    }
    seen.set(vs.id, draft.line);
    virtuals.push(vs);
  }

  if (d.errors.length > 0) {
    const sorted = [...d.errors].sort((a, b) => a.line - b.line);
    throw new ConfigError(sorted, LDIR_CONFIG_ERROR_EXIT);
  }
  const warnings = [...d.warnings].sort((a, b) => a.line - b.line);
  return { config: { file: opts.file, globals: resolvedGlobals, virtuals }, warnings };
}

const ms = (seconds: number): number => seconds * 1000;

function finishGlobals(d: LdirDiagnostics, g: GlobalsDraft, resolver: LdirectordResolver, isDirectory?: (p: string) => boolean): LdirectordGlobals {
  if (g.maintenanceDir && isDirectory && !isDirectory(g.maintenanceDir.path)) {
    d.warn(g.maintenanceDir.line, LdirCode.MAINTENANCEDIR_MISSING, `maintenance directory does not exist: ${q(g.maintenanceDir.path)}`, g.maintenanceDir.path);
  }
  const fallback = g.fallback && resolveGlobalFallback(d, g.fallback, 'ipv4', resolver);
  const fallback6 = g.fallback6 && resolveGlobalFallback(d, g.fallback6, 'ipv6', resolver);
  return {
    ...(g.checkTimeout !== undefined ? { checkTimeoutMs: ms(g.checkTimeout) } : {}),
    ...(g.negotiateTimeout !== undefined ? { negotiateTimeoutMs: ms(g.negotiateTimeout) } : {}),
    checkIntervalMs: ms(g.checkInterval),
    checkCount: g.checkCount,
    failureCount: g.failureCount,
    autoreload: g.autoreload,
    ...(g.callback !== undefined ? { callback: g.callback } : {}),
    ...(fallback ? { fallback } : {}),
    ...(fallback6 ? { fallback6 } : {}),
    ...(g.fallbackCommand !== undefined ? { fallbackCommand: g.fallbackCommand } : {}),
    logfile: g.logfile,
    emailAlert: g.emailAlert,
    emailAlertFreqMs: ms(g.emailAlertFreq),
    emailAlertStatus: g.emailAlertStatus,
    ...(g.emailAlertFrom !== undefined ? { emailAlertFrom: g.emailAlertFrom } : {}),
    ...(g.smtp !== undefined ? { smtp: g.smtp } : {}),
    execute: g.execute,
    supervised: g.supervised,
    fork: g.fork,
    quiescent: g.quiescent,
    readdQuiescent: g.readdQuiescent,
    cleanStop: g.cleanStop,
    ...(g.maintenanceDir ? { maintenanceDir: g.maintenanceDir.path } : {}),
    backend: g.backend,
  };
}

function resolveFallbackHost(d: LdirDiagnostics, f: FallbackDraft, family: AddressFamily, resolver: LdirectordResolver): string | undefined {
  if (f.host === '') {
    const loopback = family === 'ipv4' ? '127.0.0.1' : '::1';
    d.warn(f.line, LdirCode.FALLBACK_EMPTY_HOST, `fallback server without a host name: using ${loopback}, as ldirectord does`, '');
    return loopback;
  }
  const address = resolveAddress(f.host, family, resolver);
  if (address === undefined) {
    return d.error(f.line, LdirCode.UNRESOLVED_HOST, `invalid ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address or could not resolve for fallback server: ${q(f.host)}`, f.host);
  }
  return address;
}

/** A global fallback's port is resolved for both protocols; each virtual takes its own protocol's. */
function resolveGlobalFallback(d: LdirDiagnostics, f: FallbackDraft, family: AddressFamily, resolver: LdirectordResolver): GlobalFallback | undefined {
  const address = resolveFallbackHost(d, f, family, resolver);
  if (address === undefined) return undefined;
  if (f.port === undefined) return { address, forward: f.forward };
  const tcp = resolvePort(f.port, 'tcp', resolver);
  const udp = resolvePort(f.port, 'udp', resolver);
  if (tcp === undefined && udp === undefined) {
    return d.error(f.line, LdirCode.BAD_PORT, `invalid port for fallback server: ${q(f.port)}`, f.port);
  }
  // A name known for one protocol only (http is tcp-only in netbase) still serves that protocol.
  return { address, port: { tcp: tcp ?? udp!, udp: udp ?? tcp! }, forward: f.forward };
}

function finishVirtual(
  d: LdirDiagnostics, v: VirtualDraft, g: GlobalsDraft, globals: LdirectordGlobals, resolver: LdirectordResolver,
): VirtualService | undefined {
  const errorsBefore = d.errors.length;
  const proto = v.protocol === 'fwm' ? undefined : v.protocol;
  let address: string | undefined;
  let port = 0;
  if (v.target.kind === 'address') {
    address = resolveAddress(v.target.host, v.family, resolver);
    if (address === undefined) {
      d.error(v.line, LdirCode.UNRESOLVED_HOST, `invalid address for virtual service: cannot resolve ${q(v.target.host)} as ${v.family === 'ipv4' ? 'IPv4' : 'IPv6'}`, v.target.host);
    }
    const p = resolvePort(v.target.port, proto, resolver);
    if (p === undefined) d.error(v.line, LdirCode.BAD_PORT, `invalid port ${q(v.target.port)} for virtual service (${v.protocol})`, v.target.port);
    else port = p;
  }
  const service: CheckService = v.service ?? portToService(port);

  let fallback: Fallback | undefined;
  if (v.fallback) {
    const fa = resolveFallbackHost(d, v.fallback, v.family, resolver);
    const fpText = v.fallback.port ?? (v.target.kind === 'address' ? v.target.port : '0');
    const fp = resolvePort(fpText, proto, resolver);
    if (fp === undefined) d.error(v.fallback.line, LdirCode.BAD_PORT, `invalid port for fallback server: ${q(fpText)}`, fpText);
    if (fa !== undefined && fp !== undefined) fallback = { address: fa, port: fp, forward: v.fallback.forward, weight: 1 };
  } else {
    const gf = v.family === 'ipv4' ? globals.fallback : globals.fallback6;
    if (gf && proto) {
      fallback = { address: gf.address, port: gf.port ? gf.port[proto] : port, forward: gf.forward, weight: 1 };
    } else if (gf) {
      // ldirectord looks the global fallback up by protocol and has no fwm entry, so it never applies to a fwmark service.
      d.warn(v.line, LdirCode.FALLBACK_FWMARK, 'the global fallback does not apply to a firewall-mark virtual service; give it its own fallback=', String(v.target.kind === 'fwmark' ? v.target.mark : ''));
    }
  }

  const reals: RealServer[] = [];
  for (const r of v.reals) {
    for (const rs of expandReal(d, v, r, resolver)) reals.push(rs);
  }

  if (v.checkInterval && !g.fork) {
    d.warn(v.checkInterval.line, LdirCode.CHECKINTERVAL_IGNORED, `checkinterval in virtual service ${virtualId(v, address, port)} ignored when fork=no`, 'checkinterval');
  }
  if (v.ops && v.protocol !== 'udp') {
    d.warn(v.line, LdirCode.OPS_NOT_UDP, `ops=yes only applies to udp virtual services; ignored for ${v.protocol}`, 'ops');
  }
  if (d.errors.length > errorsBefore) return undefined;

  // Timeouts default to each other before the global values (spec §2.3).
  const checkTimeout = v.checkTimeout ?? v.negotiateTimeout ?? g.checkTimeout ?? g.negotiateTimeout ?? 5;
  const negotiateTimeout = v.negotiateTimeout ?? v.checkTimeout ?? g.negotiateTimeout ?? g.checkTimeout ?? 30;
  const opt = <K extends string, T>(k: K, val: T | undefined): { [P in K]?: T } => (val === undefined ? {} : ({ [k]: val } as { [P in K]?: T }));

  return {
    line: v.line,
    id: virtualId(v, address, port),
    family: v.family,
    protocol: v.protocol,
    ...opt('address', address),
    port,
    ...opt('fwmark', v.target.kind === 'fwmark' ? v.target.mark : undefined),
    reals,
    ...opt('fallback', fallback),
    service,
    checkType: v.checkType,
    ...opt('combinedConnects', v.combinedConnects),
    checkCommand: v.checkCommand,
    ...opt('checkPort', v.checkPort),
    checkTimeoutMs: ms(checkTimeout),
    negotiateTimeoutMs: ms(negotiateTimeout),
    checkIntervalMs: ms(g.fork && v.checkInterval ? v.checkInterval.value : g.checkInterval),
    failureCount: v.failureCount ?? g.failureCount,
    checkCount: v.checkCount ?? g.checkCount,
    request: v.request,
    receive: v.receive,
    httpMethod: v.httpMethod,
    ...opt('virtualHost', v.virtualHost),
    login: v.login,
    passwd: v.passwd,
    database: v.database,
    secret: v.secret,
    ...opt('load', v.load),
    scheduler: v.scheduler,
    ...opt('persistentSec', v.persistent),
    ...opt('netmask', v.netmask),
    ...opt('schedFlags', v.schedFlags),
    ops: v.ops,
    quiescent: v.quiescent ?? g.quiescent,
    cleanStop: v.cleanStop ?? g.cleanStop,
    emailAlert: v.emailAlert ?? g.emailAlert,
    emailAlertFreqMs: ms(v.emailAlertFreq ?? g.emailAlertFreq),
    emailAlertStatus: v.emailAlertStatus ?? g.emailAlertStatus,
    ...opt('smtp', v.smtp ?? g.smtp),
    ...opt('fallbackCommand', v.fallbackCommand ?? g.fallbackCommand),
    ...opt('monitorFile', v.monitorFile),
    ...opt('serviceName', v.serviceName),
    ...opt('comment', v.comment),
  };
}

/** `tcp:IP:PORT`, `udp:[IPv6]:PORT`, `fwm:MARK`, `fwm6:MARK` (get_virtual_id_str). */
function virtualId(v: VirtualDraft, address: string | undefined, port: number): string {
  if (v.target.kind === 'fwmark') return `fwm${v.family === 'ipv6' ? '6' : ''}:${v.target.mark}`;
  const host = address ?? v.target.host;
  return `${v.protocol}:${v.family === 'ipv6' ? `[${host}]` : host}:${port}`;
}

function stripBrackets(host: string): { host: string; bracketed: boolean } {
  const m = /^\[(.*)\]$/.exec(host);
  return m ? { host: m[1]!, bracketed: true } : { host, bracketed: false };
}

function expandReal(d: LdirDiagnostics, v: VirtualDraft, r: VirtualDraft['reals'][number], resolver: LdirectordResolver): RealServer[] {
  const resolveHost = (text: string, what: string): string | undefined => {
    const { host, bracketed } = stripBrackets(text);
    const a = bracketed && v.family === 'ipv4' ? undefined : resolveAddress(host, v.family, resolver);
    if (a === undefined) d.error(r.line, LdirCode.UNRESOLVED_HOST, `invalid address (${host}) for real server (could not resolve ${what})`, host);
    return a;
  };
  const first = resolveHost(r.host, 'host');
  let port = 0;
  if (r.port !== undefined) {
    // ldirectord resolves a real's port name for any protocol.
    const p = resolvePort(r.port, undefined, resolver);
    if (p === undefined) d.error(r.line, LdirCode.BAD_PORT, `invalid port (${r.port}) for real server (could not resolve port)`, r.port);
    else port = p;
  }
  let addresses: string[] = first === undefined ? [] : [first];
  if (r.rangeEnd !== undefined) {
    const last = resolveHost(r.rangeEnd, 'end host');
    if (first === undefined || last === undefined) return [];
    if (v.family === 'ipv6') {
      d.error(r.line, LdirCode.BAD_RANGE, 'address range for IPv6 is not supported', `${r.host}->${r.rangeEnd}`);
      return [];
    }
    const a = ipv4ToInt(first)!;
    const b = ipv4ToInt(last)!;
    if (a > b) {
      d.error(r.line, LdirCode.BAD_RANGE, `Invalid Range: ${first}-${last}: the first address must not be greater than the last`, `${r.host}->${r.rangeEnd}`);
      return [];
    }
    if (b - a + 1 > MAX_RANGE) {
      d.error(r.line, LdirCode.BAD_RANGE, `range ${first}-${last} has ${b - a + 1} addresses, more than ${MAX_RANGE}`, `${r.host}->${r.rangeEnd}`);
      return [];
    }
    addresses = [];
    for (let i = a; i <= b; i++) addresses.push(intToIpv4(i));
  }
  return addresses.map((address) => ({
    line: r.line,
    address,
    port,
    forward: r.forward,
    weight: r.weight,
    request: r.request ?? v.request,
    receive: r.receive ?? v.receive,
    lowerThreshold: r.lowerThreshold,
    upperThreshold: r.upperThreshold,
  }));
}
