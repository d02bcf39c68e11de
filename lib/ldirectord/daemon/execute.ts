/**
 * `execute=CONFIG` (spec §2.1, §6.5, §6.6): other ldirectord instances that
 * follow this one: `ldirectord CONFIG start` after our start, `stop` before
 * our stop, `status` with ours; on reload, instances no longer listed are
 * stopped, kept ones reloaded (started when the reload fails: not running),
 * new ones started. Run as our own program (this node and entry script),
 * without a shell; a failure is logged as the original does.
 */
import { spawn } from 'node:child_process';
import type { Logger } from '../../shared/log/index.js';

export type InstanceCommand = 'start' | 'stop' | 'status' | 'reload';

export interface InstanceRunnerOptions {
  readonly log?: Logger;
  /** argv before `<config> <command>`: node, its flags and our entry script by default. */
  readonly program?: readonly string[];
  /** status: pass the instances' output through (the command line's status); else discard it. */
  readonly inheritOutput?: boolean;
  readonly timeoutMs?: number;
}

export class InstanceRunner {
  private readonly program: readonly string[];

  constructor(private readonly o: InstanceRunnerOptions = {}) {
    this.program = o.program ?? [process.execPath, ...process.execArgv, process.argv[1] ?? 'ldirectord'];
  }

  /** Runs `ldirectord <name> <cmd>`; resolves with its exit status. */
  run(name: string, cmd: InstanceCommand): Promise<number> {
    const [file, ...args] = this.program;
    const text = `ldirectord ${name} ${cmd}`;
    return new Promise((resolve) => {
      const child = spawn(file!, [...args, name, cmd], {
        stdio: ['ignore', this.o.inheritOutput ? 'inherit' : 'ignore', this.o.inheritOutput ? 'inherit' : 'ignore'],
        timeout: this.o.timeoutMs ?? 120_000,
      });
      child.on('error', (e) => {
        this.o.log?.error(`system(${text}) failed: ${e.message}`);
        resolve(127);
      });
      child.on('close', (code, signal) => {
        const status = code ?? 128;
        if (status !== 0 && cmd !== 'status' && cmd !== 'reload') this.o.log?.error(`system(${text}) failed: exit ${code ?? signal}`);
        resolve(status);
      });
    });
  }

  async all(names: readonly string[], cmd: InstanceCommand): Promise<void> {
    for (const n of names) await this.run(n, cmd);
  }

  /** A reload with a new list: stop the dropped, reload (or start) the kept, start the new. */
  async reload(before: readonly string[], after: readonly string[]): Promise<void> {
    await this.all(before.filter((n) => !after.includes(n)), 'stop');
    for (const n of after.filter((x) => before.includes(x))) {
      if ((await this.run(n, 'reload')) !== 0) await this.run(n, 'start');
    }
    await this.all(after.filter((n) => !before.includes(n)), 'start');
  }
}
