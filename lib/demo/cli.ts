/**
 * hb-demo: a two-node heartbeat-ts cluster on this machine that shows a
 * takeover and a failback, then removes everything it made (docs/demo.md).
 */
import { Command, CommanderError, Option } from 'commander';
import { runCommand } from '../shared/cli.js';
import { DemoError, DemoErrorCode } from './plan.js';
import { reportedErrors, runDemo } from './run.js';

const EXIT_USAGE = 2;

function intOption(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new DemoError(DemoErrorCode.Usage, `${name}: ${JSON.stringify(v)} is not a number`);
  return Number(v);
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('hb-demo')
    .description(
      'Start two heartbeat-ts nodes on this machine (network namespaces as root, the loopback interface otherwise) with one\n' +
        'resource group (a service address and a small web service), crash the node that holds it, time the takeover, bring\n' +
        'the node back for the failback, and clean up. See docs/demo.md.',
    )
    .addOption(new Option('--mode <mode>', 'how the nodes are isolated').choices(['auto', 'netns', 'loopback']).default('auto'))
    .option('--no-failback', 'stop after the takeover (do not restart node1)')
    .option('--subnet <a.b.c>', 'netns: the demo subnet a.b.c.0/24 (private to the namespaces)', '10.88.0')
    .option('--web-port <port>', 'the web service port (netns 80, loopback 18080)')
    .option('--hb-port <port>', 'the heartbeat port (netns udpport 694, loopback multicast port 17694)')
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.code === 'commander.helpDisplayed' || e.code === 'commander.help' ? 0 : EXIT_USAGE;
    throw e;
  }
  const o = program.opts<{ mode: 'auto' | 'netns' | 'loopback'; failback: boolean; subnet: string; webPort?: string; hbPort?: string }>();
  const webPort = intOption('--web-port', o.webPort);
  const hbPort = intOption('--hb-port', o.hbPort);
  try {
    await runDemo({
      mode: o.mode,
      failback: o.failback,
      subnet: o.subnet,
      ...(webPort !== undefined ? { webPort } : {}),
      ...(hbPort !== undefined ? { hbPort } : {}),
    });
  } catch (e) {
    if (e instanceof DemoError && e.code === DemoErrorCode.Usage) {
      process.stderr.write(`hb-demo: ${e.message}\n`);
      return EXIT_USAGE;
    }
    if (typeof e === 'object' && e !== null && reportedErrors.has(e)) return 1;
    throw e;
  }
  return 0;
}

export function run(): Promise<void> {
  return runCommand('hb-demo', main);
}
