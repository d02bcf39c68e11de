import * as os from 'node:os';
import { runCommand } from '../shared/cli.js';
import { formatDiagnostic } from '../shared/errors.js';
import { nodeConfigFs } from '../shared/fs.js';
import { DEFAULT_CONFIG_NAME, findConfigFile, parseLdirectordConfig, type LdirectordConfig } from '../config/ldirectord/index.js';
import { isDirectory, isRegularFile, systemResolver } from './system-lookups.js';

/** The original's usage error status (pod2usage, spec §1). */
export const EXIT_USAGE = 255;
/** Config file not found (init_error). */
export const EXIT_NOT_FOUND = 1;

const VERSION = 'ldirectord (heartbeat-ts) 0.1.0, compatible with Linux Director v1.186-ha (ldirectord 4.12)';

const DAEMON_COMMANDS = new Set(['start', 'stop', 'restart', 'try-restart', 'reload', 'force-reload', 'status']);

export const USAGE = `Usage:
  ldirectord -t [--dump-json] [configfile]
  ldirectord [-d|--debug] [--] [configfile] start|stop|restart|try-restart|reload|force-reload|status
  ldirectord -h|--help
  ldirectord -v|--version

Options:
  -t, --test       check the configuration file and exit: 0 when valid, 2 on an error
  --dump-json      with -t: print the normalized configuration as JSON on stdout
  -d, --debug      stay in the foreground and log to stderr

The config file is looked up as /etc/ha.d/FILE, /etc/ha.d/conf/FILE, then FILE
itself; the default is ${DEFAULT_CONFIG_NAME}.
`;

interface Invocation {
  test: boolean;
  dumpJson: boolean;
  debug: boolean;
  help: boolean;
  version: boolean;
  positional: string[];
  bad?: string;
}

/** Options come first (require_order, as the original's Getopt); `--` ends them. */
export function parseArgs(argv: string[]): Invocation {
  const inv: Invocation = { test: false, dumpJson: false, debug: false, help: false, version: false, positional: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (a === '--test') inv.test = true;
    else if (a === '--dump-json') inv.dumpJson = true;
    else if (a === '--debug') inv.debug = true;
    else if (a === '--help') inv.help = true;
    else if (a === '--version') inv.version = true;
    else if (/^-[tdhv?]+$/.test(a)) {
      // Bundled short options, e.g. -dt.
      for (const c of a.slice(1)) {
        if (c === 't') inv.test = true;
        else if (c === 'd') inv.debug = true;
        else if (c === 'v') inv.version = true;
        else inv.help = true;
      }
    } else if (a.startsWith('-') && a !== '-') {
      inv.bad = a;
      return inv;
    } else break;
  }
  inv.positional = argv.slice(i);
  return inv;
}

function usage(message?: string): number {
  if (message) process.stderr.write(`ldirectord: ${message}\n`);
  process.stdout.write(USAGE);
  return EXIT_USAGE;
}

function summary(config: LdirectordConfig): string {
  const reals = config.virtuals.reduce((n, v) => n + v.reals.length, 0);
  const vs = config.virtuals.length;
  return `${config.file}: configuration OK (${vs} virtual service${vs === 1 ? '' : 's'}, ${reals} real server${reals === 1 ? '' : 's'})\n`;
}

/** `-t`: parse the whole file the way start would, print warnings, and the model with --dump-json. */
function check(configArg: string, dumpJson: boolean): number {
  const file = findConfigFile(configArg, isRegularFile);
  if (file === undefined) {
    process.stderr.write(`ldirectord: Config file ${configArg} not found\n`);
    return EXIT_NOT_FOUND;
  }
  const bytes = nodeConfigFs.readFile(file);
  const { config, warnings } = parseLdirectordConfig(bytes, {
    file,
    resolver: systemResolver(),
    isDirectory,
    hostname: process.env.HOSTNAME || os.hostname(),
  });
  for (const w of warnings) process.stderr.write(`${formatDiagnostic({ ...w, message: `warning: ${w.message}` })}\n`);
  process.stdout.write(dumpJson ? JSON.stringify(config, null, 2) + '\n' : summary(config));
  return 0;
}

export function main(argv: string[]): number | Promise<number> {
  const inv = parseArgs(argv);
  if (inv.bad) return usage(`unknown option ${inv.bad}`);
  if (inv.help) return usage();
  if (inv.version) {
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  if (inv.test || inv.dumpJson) {
    if (inv.positional.length > 1) return usage('-t takes at most one config file');
    return check(inv.positional[0] ?? DEFAULT_CONFIG_NAME, inv.dumpJson);
  }
  const [first, second] = inv.positional;
  const command = second ?? first;
  if (command === undefined || inv.positional.length > 2 || !DAEMON_COMMANDS.has(command)) return usage();
  return import('./daemon/command.js').then((m) =>
    m.daemonCommand({ debug: inv.debug, configArg: second === undefined ? undefined : first, command, argv }));
}

export function run(): Promise<void> {
  return runCommand('ldirectord', main);
}
