/**
 * What runs beside the membership in the daemon: the ping-node probes
 * (lib/heartbeat/ping), the `respawn`/`failfast` client children
 * (lib/resources/respawn, started at comm-up and stopped last-first at
 * shutdown), and the cluster events named API clients such as ipfail hear:
 * node and link status changes and every cluster message not addressed to one
 * client.
 */
import type { HaCf } from '../../config/hacf/model.js';
import { haLoggingEnv } from '../../shared/log/index.js';
import { RespawnSupervisor } from '../../resources/respawn/index.js';
import { registerSocketPath, type ApiServer } from '../api/server.js';
import { REGISTER_SOCKET_ENV } from '../api/protocol.js';
import { Pinger } from '../ping/index.js';
import { HaMessage } from '../wire/index.js';
import { HA_DIR_ENV, RUN_DIR_ENV, STATE_DIR_ENV, type DaemonPaths } from './paths.js';
import type { HeartbeatRuntime } from './runtime.js';

export interface CompanionLog {
  emerg(msg: string): void;
  crit(msg: string): void;
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(level: number, msg: string): void;
}

export interface CompanionOptions {
  readonly hacf: HaCf;
  readonly paths: DaemonPaths;
  readonly runtime: HeartbeatRuntime;
  readonly log: CompanionLog;
  readonly debugLevel: number;
  /** The API server once it is open (comm-up). */
  readonly api: () => ApiServer | undefined;
  /** Our bin folder, for the ipfail stand-in. */
  readonly binDir?: string;
}

/** The status message the original hands API clients on a node's status change (`NS_st` for a live ping node). */
export function nodeStatusMessage(node: string, kind: 'normal' | 'ping', status: string): HaMessage {
  const m = new HaMessage()
    .add('t', kind === 'ping' && status === 'ping' ? 'NS_st' : 'status')
    .add('src', node)
    .add('st', status);
  // The synthetic death notice of a ping node says so (mach_down ignores it).
  if (kind === 'ping' && status === 'dead') m.add('info', 'ping');
  return m;
}

/** `t=ifstat`: a link of a node went up or dead. */
export function linkStatusMessage(node: string, link: string, status: string): HaMessage {
  return new HaMessage().add('t', 'ifstat').add('node', node).add('ifname', link).add('st', status);
}

/** The environment of client children: the logging variables scripts get, and where our files are. */
export function clientEnv(o: Pick<CompanionOptions, 'hacf' | 'paths' | 'debugLevel'>, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ...haLoggingEnv(o.hacf.logging, o.debugLevel) };
  env['HA_SYSLOGMSGFMT'] = o.hacf.logging.syslogmsgfmt ? 'true' : 'false';
  env[HA_DIR_ENV] = o.paths.haDir;
  env[RUN_DIR_ENV] = o.paths.runDir;
  env[STATE_DIR_ENV] = o.paths.stateDir;
  env[REGISTER_SOCKET_ENV] = registerSocketPath(o.paths.runDir);
  for (const e of o.hacf.env) env[`HA_${e.name}`] = e.value;
  return env;
}

export class Companions {
  readonly pinger: Pinger | undefined;
  readonly supervisor: RespawnSupervisor | undefined;
  private commUp = false;

  constructor(private readonly o: CompanionOptions) {
    const { hacf, runtime, log } = o;
    this.pinger =
      hacf.pingNodes.length > 0
        ? new Pinger({ nodes: hacf.pingNodes, intervalMs: hacf.timings.keepaliveMs, onReply: (n) => runtime.pingReply(n), log })
        : undefined;
    const children = hacf.respawn.filter((c) => !c.implicit);
    this.supervisor =
      children.length > 0
        ? new RespawnSupervisor({ children, log, env: clientEnv(o), ...(o.binDir !== undefined ? { binDir: o.binDir } : {}) })
        : undefined;
    runtime.on('commUp', () => {
      this.commUp = true;
      this.supervisor?.start();
    });
    runtime.on('nodeStatus', (node, status) => {
      const kind = runtime.machine.nodeView(node)?.kind ?? 'normal';
      o.api()?.broadcast(nodeStatusMessage(node, kind, status));
    });
    runtime.on('linkStatus', (node, link, status) => o.api()?.broadcast(linkStatusMessage(node, link, status)));
    runtime.on('deliver', (_node, type, m) => {
      if (type.startsWith('NS_') || m.get('to_id') !== undefined) return;
      o.api()?.broadcast(m);
    });
  }

  /** Starts the ping probes (with the membership). */
  start(): void {
    this.pinger?.start();
  }

  /** Graceful stop: the client children, last one first (after shutdone, as the original). */
  async stopClients(): Promise<void> {
    if (this.commUp) await this.supervisor?.stop();
  }

  /** Everything off (the daemon is exiting). */
  async close(): Promise<void> {
    this.pinger?.stop();
    await this.supervisor?.stop();
  }
}
