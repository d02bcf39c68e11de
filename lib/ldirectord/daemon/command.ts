/**
 * `ldirectord [-d] [configfile] start|stop|restart|try-restart|reload|
 * force-reload|status` (spec §1): the whole config is parsed before any
 * command; pid file /var/run/ldirectord.<CFGNAME>.pid ($LDIRECTORD_RUN_DIR
 * moves the folder); -d and supervised=yes stay in the foreground without a
 * pid file. Differences: `status` prints "running" on stdout (the original
 * uses stderr, which status parsers miss), and `stop` waits (bounded) until
 * the daemon has cleaned up and gone.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { findConfigFile, parseLdirectordConfig, type LdirectordConfig } from '../../config/ldirectord/index.js';
import { ConfigError } from '../../shared/errors.js';
import { nodeConfigFs } from '../../shared/fs.js';
import {
  createPidFile, daemonChildChannel, pidFileState, removePidFile, signalDaemon, spawnDaemon, stopDaemon, wireDaemonSignals,
} from '../../shared/daemon/index.js';
import { Logger, ldirectordDestinations } from '../../shared/log/index.js';
import { isDirectory, isRegularFile, systemResolver } from '../system-lookups.js';
import { chooseBackend } from './backend-choice.js';
import { DirectorDaemon } from './director-daemon.js';
import { InstanceRunner } from './execute.js';

export const EXIT_NOT_RUNNING = 3;
export const EXIT_FAILURE = 1;
export const VERSION_BANNER = 'Linux Director v1.186-ha (heartbeat-ts)';

export interface DaemonInvocation {
  readonly debug: boolean;
  /** As written; undefined: `ldirectord.cf`, config name `ldirectord`. */
  readonly configArg: string | undefined;
  readonly command: string;
  readonly argv: readonly string[];
}

const out = (t: string): void => void process.stdout.write(t);
const err = (t: string): void => void process.stderr.write(t);

function hostname(): string {
  return process.env.HOSTNAME || os.hostname();
}

export function runDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.LDIRECTORD_RUN_DIR || '/var/run';
}

function readConfig(file: string): LdirectordConfig {
  return parseLdirectordConfig(nodeConfigFs.readFile(file), { file, resolver: systemResolver(), isDirectory, hostname: hostname() }).config;
}

/** Passes the config name to the daemon copy (read and removed at its start). */
const CFGNAME_ENV = 'HBTS_LDIRECTORD_CFGNAME';

export async function daemonCommand(inv: DaemonInvocation): Promise<number> {
  const arg = inv.configArg ?? 'ldirectord.cf';
  // The daemon copy gets the config's absolute path; its config name (pid file
  // /var/run/ldirectord.<CFGNAME>.pid) is the one the command line gave.
  const inherited = process.env[CFGNAME_ENV];
  delete process.env[CFGNAME_ENV];
  const cfgName = inherited || (inv.configArg === undefined ? 'ldirectord' : path.basename(inv.configArg));
  const file = findConfigFile(arg, isRegularFile);
  if (file === undefined) {
    err(`Config file ${arg} not found\n`);
    return EXIT_FAILURE;
  }
  let config: LdirectordConfig;
  try {
    config = readConfig(file);
  } catch (e) {
    if (e instanceof ConfigError) {
      err(e.message + '\n');
      return e.exitCode;
    }
    throw e;
  }
  const pidFile = path.join(runDir(), `ldirectord.${cfgName}.pid`);
  const state = pidFileState(pidFile);
  const running = state.state === 'running' ? state.pid : undefined;
  switch (inv.command) {
    case 'status':
      if (running !== undefined) {
        out(`ldirectord for ${arg} is running with pid: ${running}\n`);
        await new InstanceRunner({ inheritOutput: true }).all(config.globals.execute, 'status');
        return 0;
      }
      out(`ldirectord is stopped for ${arg}\n`);
      if (state.state === 'stale') {
        err(`ldirectord stale pid file ${pidFile} for ${arg}\n`);
        return EXIT_FAILURE;
      }
      return EXIT_NOT_RUNNING;
    case 'stop':
      if (running !== undefined) await stopDaemon(pidFile, { timeoutMs: 60_000 });
      return 0;
    case 'reload':
    case 'force-reload':
      if (running === undefined) {
        err(`ldirectord is stopped for ${arg}\n`);
        return EXIT_FAILURE;
      }
      signalDaemon(pidFile, 'SIGHUP');
      return 0;
    case 'try-restart':
      if (running === undefined) return 0;
      await stopDaemon(pidFile, { timeoutMs: 60_000 });
      return start(inv, file, cfgName, pidFile, config);
    case 'restart':
      if (running !== undefined) await stopDaemon(pidFile, { timeoutMs: 60_000 });
      return start(inv, file, cfgName, pidFile, config);
    case 'start':
      if (running !== undefined) return 0;
      return start(inv, file, cfgName, pidFile, config);
    default:
      return EXIT_FAILURE;
  }
}

async function start(inv: DaemonInvocation, file: string, cfgName: string, pidFile: string, config: LdirectordConfig): Promise<number> {
  const foreground = inv.debug || config.globals.supervised;
  const channel = daemonChildChannel();
  if (!foreground && channel === undefined) {
    // The daemon runs in `/`: it gets the config file's absolute path (same basename, so the same pid file and log name).
    const args = [...process.execArgv, process.argv[1]!, ...(inv.debug ? ['-d'] : []), path.resolve(file), 'start'];
    const r = await spawnDaemon({ args, env: { ...process.env, [CFGNAME_ENV]: cfgName } });
    if (r.ok) return 0;
    if (r.message) err(`ldirectord: ${r.message}\n`);
    return r.exitCode;
  }
  const log = new Logger({
    destinations: ldirectordDestinations({ logfile: config.globals.logfile, supervised: config.globals.supervised, debugMode: inv.debug, cfgName }),
    debugLevel: inv.debug ? 3 : 0,
  });
  log.info(`Invoking ldirectord invoked as: ${process.argv[1] ?? 'ldirectord'} ${inv.argv.join(' ')} `);
  if (!foreground) {
    try {
      createPidFile(pidFile);
    } catch (e) {
      channel?.failed(EXIT_FAILURE, (e as Error).message);
      await log.close();
      return EXIT_FAILURE;
    }
    process.on('exit', () => void removePidFile(pidFile));
    log.info(`Starting Linux Director v1.186-ha as daemon`);
  } else log.info(`Starting Linux Director v1.186-ha with pid: ${process.pid}`);

  const backend = await chooseBackend(config, log);
  const instances = new InstanceRunner({ log });
  const daemon = new DirectorDaemon({ configFile: file, backend: backend.backend, log, hostname: hostname(), readConfig: () => readConfig(file), instances }, config);
  await daemon.start();
  await instances.all(config.globals.execute, 'start');
  await backend.started?.(daemon);
  channel?.ready();

  return new Promise<number>((resolve) => {
    let unwire: () => void = () => {};
    unwire = wireDaemonSignals({
      onTerminate: (sig) => {
        unwire();
        void instances.all(daemon.configuration.globals.execute, 'stop').then(() => daemon.stop(sig.replace(/^SIG/, ''))).then(async () => {
          await backend.stopped?.();
          await log.close();
          if (!foreground) removePidFile(pidFile);
          resolve(0);
        });
      },
      onReload: () => void daemon.reload('signal'),
      terminateOn: ['SIGINT', 'SIGQUIT'],
    });
  });
}
