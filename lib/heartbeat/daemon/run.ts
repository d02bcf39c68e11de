/**
 * Starting the daemon: validate the configuration, go to the background (or
 * not), take the pid file, raise the generation, open the media, run the
 * runtime, open the API socket at comm-up, and stop gracefully on SIGTERM.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nodeConfigFs } from '../../shared/fs.js';
import { formatDiagnostic } from '../../shared/errors.js';
import {
  PidFileBusyError,
  createPidFile,
  daemonChildChannel,
  pidFileState,
  removePidFile,
  spawnDaemon,
  wireDaemonSignals,
  type DaemonChildChannel,
} from '../../shared/daemon/index.js';
import { Logger, haDestinations, haLoggingNotices } from '../../shared/log/index.js';
import { ApiServer } from '../api/server.js';
import type { ClusterView } from '../api/view.js';
import type { HaCf } from '../../config/hacf/model.js';
import { CheckFailed, checkHaDir, type HaDirConfig } from '../config-check.js';
import { openMedia, openMedium, type MediaSettings, type Medium } from '../media/index.js';
import { HaMessage } from '../wire/index.js';
import { membershipClusterView } from './cluster-view.js';
import { loadOrCreateUuid, raiseGeneration } from './generation.js';
import type { DaemonPaths } from './paths.js';
import { Companions } from './companions.js';
import { DaemonResources, binDir } from './resources.js';
import { HeartbeatRuntime } from './runtime.js';
import { Reloader } from './reload.js';
import { restartedClass } from './restart.js';
import { resetRscTmp, rscTmpDir } from './rsctmp.js';
import type { RscSet } from '../../resources/types.js';
import { daemonSettings, type DaemonSettings } from './settings.js';

export interface DaemonOptions {
  readonly paths: DaemonPaths;
  readonly localNode: string;
  /** `-f` / `--foreground`: no fork, log to stderr too. */
  readonly foreground: boolean;
  /** `-d` count, added to ha.cf `debug`. */
  readonly debugIncrement: number;
  /** `-v`: dump the parsed configuration at start. */
  readonly verbose: boolean;
  /** Where start-up diagnostics go before the logger exists (stderr by default). */
  readonly stderr?: (text: string) => void;
  /** `-M`: no resource management (haresources is not acted on). */
  readonly manageResources?: boolean;
  /** `-R [-C CLASS]`: restarted keeping resources; see restartedClass. */
  readonly restart?: { readonly current?: RscSet };
}

const EXIT_FAILED = 1;

export function loadConfig(o: Pick<DaemonOptions, 'paths' | 'localNode' | 'stderr'>): { config: HaDirConfig } | { exitCode: number; text: string } {
  try {
    const { config, warnings } = checkHaDir(o.paths.haDir, nodeConfigFs, { localNode: o.localNode });
    const text = warnings.map((w) => `${w.file}:${w.line}: warning: ${w.message}`).join('\n');
    if (text) (o.stderr ?? ((t) => process.stderr.write(t)))(text + '\n');
    return { config };
  } catch (e) {
    if (e instanceof CheckFailed) {
      const lines = [...e.warnings.map((w) => `${w.file}:${w.line}: warning: ${w.message}`), ...e.diagnostics.map(formatDiagnostic)];
      return { exitCode: e.exitCode, text: lines.join('\n') };
    }
    throw e;
  }
}

/** `heartbeat` without control options. Resolves with the exit status once the daemon (or the starting parent) is done. */
export async function startHeartbeat(o: DaemonOptions): Promise<number> {
  const err = o.stderr ?? ((t: string) => process.stderr.write(t));
  const channel = daemonChildChannel();
  const loaded = loadConfig(o);
  if ('exitCode' in loaded) {
    err(loaded.text + '\n');
    channel?.failed(loaded.exitCode, 'configuration errors');
    return loaded.exitCode;
  }
  const running = pidFileState(o.paths.pidFile);
  if (running.state === 'running') {
    // The original's words; exit 0: "it runs" is what the admin wanted.
    err(`info: heartbeat: already running [pid ${running.pid}].\n`);
    channel?.failed(0, `already running [pid ${running.pid}].`);
    return 0;
  }
  if (!o.foreground && channel === undefined) {
    const r = await spawnDaemon();
    if (r.ok) return 0;
    if (r.message) err(`heartbeat: ${r.message}\n`);
    return r.exitCode;
  }
  let config = loaded.config;
  let ch = channel;
  let opts = o;
  for (;;) {
    const r = await serve(opts, config, ch);
    if (r !== 'restart') return r;
    // Everything was given up before this restart: nothing left to adopt (-R).
    if (opts.restart !== undefined) opts = { ...opts, restart: undefined };
    // Our own heartbeat was lost: everything was given up; start afresh (new generation), as the original's restart exec.
    ch = undefined;
    const again = loadConfig(o);
    if ('exitCode' in again) {
      err(again.text + '\n');
      return again.exitCode;
    }
    config = again.config;
  }
}

/** Waits `ms`; true when SIGTERM came meanwhile. HUP, USR1 and USR2 are ignored while waiting. */
async function restartPause(ms: number): Promise<boolean> {
  const ignore = (): void => {};
  const others = ['SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;
  for (const sig of others) process.on(sig, ignore);
  let onTerm = (): void => {};
  const terminated = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    onTerm = () => {
      clearTimeout(timer);
      resolve(true);
    };
    process.once('SIGTERM', onTerm);
  });
  process.off('SIGTERM', onTerm);
  for (const sig of others) process.off(sig, ignore);
  return terminated;
}

/** How long a restart waits with the media closed: "make sure they notice we're dead" (deadtime + 1 s, whole seconds, as the original). */
export function restartPauseMs(deadtimeMs: number): number {
  return (Math.ceil(deadtimeMs / 1000) + 1) * 1000;
}

async function serve(o: DaemonOptions, config: HaDirConfig, channel: DaemonChildChannel | undefined): Promise<number | 'restart'> {
  const { hacf } = config;
  const log = new Logger({
    destinations: haDestinations({ ...hacf.logging }, { entity: 'heartbeat', hostname: o.localNode, stderr: o.foreground }),
    debugLevel: hacf.debug + o.debugIncrement,
  });
  for (const e of config.authkeys.entries) if (e.key !== undefined) log.redactor.addSecret(e.key.reveal());
  const fail = async (code: number, text: string): Promise<number> => {
    log.error(text);
    channel?.failed(code, text);
    await log.close();
    return code;
  };

  try {
    fs.mkdirSync(path.dirname(o.paths.pidFile), { recursive: true });
    createPidFile(o.paths.pidFile);
  } catch (e) {
    if (e instanceof PidFileBusyError) {
      log.info(`heartbeat: already running [pid ${e.pid}].`);
      channel?.failed(0, e.message);
      await log.close();
      return 0;
    }
    return fail(EXIT_FAILED, (e as Error).message);
  }
  const releasePid = (): void => void removePidFile(o.paths.pidFile);
  process.on('exit', releasePid);

  for (const n of haLoggingNotices(hacf.logging)) log.log(n.priority, n.msg);
  log.info(`Pacemaker support: ${hacf.pacemaker}`);
  log.info('**************************');
  log.info('Configuration validated. Starting heartbeat 3.0.6');
  if (o.verbose) log.info(`configuration: ${JSON.stringify(hacf)}`);

  let runtime: HeartbeatRuntime;
  let media: Medium[];
  let startSettings: DaemonSettings;
  try {
    const settings = daemonSettings(hacf, config.authkeys, o.localNode, path.join(o.paths.haDir, 'ha.cf'));
    for (const text of settings.ignored) log.warn(text);
    log.info('heartbeat: version 3.0.6');
    const generation = raiseGeneration(o.paths.stateDir, hacf.hbgenmethod, undefined, (start) => log.warn(`No Previous generation - starting at ${start + 1}`));
    log.info(`Heartbeat generation: ${generation}`);
    const uuid = loadOrCreateUuid(o.paths.stateDir);
    startSettings = settings;
    media = await openMedia(settings.media, mediaSettings(settings));
    for (const m of media) log.info(`${m.kind}: started on ${m.name}`);
    runtime = new HeartbeatRuntime({ settings, media, generation, uuid, log });
  } catch (e) {
    releasePid();
    return fail(EXIT_FAILED, (e as Error).message);
  }

  let api: ApiServer | undefined;
  let finished = false;
  // checkHaDir read it a moment ago; a file gone since then reports defaults.
  let haCfText = '';
  try {
    haCfText = fs.readFileSync(path.join(o.paths.haDir, 'ha.cf'), 'latin1');
  } catch {
    log.warn(`cannot re-read ${path.join(o.paths.haDir, 'ha.cf')} for getparm; reporting defaults`);
  }
  // Pseudo resources read as stopped after every start, as in the original.
  const rscTmp = rscTmpDir(o.paths.runDir);
  const rscTmpProblem = resetRscTmp(rscTmp);
  if (rscTmpProblem !== undefined) log.info(rscTmpProblem);
  const restarted = restartedClass(o, hacf, log);
  // haresources groups (ha.cf `crm off`): created before the runtime starts so it sees comm-up.
  const resources =
    hacf.manageResources && o.manageResources !== false && config.resourceGroups !== undefined
      ? DaemonResources.create({
          rscTmp,
          ...(restarted !== undefined ? { restarted } : {}),
          hacf,
          groups: config.resourceGroups,
          haDir: o.paths.haDir,
          runDir: o.paths.runDir,
          localNode: o.localNode,
          runtime,
          log,
          debugLevel: hacf.debug + o.debugIncrement,
        })
      : undefined;
  // Ping probes, respawn clients, and the cluster events ipfail hears (companions.ts).
  const bin = binDir();
  const companions = new Companions({ hacf, paths: o.paths, runtime, log, debugLevel: hacf.debug + o.debugIncrement, api: () => api, ...(bin !== undefined ? { binDir: bin } : {}) });
  const makeView = (h: HaCf, text: string, debugLevel: number): ClusterView =>
    membershipClusterView(o.localNode, h, runtime.machine, text, debugLevel, resources !== undefined ? () => resources.rscstatus() : undefined);
  let currentView = makeView(hacf, haCfText, hacf.debug + o.debugIncrement);
  // The API keeps this object; a reload swaps what is behind it (hbparameter answers the new ha.cf).
  const view: ClusterView = {
    localNode: () => currentView.localNode(),
    signonInfo: () => currentView.signonInfo(),
    nodes: () => currentView.nodes(),
    parameter: (name) => currentView.parameter(name),
    resourceState: () => currentView.resourceState(),
    // Named API clients signed on now (ipfail) are online for clientstatus, here and for peers.
    localClients: () => [...currentView.localClients(), ...(api?.namedClients() ?? [])],
  };
  runtime.on('commUp', () => {
    void ApiServer.start({
      view,
      runDir: o.paths.runDir,
      // hb_standby / hb_takeover through the API are commands for our resource manager.
      onClusterMessage: (m) => {
        if (resources?.fromApi(m) !== true) runtime.sendMessage(m);
      },
      log: (level, text) => (level === 'debug' ? log.debug(1, text) : log[level](text)),
    }).then(
      (server) => {
        // Comm-up just before a stop: the socket opened after we closed down.
        if (finished) void server.close();
        else api = server;
      },
      (e: Error) => log.error(`Cannot open the API socket: ${e.message}`),
    );
  });
  runtime.on('deliver', (node, type, m) => {
    if (type === 'query-cstatus') {
      runtime.sendMessage(clientStatusReply(node, m, view.localClients()));
      return;
    }
    const to = m.get('to_id');
    if (api !== undefined && to !== undefined) api.deliver(to, m);
  });
  const done = new Promise<void>((resolve) => runtime.once('exit', resolve));
  let stopping = false;
  let restartAfterStop = false;
  const beginStop = (): void => {
    if (stopping) return;
    stopping = true;
    log.info('Heartbeat shutdown in progress. (' + process.pid + ')');
    // The groups are released first; the membership's shutdone follows (the peer then takes over without STONITH).
    // Then the client children stop, last one first, while the membership beats its last 2 s.
    const then = (): void => {
      runtime.shutdown();
      void companions.stopClients();
    };
    if (resources !== undefined) resources.shutdown(then);
    else then();
  };
  // "No local heartbeat. Forcing restart." (logged by the membership): as the
  // original, give everything up, stop, and start again with a new generation.
  runtime.on('localHeartbeatLost', () => {
    if (stopping) return;
    restartAfterStop = true;
    beginStop();
  });
  // A lost serial device is reopened by the medium; each UDP medium keeps its socket.
  const reloader = new Reloader(
    {
      log,
      load: () => {
        const r = loadConfig({ ...o, stderr: () => {} });
        return 'exitCode' in r ? { text: r.text } : r;
      },
      settings: (c) => daemonSettings(c.hacf, c.authkeys, o.localNode, path.join(o.paths.haDir, 'ha.cf')),
      openMedium: (spec, s) => openMedium(spec, mediaSettings(s)),
      media: () => runtime.media,
      reconfigure: (s, m) => runtime.reconfigure(s, m),
      addSecrets: (c) => {
        for (const e of c.authkeys.entries) if (e.key !== undefined) log.redactor.addSecret(e.key.reveal());
      },
      applyHaCf: async (c, plan) => {
        const level = c.hacf.debug + o.debugIncrement;
        if (plan.debugChanged) log.setDebugLevel(level);
        if (plan.loggingChanged) {
          await log.replaceDestinations(haDestinations({ ...c.hacf.logging }, { entity: 'heartbeat', hostname: o.localNode, stderr: o.foreground }));
          for (const n of haLoggingNotices(c.hacf.logging)) log.log(n.priority, n.msg);
        }
        let text = '';
        try {
          text = fs.readFileSync(path.join(o.paths.haDir, 'ha.cf'), 'latin1');
        } catch {
          /* read a moment ago; defaults then */
        }
        currentView = makeView(c.hacf, text, log.debugLevel);
      },
    },
    config,
    startSettings,
    o.paths.haDir,
  );
  const unwire = wireDaemonSignals({
    onTerminate: beginStop,
    onReload: () => {
      if (stopping) return; // as the original: a stopping daemon ignores HUP
      void reloader.reload().catch((e: Error) => log.error(`reload failed: ${e.message}`));
    },
    debug: log,
    debugEnvVar: 'HA_debug',
    onDebugLevel: (level) => log.info(`debug now set to ${level}`),
    ignore: ['SIGINT'],
  });

  runtime.start();
  companions.start();
  channel?.ready();
  log.setEnabled('stderr', o.foreground);

  await done;
  finished = true;
  unwire();
  await companions.close();
  const held = runtime.badPackets.total;
  if (held > 0) log.info(`${held} bad packet(s) dropped since start`);
  const k = runtime.machine.counters();
  if (k.replayedGeneration + k.staleAfterDeath + k.oldDuplicate > 0) {
    // Replays (captured packets sent again) change nothing; this is where they show.
    log.info(`sequence rules dropped since start: ${k.replayedGeneration} of an old generation, ${k.staleAfterDeath} stale after death, ${k.oldDuplicate} old duplicate(s)`);
  }
  await api?.close();
  await Promise.all(runtime.media.map((m) => m.close().catch(() => {})));
  log.info(`${o.localNode} Heartbeat shutdown complete.`);
  if (restartAfterStop) {
    const pause = restartPauseMs(reloader.current.config.hacf.timings.deadtimeMs);
    log.info('Heartbeat restart triggered.');
    log.info('Restarting heartbeat.');
    log.info(`Performing heartbeat restart in ${pause} ms (same process; the peers see us dead first).`);
    await log.close();
    // Between the two runs no handler is wired: keep HUP/USR1/USR2 from killing us; TERM ends the pause and the daemon.
    // The pid file stays ours meanwhile (heartbeat -s / -k still find us); the next run takes it afresh.
    const terminated = await restartPause(pause);
    releasePid();
    process.off('exit', releasePid);
    return terminated ? 0 : 'restart';
  }
  releasePid();
  await log.close();
  return 0;
}

/**
 * A peer's API client asked whether client `cn` runs here (cl_status
 * clientstatus on that node): answered to that client (`to_id`). Only the
 * named clients of the view count as online; API connections here are
 * casual (cl_status) in v1 without ipfail.
 */
export function clientStatusReply(from: string, q: HaMessage, localClients: readonly string[]): HaMessage {
  // Field order as a 3.0.6 node sends it (captured): t, dest, result, cn, to_id, cs.
  const cn = q.get('cn') ?? '';
  const r = new HaMessage().add('t', 'respond-cstatus').add('dest', from).add('result', 'OK').add('cn', cn);
  const fromId = q.get('from_id');
  if (fromId !== undefined) r.add('to_id', fromId);
  return r.add('cs', localClients.includes(cn) ? 'online' : 'offline');
}

/** The media options of the running settings; a lost serial device is reopened. */
function mediaSettings(s: DaemonSettings): MediaSettings {
  return { udpPort: s.udpPort, baud: s.baud, key: s.activeKey, serialReopen: {} };
}
