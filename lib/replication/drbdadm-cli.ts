import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCommand } from '../shared/cli.js';
import { HbError } from '../shared/errors.js';
import { nodeConfigFs } from '../shared/fs.js';
import { decodeConfigBytes } from '../shared/text.js';
import { dumpConfig } from '../config/drbd/dump.js';
import { dumpConfigXml } from '../config/drbd/dump-xml.js';
import { EXIT_EXEC_ERROR, EXIT_USAGE } from '../config/drbd/errors.js';
import { parseDrbdConfig, type DrbdConfig } from '../config/drbd/index.js';
import { addressWarnings, findLocalHost, type LocalHost } from '../config/drbd/local-host.js';

/** Where drbdadm looks when no -c is given: the first that exists, else /etc/drbd.conf. */
const DEFAULT_CONFIGS = ['/etc/drbd-90.conf', '/etc/drbd-84.conf', '/etc/drbd-83.conf', '/etc/drbd-82.conf', '/etc/drbd-08.conf', '/etc/drbd.conf'];

/** Commands run by drbdadm-commands.ts (kept here so `dump` does not load that module). */
const DAEMON_COMMANDS = new Set([
  'create-md', 'dump-md', 'up', 'down', 'attach', 'detach', 'connect', 'disconnect', 'primary', 'secondary', 'role', 'state',
  'cstate', 'dstate', 'status', 'outdate', 'invalidate', 'invalidate-remote', 'verify', 'pause-sync', 'resume-sync', 'adjust', 'wait-connect', 'wait-con-int', 'wait-sync',
  'get-gi', 'show-gi', 'sh-resources', 'sh-resource', 'sh-dev', 'sh-minor', 'sh-ll-dev', 'sh-md-dev', 'sh-md-idx', 'sh-ip', 'sh-lr-of',
  'sh-b-pri', 'sh-mod-parms', 'sh-status', 'sh-udev', 'invalidate_remote', 'wait_connect', 'wait_con_int',
]);

/** Every drbdadm subcommand we know by name (those in DAEMON_COMMANDS, dump, dump-xml and sh-nop work). */
const KNOWN_COMMANDS = new Set([
  'attach', 'detach', 'connect', 'disconnect', 'up', 'down', 'primary', 'secondary', 'invalidate', 'invalidate-remote',
  'outdate', 'resize', 'verify', 'pause-sync', 'resume-sync', 'adjust', 'wait-connect', 'wait-sync', 'wait-con-int',
  'role', 'state', 'cstate', 'dstate', 'status', 'create-md', 'show-gi', 'get-gi', 'dump-md', 'wipe-md', 'apply-al',
  'hidden-commands', 'new-current-uuid', 'check-resize', 'syncer', 'net-options', 'disk-options', 'resource-options',
  'peer-device-options', 'suspend-io', 'resume-io', 'set-gi', 'forget-peer', 'sh-resources', 'sh-dev', 'sh-minor',
  'sh-ll-dev', 'sh-md-dev', 'sh-md-idx', 'sh-ip', 'sh-lr-of', 'sh-b-pri', 'sh-status', 'sh-resource', 'sh-mod-parms',
  'invalidate_remote', 'wait_connect', 'wait_con_int',
]);

const USAGE = `usage: drbdadm [-c FILE] [--hostname NAME] COMMAND {all|RESOURCE...}
commands: create-md dump-md up down attach detach connect disconnect adjust
  primary secondary role cstate dstate status outdate invalidate invalidate-remote
  wait-connect get-gi show-gi dump dump-xml sh-resources sh-dev sh-minor sh-ll-dev
  sh-md-dev sh-md-idx sh-ip sh-udev sh-status sh-b-pri sh-mod-parms sh-nop
  -d, --dry-run            print what would be done instead of doing it
  -c, --config-file FILE   read FILE instead of /etc/drbd.conf ('-' = stdin)
  -t, --config-to-test FILE  same as -c, for dump and sh-nop
      --hostname NAME      act as host NAME (default: $DRBD_HOSTNAME, then uname -n)
`;

interface Invocation {
  configFile?: string;
  hostname?: string;
  command?: string;
  args: string[];
  dryRun: boolean;
  force: boolean;
  /** Options meant for the back end: after `--` (8.3) or after the command (8.4: `primary --force`). */
  backendOpts: string[];
}

/** Back-end options accepted after the command (8.4 style) or after `--` (8.3 style). */
const BACKEND_OPTS = /^(--force|--overwrite-data-of-peer|-o|--do-what-I-say|--human|--discard-my-data|--clear-bitmap|--assume-clean|--tentative|--wfc-timeout=\d+|--degr-wfc-timeout=\d+)$/;

/** Options whose value is the next word (or glued on: -cFILE, --config-file=FILE). */
const WITH_VALUE: Readonly<Record<string, string>> = {
  '-c': 'config', '--config-file': 'config', '-t': 'config', '--config-to-test': 'config',
  '--hostname': 'hostname', '-s': 'ignore', '--drbdsetup': 'ignore', '-m': 'ignore', '--drbdmeta': 'ignore',
  '-n': 'ignore', '--sh-varname': 'ignore', '-P': 'ignore', '--peer': 'ignore',
};
const FLAGS = new Set(['-d', '--dry-run', '-v', '--verbose', '-S', '--stacked', '-f', '--force', '-k', '--ignore-hostname']);

/** drbdadm's argv: options may come before and (8.4+) after the command; `--` hands the rest to the back end. */
export function parseArgv(argv: readonly string[]): Invocation {
  const inv: Invocation = { args: [], dryRun: false, force: false, backendOpts: [] };
  let backend = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      backend = true;
      continue;
    }
    if (backend && a.startsWith('-')) {
      inv.backendOpts.push(a);
      continue;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a.startsWith('-') && !a.startsWith('--') && a.length > 2 ? a.slice(0, 2) : a;
    const kind = WITH_VALUE[name];
    if (kind !== undefined) {
      let value: string | undefined;
      if (eq > 0) value = a.slice(eq + 1);
      else if (name !== a) value = a.slice(2);
      else value = argv[++i];
      if (value === undefined) throw new HbError('USAGE', `option ${name} needs a value`);
      if (kind === 'config') inv.configFile = value;
      else if (kind === 'hostname') inv.hostname = value;
      continue;
    }
    if (FLAGS.has(a)) {
      if (a === '-d' || a === '--dry-run') inv.dryRun = true;
      if (a === '-f' || a === '--force') inv.force = true;
      continue;
    }
    if (BACKEND_OPTS.test(a)) {
      inv.backendOpts.push(a);
      continue;
    }
    if (a.startsWith('-') && a !== '-') throw new HbError('USAGE', `unknown option '${a}'\n${USAGE}`);
    if (inv.command === undefined) inv.command = a;
    else inv.args.push(a);
  }
  return inv;
}

function localAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) for (const n of list ?? []) out.push(n.address);
  return out;
}

function localHost(inv: Invocation): LocalHost {
  const hostname = inv.hostname ?? process.env.DRBD_HOSTNAME ?? os.hostname();
  // With an overridden name, the interfaces of this machine say nothing about that host.
  const overridden = inv.hostname !== undefined || process.env.DRBD_HOSTNAME !== undefined;
  // DRBD_LOCAL_ADDRESSES (comma-separated) stands in for the interfaces, for tests and for another node's view.
  const given = process.env.DRBD_LOCAL_ADDRESSES;
  if (given !== undefined) return { hostname, addresses: given.split(',').map((a) => a.trim()).filter((a) => a !== '') };
  return overridden ? { hostname } : { hostname, addresses: localAddresses() };
}

/** The config file could not be opened (drbdadm exits 20, not 10). */
class OpenError extends Error {}

function readConfig(inv: Invocation): DrbdConfig {
  if (inv.configFile === '-') {
    const text = decodeConfigBytes(fs.readFileSync(0));
    return parseDrbdConfig(nodeConfigFs, 'STDIN', { text });
  }
  const file = inv.configFile ?? DEFAULT_CONFIGS.find((f) => fs.existsSync(f)) ?? '/etc/drbd.conf';
  let text: string;
  try {
    text = decodeConfigBytes(nodeConfigFs.readFile(file));
  } catch (e) {
    if (e instanceof HbError) throw new OpenError(file);
    throw e;
  }
  return parseDrbdConfig(nodeConfigFs, file, { text });
}



export async function main(argv: string[]): Promise<number> {
  const inv = parseArgv(argv);
  if (inv.command === undefined) {
    process.stderr.write(USAGE);
    return EXIT_USAGE;
  }
  const cmd = inv.command;
  if (DAEMON_COMMANDS.has(cmd)) {
    // Loaded only here: dump and sh-nop stay light.
    const { readStdinLine, runDaemonCommand } = await import('./drbdadm-commands.js');
    let config: DrbdConfig;
    try {
      config = readConfig(inv);
    } catch (e) {
      if (e instanceof OpenError) {
        process.stderr.write(`Can not open '${e.message}'.\n`);
        return EXIT_EXEC_ERROR;
      }
      throw e;
    }
    for (const w of config.warnings) process.stderr.write(`${w.file}:${w.line}: warning: ${w.message}\n`);
    return runDaemonCommand({
      config,
      me: localHost(inv),
      command: cmd,
      args: inv.args,
      dryRun: inv.dryRun,
      force: inv.force,
      backendOpts: inv.backendOpts,
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
      readAnswer: readStdinLine,
    });
  }
  if (cmd !== 'dump' && cmd !== 'dump-xml' && cmd !== 'sh-nop') {
    if (KNOWN_COMMANDS.has(cmd)) process.stderr.write(`drbdadm: '${cmd}' is not implemented yet\n`);
    else process.stderr.write(`drbdadm: Unknown command '${cmd}'\n${USAGE}`);
    return EXIT_USAGE;
  }
  let config: DrbdConfig;
  try {
    config = readConfig(inv);
  } catch (e) {
    if (e instanceof OpenError) {
      process.stderr.write(`Can not open '${e.message}'.\n`);
      return EXIT_EXEC_ERROR;
    }
    throw e;
  }
  for (const w of config.warnings) process.stderr.write(`${w.file}:${w.line}: warning: ${w.message}\n`);
  if (cmd === 'sh-nop') return 0;
  const me = localHost(inv);
  const names = inv.args.filter((a) => a !== 'all');
  for (const n of names) {
    const res = config.resources.find((r) => r.name === n);
    if (res === undefined || findLocalHost(config, res, me).host === undefined) {
      process.stderr.write(`'${n}' not defined in your config (for this host).\n`);
      return EXIT_USAGE;
    }
  }
  for (const w of addressWarnings(config, me)) process.stderr.write(w + '\n');
  // Like drbdadm, dumps name files by absolute path; error messages keep the name as given.
  const showFile = (f: string) => (f === 'STDIN' ? f : path.resolve(f));
  const opts = { localHost: me, showFile, ...(names.length > 0 ? { resources: names } : {}) };
  process.stdout.write(cmd === 'dump' ? dumpConfig(config, opts) : dumpConfigXml(config, opts));
  return 0;
}

export function run(): Promise<void> {
  return runCommand('drbdadm', main);
}
