/**
 * The daemon half of the `heartbeat` command line: cli.ts parses the options
 * and hands every non-`--check` invocation here.
 */
import { localNodeName } from './node-name.js';
import { reloadCommand, statusCommand, stopCommand } from './control.js';
import { resolvePaths } from './paths.js';
import { loadConfig, startHeartbeat } from './run.js';
import { pidFileState } from '../../shared/daemon/index.js';
import { isRscSet } from '../../resources/rsc-sets.js';
import type { RscSet } from '../../resources/types.js';

/** `-d` may be repeated and bundled (`-dd`, `-dv`): commander only says "given", so count in argv. */
export function countDebugFlags(argv: readonly string[]): number {
  let n = 0;
  for (const a of argv) {
    if (a === '--') break;
    if (/^-[A-Za-z]+$/.test(a)) {
      const flags = a.slice(1);
      // `-C` takes a value; letters after it are that value.
      const upTo = flags.includes('C') ? flags.slice(0, flags.indexOf('C')) : flags;
      n += [...upTo].filter((c) => c === 'd').length;
    }
  }
  return n;
}

/** `-R [-C none|local|foreign|all]`: undefined without -R, the usage error text for a bad class. */
export function restartOption(o: Readonly<Record<string, unknown>>): { current?: RscSet } | string | undefined {
  if (!o['R']) return undefined;
  const c = o['C'];
  if (c === undefined) return {};
  if (typeof c === 'string' && isRscSet(c)) return { current: c };
  return `heartbeat: -C: bad resource type [${String(c)}] (none, local, foreign or all)\n`;
}

export async function daemonMain(o: Readonly<Record<string, unknown>>, argv: readonly string[]): Promise<number> {
  const paths = resolvePaths({
    haDir: o['confdir'] as string | undefined,
    runDir: o['runDir'] as string | undefined,
    stateDir: o['stateDir'] as string | undefined,
  });
  const localNode = localNodeName(paths.haDir);
  if (o['s']) return statusCommand(paths, localNode);
  if (o['k']) return stopCommand(paths);
  const restart = restartOption(o);
  if (typeof restart === 'string') {
    process.stderr.write(restart);
    return 2;
  }
  if (restart !== undefined) {
    // The original's restart-exec keeps its pid; another running daemon is an error.
    const st = pidFileState(paths.pidFile);
    if (st.state === 'running') {
      process.stderr.write(`ERROR: Heartbeat already running [pid ${st.pid}].\n`);
      return 1;
    }
  }
  const start = (): Promise<number> =>
    startHeartbeat({
      paths,
      localNode,
      foreground: Boolean(o['f'] || o['foreground']),
      debugIncrement: countDebugFlags(argv),
      verbose: Boolean(o['v']),
      ...(o['M'] ? { manageResources: false } : {}),
      ...(restart !== undefined ? { restart } : {}),
    });
  if (o['r']) {
    const st = pidFileState(paths.pidFile);
    const checked = loadConfig({ paths, localNode });
    if ('exitCode' in checked) {
      process.stderr.write(checked.text + '\n');
      if (st.state === 'running') process.stderr.write(`info: Config errors: Heartbeat pid ${st.pid} NOT restarted\n`);
      return checked.exitCode;
    }
    const code = reloadCommand(paths);
    if (code !== undefined) return code;
  }
  // `-l` (no realtime scheduling) is what we always do: Node has no SCHED_RR.
  const code = await start();
  // The daemon is done: do not let a lingering handle keep a stopped daemon alive.
  setTimeout(() => process.exit(code), 500).unref();
  return code;
}
