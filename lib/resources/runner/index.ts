/**
 * The script-runner shell: carries out the core's `run-group` actions with real
 * scripts and answers with the outcome the core expects as a `group-result`.
 */
import type { LogLevel, ResourceAction } from '../types.js';
import { findScript } from './find-script.js';
import { giveGroup, takeGroup, type GroupResult } from './group-ops.js';
import { runScript } from './run-script.js';
import { stopRetryMax } from './script-env.js';

export * from './find-script.js';
export * from './group-ops.js';
export * from './run-script.js';
export * from './script-env.js';
export * from './status-text.js';

export interface ScriptRunnerOptions {
  /** Search path: resource.d, then init.d (see scriptDirs). */
  readonly dirs: readonly string[];
  /** Environment for every script (see buildScriptEnv). */
  readonly env: NodeJS.ProcessEnv;
  /** Limit on every single call (start, stop, status). */
  readonly timeoutMs: number;
  readonly killGraceMs?: number;
  readonly stopRetryDelayMs?: number;
  readonly log: (level: LogLevel, text: string) => void;
  readonly debugOutput?: (text: string) => void;
}

export class ScriptRunner {
  constructor(private readonly o: ScriptRunnerOptions) {}

  /** Runs one `run-group` action of the core. */
  runGroup(a: Extract<ResourceAction, { kind: 'run-group' }>): Promise<GroupResult> {
    const o = this.o;
    const deps = {
      find: (s: string) => findScript(s, o.dirs),
      run: (file: string, args: readonly string[], action: 'start' | 'stop' | 'status') =>
        runScript(file, [...args, action], { env: o.env, timeoutMs: o.timeoutMs, ...(o.killGraceMs !== undefined ? { killGraceMs: o.killGraceMs } : {}) }),
      log: o.log,
      ...(o.debugOutput !== undefined ? { debugOutput: o.debugOutput } : {}),
      delay: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
      stopRetryMax: stopRetryMax(o.env),
      ...(o.stopRetryDelayMs !== undefined ? { stopRetryDelayMs: o.stopRetryDelayMs } : {}),
      timeoutMs: o.timeoutMs,
    };
    return a.op === 'start' ? takeGroup(deps, a.node, a.calls) : giveGroup(deps, a.node, a.calls);
  }
}
