/**
 * ResourceManager's takegroup and givegroup (resources-spec §1.7) over an
 * injected script runner: status before each start (skip a running resource),
 * give the whole group up on the first failed start, stop right to left with
 * retries, and after a stop that keeps failing ask status whether the resource
 * still runs (then the caller must escalate).
 */
import type { GroupOutcome, LogLevel, ScriptCall } from '../types.js';
import type { ScriptRun } from './run-script.js';
import { statusSaysRunning } from './status-text.js';

export interface GroupOpsDeps {
  /** Path of a script (resource.d, then init.d), or undefined. */
  find(script: string): string | undefined;
  /** Runs `file args... action` with its time limit. */
  run(file: string, args: readonly string[], action: 'start' | 'stop' | 'status'): Promise<ScriptRun>;
  /** ResourceManager's log lines (`info: Running …`), level apart. */
  log(level: LogLevel, text: string): void;
  /** start/stop output: the original sends it to the debug log only. */
  debugOutput?(text: string): void;
  /** Pause between stop attempts (1 s in the original). */
  delay(ms: number): Promise<void>;
  /** HA_STOPRETRYMAX: extra attempts after the first; <= 0 retries forever. */
  readonly stopRetryMax: number;
  readonly stopRetryDelayMs?: number;
  readonly timeoutMs: number;
}

export interface GroupResult {
  readonly outcome: GroupOutcome;
  /** The resource token that failed. */
  readonly failed?: string;
}

type Ownership = 'running' | 'stopped' | 'unknown';

/** `{path} {args} {action}`: two blanks when there are no arguments, as the original logs it. */
function commandLine(file: string, args: readonly string[], action: string): string {
  return `${file} ${args.join(' ')} ${action}`;
}

async function call(d: GroupOpsDeps, c: ScriptCall, action: 'start' | 'stop'): Promise<boolean> {
  const file = d.find(c.script);
  if (file === undefined) {
    d.log('ERROR', `Cannot locate resource script ${c.script}`);
    return false;
  }
  d.log('info', `Running ${commandLine(file, c.args, action)}`);
  const r = await d.run(file, c.args, action);
  if (r.stdout !== '' || r.stderr !== '') d.debugOutput?.(r.stdout + r.stderr);
  if (r.timedOut) {
    d.log('ERROR', `${commandLine(file, c.args, action)} timed out after ${d.timeoutMs} ms`);
    return false;
  }
  if (r.rc === undefined) {
    d.log('ERROR', `Cannot run ${file}: ${r.spawnError ?? 'unknown error'}`);
    return false;
  }
  if (r.rc !== 0) {
    d.log('ERROR', `Return code ${r.rc} from ${file}`);
    return false;
  }
  return true;
}

/** `ResourceManager status`: stdout judged by text; a status that times out is unknown. */
export async function resourceStatus(d: GroupOpsDeps, c: ScriptCall): Promise<Ownership> {
  const file = d.find(c.script);
  if (file === undefined) return 'stopped';
  const r = await d.run(file, c.args, 'status');
  if (r.timedOut) {
    d.log('ERROR', `${commandLine(file, c.args, 'status')} timed out after ${d.timeoutMs} ms`);
    return 'unknown';
  }
  return statusSaysRunning(r.stdout) ? 'running' : 'stopped';
}

/** takegroup: calls in start order (left to right). */
export async function takeGroup(d: GroupOpsDeps, node: string, calls: readonly ScriptCall[]): Promise<GroupResult> {
  d.log('info', `Acquiring resource group: ${node} ${calls.map((c) => c.resource).join(' ')}`);
  for (const c of calls) {
    if ((await resourceStatus(d, c)) === 'running') continue;
    if (await call(d, c, 'start')) continue;
    d.log('CRIT', `Giving up resources due to failure of ${c.resource}`);
    // Like the original: stop the whole group, every resource, right to left.
    const back = [...calls].reverse().map((x) => ({ ...x, action: 'stop' as const }));
    const released = await giveGroup(d, node, back);
    if (released.outcome === 'stop-failed') return released;
    return { outcome: 'start-failed', failed: c.resource };
  }
  return { outcome: 'started' };
}

/** givegroup: calls in stop order (right to left). */
export async function giveGroup(d: GroupOpsDeps, node: string, calls: readonly ScriptCall[]): Promise<GroupResult> {
  const inFileOrder = [...calls].reverse();
  d.log('info', `Releasing resource group: ${node} ${inFileOrder.map((c) => c.resource).join(' ')}`);
  for (const c of calls) {
    let ok = await call(d, c, 'stop');
    for (let attempt = 1; !ok && (d.stopRetryMax <= 0 || attempt <= d.stopRetryMax); attempt++) {
      await d.delay(d.stopRetryDelayMs ?? 1_000);
      d.log('info', `Retrying failed stop operation [${c.resource}]`);
      ok = await call(d, c, 'stop');
    }
    if (ok) continue;
    // A stop that keeps failing: does it still run? (Unknown counts as running: safety first.)
    if ((await resourceStatus(d, c)) !== 'stopped') return { outcome: 'stop-failed', failed: c.resource };
    d.log('ERROR', `Resource script for ${c.resource} probably not LSB-compliant.`);
    d.log('WARN', `it (${c.resource}) MUST succeed on a stop when already stopped`);
    d.log('WARN', 'Machine reboot narrowly avoided!');
  }
  return { outcome: 'stopped' };
}
