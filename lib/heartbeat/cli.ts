/**
 * The heartbeat command. Today it validates and dumps the configuration
 * (`--check`, `--dump-json`); the daemon and its control options come later,
 * and until then they say so and exit non-zero.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { runCommand } from '../shared/cli.js';
import { formatDiagnostic, type ConfigWarning } from '../shared/errors.js';
import { nodeConfigFs } from '../shared/fs.js';
import { DIRECTIVE_DEFAULTS } from '../config/hacf/directives.js';
import { CheckFailed, checkHaDir, dumpModel } from './config-check.js';
import { localNodeName } from './daemon/node-name.js';

export const DEFAULT_HA_DIR = '/etc/ha.d';
/** The version we are a drop-in for, as `heartbeat -V` prints it. */
export const VERSION_TEXT = '3.0.6 (heartbeat-ts)';
/** LSB "invalid or excess argument(s)": the original's exit status for a bad option. */
const EXIT_USAGE = 2;

const USAGE = 'Usage: heartbeat [-dDkMrRsvWlVf] [-C Current-resource-state]\n\t-C only valid with -R\n\t-r is mutually exclusive with -R\n';

/** Daemon options of Heartbeat 3.0.6. */
const DAEMON_FLAGS: readonly [string, string][] = [
  ['-d', 'raise the debug level (repeatable)'],
  ['-W', 'with -D: wiki format'],
  ['-k', 'stop the running daemon'],
  ['-M', 'do not manage resources'],
  ['-r', 're-read the configuration of the running daemon'],
  ['-R', 'restarted: keep the resources held (with -C CLASS)'],
  ['-s', 'report whether the daemon runs'],
  ['-v', 'verbose: dump the parsed configuration at start'],
  ['-l', 'disable realtime scheduling'],
  ['-f', 'stay in the foreground'],
];

/** `heartbeat -D`: the directives with defaults, as a three-column table. */
export function defaultsTable(): string {
  const head = { name: 'Directive', value: 'Default', about: 'Description' };
  const w1 = Math.max(head.name.length, ...DIRECTIVE_DEFAULTS.map((d) => d.name.length));
  const w2 = Math.max(head.value.length, ...DIRECTIVE_DEFAULTS.map((d) => d.value.length));
  const w3 = Math.max(head.about.length, ...DIRECTIVE_DEFAULTS.map((d) => d.about.length));
  const row = (d: typeof head) => `${d.name.padEnd(w1)}  ${d.value.padEnd(w2)}  ${d.about}\n`;
  return row(head) + '-'.repeat(Math.min(80, w1 + w2 + w3 + 4)) + '\n' + DIRECTIVE_DEFAULTS.map(row).join('');
}

export function formatWarning(w: ConfigWarning): string {
  return `${w.file}:${w.line}: warning: ${w.message}`;
}

function buildProgram(): Command {
  const program = new Command('heartbeat')
    .description('Heartbeat v1 cluster daemon (heartbeat-ts); today: configuration check')
    .option('--check', `validate ha.cf, authkeys and haresources in $HA_DIR (default ${DEFAULT_HA_DIR}) and exit`)
    .option('--dump-json', 'validate, then print the normalized configuration as JSON (keys are never printed)')
    .option('--confdir <dir>', 'read the configuration from DIR instead of $HA_DIR')
    .option('-V', 'print the version')
    .option('-D', 'print the ha.cf directives that have defaults')
    .option('--foreground', 'stay in the foreground (same as -f; for systemd and tests)')
    .option('--run-dir <dir>', 'pid file and API socket directory instead of $HEARTBEAT_RUN_DIR or /var/run')
    .option('--state-dir <dir>', 'hb_generation and hb_uuid directory instead of $HEARTBEAT_STATE_DIR or /var/lib/heartbeat')
    .addOption(new Option('-C <state>', 'current resource state, with -R (none|local|foreign|all)'))
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: (s) => process.stdout.write(s) });
  for (const [flag, what] of DAEMON_FLAGS) program.option(flag, what);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help') return 0;
      process.stderr.write(`heartbeat: ${e.message.replace(/^error: /, '')}\n${USAGE}`);
      return EXIT_USAGE;
    }
    throw e;
  }
  const o = program.opts<Record<string, unknown>>();
  if (o['V']) {
    process.stdout.write(`${VERSION_TEXT}\n`);
    return 0;
  }
  if (o['D'] && !o['W']) {
    process.stdout.write(defaultsTable());
    return 0;
  }
  if (o['C'] !== undefined && !o['R']) {
    process.stderr.write(`heartbeat: -C only valid with -R\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (o['r'] && o['R']) {
    process.stderr.write(`heartbeat: -r is mutually exclusive with -R\n${USAGE}`);
    return EXIT_USAGE;
  }
  // Everything but the config check is the daemon's (lib/heartbeat/daemon/).
  // Loaded only here, so `heartbeat --check` does not parse the whole daemon.
  if (!o['check'] && !o['dumpJson']) return (await import('./daemon/command.js')).daemonMain(o, argv);
  const haDir = (o['confdir'] as string | undefined) ?? process.env['HA_DIR'] ?? DEFAULT_HA_DIR;
  try {
    const { config, warnings } = checkHaDir(haDir, nodeConfigFs, { localNode: localNodeName(haDir) });
    for (const w of warnings) process.stderr.write(formatWarning(w) + '\n');
    if (o['dumpJson']) process.stdout.write(JSON.stringify(dumpModel(config), null, 2) + '\n');
    else process.stdout.write(`heartbeat: configuration in ${haDir} is valid\n`);
    return 0;
  } catch (e) {
    if (e instanceof CheckFailed) {
      for (const w of e.warnings) process.stderr.write(formatWarning(w) + '\n');
      for (const d of e.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      return e.exitCode;
    }
    throw e;
  }
}

export function run(): Promise<void> {
  return runCommand('heartbeat', main);
}
