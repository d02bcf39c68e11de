/**
 * What init_config does after reading ha.cf: derive the defaults that depend on
 * other settings (warntime, initdead, deadping, logd) and check the settings
 * against each other, then freeze the model.
 */
import type { Builder } from './builder.js';
import { DEFAULT_APIAUTH, DEFAULT_PORT } from './directives.js';
import type { HaCf } from './model.js';

export interface Reporter {
  err(line: number, code: string, message: string, token?: string): void;
  warn(line: number, code: string, message: string, token?: string): void;
  hasErrors(): boolean;
}

export function finishHaCf(b: Builder, report: Reporter, opts: { readonly localNode?: string | undefined }): HaCf | undefined {
  // init_config: defaults and cross-checks, in the original's order.
  const lineOf = (d: string) => b.params.get(d)?.line ?? 0;
  if (!b.autoFailbackWritten) b.autoFailback = 'legacy';
  if (b.media.length === 0) report.err(0, 'HACF_NO_MEDIA', 'no heartbeat media defined (bcast, ucast, mcast or serial)');
  const warntimeMs = b.warntimeMs ?? Math.trunc(b.deadtimeMs / 2);
  if (b.nodes.length + b.pingNodes.length < 1 && b.autojoin !== 'any') report.err(0, 'HACF_NO_NODES', 'no nodes defined');
  if (opts.localNode !== undefined && b.autojoin !== 'any' && !b.nodes.includes(opts.localNode.toLowerCase())) {
    report.warn(0, 'HACF_LOCAL_NODE_MISSING', `current node [${opts.localNode.toLowerCase()}] is not declared by a node line; heartbeat will not start on this machine`, opts.localNode);
  }
  const deadLine = lineOf('deadtime') || lineOf('keepalive');
  if (b.deadtimeMs <= 2 * b.keepaliveMs) {
    report.err(deadLine, 'HACF_DEADTIME_TOO_SMALL', `deadtime [${b.deadtimeMs} ms] is too small compared to keepalive [${b.keepaliveMs} ms]: it must be more than twice keepalive`, b.params.get('deadtime')?.value ?? b.params.get('keepalive')?.value);
  }
  let initdeadMs = b.initdeadMs;
  if (initdeadMs === undefined) initdeadMs = b.deadtimeMs > 10000 ? b.deadtimeMs : b.deadtimeMs < 6000 ? 12000 : 2 * b.deadtimeMs;
  if (initdeadMs < b.deadtimeMs) {
    report.err(lineOf('initdead') || deadLine, 'HACF_INITDEAD_TOO_SMALL', `initdead [${initdeadMs} ms] is smaller than deadtime [${b.deadtimeMs} ms]`, b.params.get('initdead')?.value);
  } else if (initdeadMs < 10000) {
    report.warn(lineOf('initdead'), 'HACF_INITDEAD_SMALL', `initdead [${initdeadMs} ms] may be too small: it should be >= deadtime and >= 10 seconds to allow for slow network start-up`, b.params.get('initdead')?.value);
  }
  let deadpingMs = b.deadpingMs;
  if (deadpingMs === undefined) deadpingMs = b.deadtimeMs;
  else if (deadpingMs <= 2 * b.keepaliveMs) {
    report.err(lineOf('deadping'), 'HACF_DEADPING_TOO_SMALL', `deadping [${deadpingMs} ms] is too small compared to keepalive [${b.keepaliveMs} ms]: it must be more than twice keepalive`, b.params.get('deadping')?.value);
  }
  if (b.warntimeMs !== undefined && warntimeMs >= b.deadtimeMs) {
    report.warn(lineOf('warntime'), 'HACF_WARNTIME_USELESS', `warntime [${warntimeMs} ms] is not below deadtime [${b.deadtimeMs} ms], so late heartbeats are never warned about`, b.params.get('warntime')?.value);
  }
  const manageResources = b.pacemaker === 'off';
  if (b.autoFailback === 'legacy' && manageResources) {
    report.warn(lineOf('auto_failback'), 'HACF_DEPRECATED', `deprecated 'legacy' auto_failback${b.autoFailbackWritten ? '' : ' (the default)'}; please convert to 'auto_failback on'`, b.params.get('auto_failback')?.value);
  }
  // check_logd_usage: with no log destination at all, logs go to logd.
  const facilityOn = b.logfacility !== undefined && b.logfacility !== 'none' && b.logfacility !== 'kern';
  let useLogd = b.useLogd ?? false;
  if (b.logfile === undefined && b.debugfile === undefined && !facilityOn) {
    if (b.useLogd === false) report.err(b.useLogdLine, 'HACF_NO_LOGGING', 'no log entry (logfile, debugfile, logfacility) and use_logd is off', 'use_logd');
    else useLogd = true;
  }
  if (manageResources && b.autojoin !== 'none') {
    report.err(b.autojoinLine, 'HACF_AUTOJOIN_R1', `R1 style resource management (haresources) conflicts with autojoin ${b.autojoin}: unset autojoin or enable pacemaker`, b.autojoin);
  }
  for (const def of DEFAULT_APIAUTH) {
    if (!b.apiauth.some((a) => a.client === def.client)) b.apiauth.push({ line: 0, ...def, implicit: true });
  }

  if (report.hasErrors()) return undefined;
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
  return config;
}
