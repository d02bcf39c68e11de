/**
 * bin/ipfail: the I/O shell around IpfailMachine. Run by heartbeat through
 * `respawn hacluster /usr/lib/heartbeat/ipfail` (the original's paths map to
 * this program). It signs on to the local API as the client `ipfail`, exits
 * 100 (no respawn) when the daemon manages no resources or auto_failback is
 * legacy, finds the other node, and then turns node/link status changes and
 * the peer ipfail's messages into machine events, each with a fresh count of
 * the ping nodes we see and whether resources are stable.
 *
 * Exit codes as the original: 1 sign-on failed, 100 nothing to do (not
 * restarted), 9 node walk failed, 0 after SIGTERM; we exit 1 when the daemon
 * closes the connection (respawn restarts us if heartbeat still runs).
 */
import * as os from 'node:os';
import { Logger, haDestinations } from '../../shared/log/index.js';
import { NamedApiClient, apiSocketFromEnv } from '../api/named-client.js';
import type { HaMessage } from '../wire/message.js';
import { IpfailMachine, type IpfailAction, type IpfailEvent } from './core.js';

const CLIENT_NAME = 'ipfail';

/** cl_str_to_boolean: on/off and friends; undefined when it is none of them. */
function parseBool(v: string): boolean | undefined {
  const s = v.trim().toLowerCase();
  if (['true', 'on', 'yes', 'y', '1'].includes(s)) return true;
  if (['false', 'off', 'no', 'n', '0'].includes(s)) return false;
  return undefined;
}

function logger(env: NodeJS.ProcessEnv): Logger {
  const v = (k: string): string | undefined => (env[k] !== undefined && env[k] !== '' ? env[k] : undefined);
  const logfile = v('HA_LOGFILE');
  const debugfile = v('HA_DEBUGLOG');
  const logfacility = v('HA_LOGFACILITY');
  const debug = Number(v('HA_debug') ?? '0');
  return new Logger({
    destinations: haDestinations(
      {
        ...(logfile !== undefined ? { logfile } : {}),
        ...(debugfile !== undefined ? { debugfile } : {}),
        ...(logfacility !== undefined ? { logfacility } : {}),
        syslogmsgfmt: v('HA_SYSLOGMSGFMT') !== 'false',
      },
      // cl_log_enable_stderr(TRUE) until the main loop starts.
      { entity: CLIENT_NAME, hostname: os.hostname(), stderr: true },
    ),
    debugLevel: Number.isFinite(debug) ? debug : 0,
  });
}

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const log = logger(env);
  const done = async (code: number): Promise<number> => {
    await log.close();
    return code;
  };
  log.debug(0, `PID=${process.pid}`);
  log.debug(0, 'Signing in with heartbeat');
  const s = await NamedApiClient.signon(apiSocketFromEnv(env), CLIENT_NAME);
  if ('error' in s) {
    log.error('Cannot sign on with heartbeat');
    log.error(`REASON: ${s.error}`);
    return done(1);
  }
  const hb = s.client;
  if ((await hb.resources()) === undefined) {
    log.error('No managed resources');
    await hb.signoff();
    return done(100);
  }
  const us = hb.nodeName;
  log.debug(0, `[We are ${us}]`);
  const af = await hb.parameter('auto_failback');
  let autoFailback = false;
  if (af !== undefined) {
    if (af === 'legacy') {
      log.error('auto_failback set to incompatible legacy option.');
      await hb.signoff();
      return done(100);
    }
    const b = parseBool(af);
    if (b === undefined) {
      log.error(` invalid auto_faiback value(${af})`);
      await hb.signoff();
      return done(100);
    }
    autoFailback = b;
    log.debug(0, `auto_failback -> ${b ? 1 : 0} (${af})`);
  } else log.error("Couldn't get auto_failback setting.");

  log.debug(0, 'Setting message filter mode');
  await hb.setDefaultFilter();
  log.debug(0, 'Starting node walk');
  const nodes = await hb.nodes();
  if (nodes === undefined) {
    log.error('Cannot start node walk');
    return done(9);
  }
  let other = '';
  for (const n of nodes) {
    log.debug(0, `Cluster node: ${n.name}: status: ${n.status ?? ''}`);
    if (n.type === 'normal' && n.name !== us) {
      other = n.name;
      log.debug(0, `[They are ${other}]`);
    }
  }

  const machine = new IpfailMachine({ localNode: us, otherNode: other, autoFailback, keepaliveMs: hb.keepaliveMs });
  let giveupTimer: NodeJS.Timeout | undefined;
  let recheckTimer: NodeJS.Timeout | undefined;

  const pingCount = async (): Promise<number> => {
    const list = await hb.nodes();
    if (list === undefined) return 0;
    let found = 0;
    for (const n of list) {
      if (n.status === 'ping') {
        log.debug(0, `Found ping node ${n.name}!`);
        found++;
      }
    }
    return found;
  };
  // The original's is_stable(): anything but `transition` (no answer counts as stable too).
  const stable = async (): Promise<boolean> => (await hb.resources()) !== 'transition';

  // Events are handled one at a time, in arrival order: each asks the daemon first.
  let chain: Promise<void> = Promise.resolve();
  const feed = (make: () => Promise<IpfailEvent | undefined>): void => {
    chain = chain.then(async () => {
      const e = await make();
      if (e !== undefined) carryOut(machine.handle(e));
    });
  };
  const carryOut = (actions: readonly IpfailAction[]): void => {
    for (const a of actions) {
      switch (a.kind) {
        case 'log':
          if (a.level === 'ERROR') log.error(a.text);
          else if (a.level === 'info') log.info(a.text);
          else log.debug(0, a.text);
          break;
        case 'sendToPeer':
          if (other !== '') hb.sendNode(other, a.fields);
          break;
        case 'sendToCluster':
          hb.sendCluster(a.fields);
          break;
        case 'armGiveup':
          if (giveupTimer !== undefined) clearTimeout(giveupTimer);
          giveupTimer = setTimeout(() => {
            giveupTimer = undefined;
            feed(async () => ({ kind: 'giveupTimer', stable: await stable() }));
          }, a.ms);
          break;
        case 'cancelGiveup':
          if (giveupTimer !== undefined) clearTimeout(giveupTimer);
          giveupTimer = undefined;
          break;
        case 'armRecheck':
          if (recheckTimer !== undefined) clearTimeout(recheckTimer);
          recheckTimer = setTimeout(() => {
            recheckTimer = undefined;
            feed(async () => ({ kind: 'recheckTimer', pingCount: await pingCount() }));
          }, a.ms);
          break;
      }
    }
  };

  const onMessage = (m: HaMessage): void => {
    const fields: Record<string, string> = {};
    for (const f of m.fields) {
      const v = m.get(f.name);
      if (v !== undefined && !(f.name in fields)) fields[f.name] = v;
    }
    const t = fields['t'] ?? '';
    if (t === 'status' || t === 'NS_st') {
      const node = fields['src'] ?? '';
      const st = fields['st'] ?? '';
      feed(async () => ({ kind: 'nodeStatus', node, status: st, pingCount: await pingCount() }));
    } else if (t === 'ifstat') {
      const node = fields['node'] ?? '';
      const link = fields['ifname'] ?? '';
      const st = fields['st'] ?? '';
      feed(async () => ({ kind: 'linkStatus', node, link, status: st, pingCount: await pingCount() }));
    } else if (['hbapi-clstat', 'resource', 'num_ping_nodes', 'abort_giveup', 'you_are_dead'].includes(t)) {
      feed(async () => ({ kind: 'message', fields, pingCount: await pingCount(), stable: await stable() }));
    }
  };
  hb.onMessage = onMessage;

  const finished = new Promise<number>((resolve) => {
    hb.onClose = () => {
      log.error('read_hb_msg returned NULL');
      log.error('REASON: heartbeat closed the connection');
      resolve(1);
    };
    const quit = (): void => resolve(0);
    process.once('SIGTERM', quit);
    process.once('SIGINT', quit);
  });
  log.debug(0, 'Waiting for messages...');
  log.setEnabled('stderr', false);
  const code = await finished;
  if (giveupTimer !== undefined) clearTimeout(giveupTimer);
  if (recheckTimer !== undefined) clearTimeout(recheckTimer);
  hb.onClose = () => {};
  await hb.signoff();
  return done(code);
}

export function run(): void {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`ipfail: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
