/**
 * The I/O shell around ResourceMachine: one timer for the machine's deadline,
 * group operations carried out one at a time by the ScriptRunner with their
 * outcomes fed back, and everything else (messages, log lines, rscstatus,
 * fencing) handed to the daemon through callbacks. The escalation command of a
 * stop that keeps failing is run here.
 */
import { spawn } from 'node:child_process';
import { ResourceMachine } from './machine.js';
import { ScriptRunner, type ScriptRunnerOptions } from './runner/index.js';
import type { LogLevel, ResourceAction, ResourceEvent, ResourceManagerConfig, ResourceMessage, RscStatus } from './types.js';

/** Events the daemon feeds; the shell stamps the time. */
export type ShellEvent = ResourceEvent extends infer E ? (E extends { now: number } ? Omit<E, 'now'> : never) : never;

export interface ResourceShellOptions {
  readonly config: ResourceManagerConfig;
  readonly runner: Omit<ScriptRunnerOptions, 'log'>;
  /** Monotonic milliseconds (performance.now by default). */
  readonly now?: () => number;
  send(message: ResourceMessage): void;
  log(level: LogLevel, text: string): void;
  rscstatus?(value: RscStatus): void;
  /** Reset the peer; resolve true (or `{ ok, result }`) on success. Without it a fence request fails (and is retried). */
  fence?(node: string, device: string): Promise<boolean | { readonly ok: boolean; readonly result: 'OK' | 'badhost' | 'bad' }>;
  /** Everything released after a shutdown. */
  shutdownDone?(): void;
  /** Runs the final escalation command; by default spawned detached. */
  escalate?(command: readonly string[], resource: string): void;
}

export class ResourceShell {
  readonly machine: ResourceMachine;
  private readonly runner: ScriptRunner;
  private readonly o: ResourceShellOptions;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(o: ResourceShellOptions) {
    this.o = o;
    this.machine = new ResourceMachine(o.config);
    this.runner = new ScriptRunner({ ...o.runner, log: o.log });
    this.clock = o.now ?? (() => Math.round(performance.now()));
  }

  /** Feeds one event now and carries out what the machine answers. */
  feed(e: ShellEvent): void {
    if (this.closed) return;
    const step = this.machine.handle({ ...e, now: this.clock() } as ResourceEvent);
    for (const a of step.actions) this.carryOut(a);
    // A callback may have fed an event in between (a synchronous echo): ask again.
    this.arm(this.machine.deadline());
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private arm(deadline: number | undefined): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (deadline === undefined || this.closed) return;
    this.timer = setTimeout(() => this.feed({ kind: 'tick' }), Math.max(0, deadline - this.clock()));
  }

  private carryOut(a: ResourceAction): void {
    const o = this.o;
    switch (a.kind) {
      case 'send':
        return o.send(a.message);
      case 'log':
        return o.log(a.level, a.text);
      case 'rscstatus':
        return o.rscstatus?.(a.value);
      case 'shutdown-done':
        return o.shutdownDone?.();
      case 'run-group':
        void this.runner.runGroup(a).then(
          (r) => this.feed({ kind: 'group-result', id: a.id, outcome: r.outcome, ...(r.failed !== undefined ? { failed: r.failed } : {}) }),
          // A runner bug must not leave a group half-known: treat it as a stop that failed.
          (err: unknown) => {
            o.log('ERROR', `resource script runner failed: ${(err as Error).message}`);
            this.feed({ kind: 'group-result', id: a.id, outcome: a.op === 'start' ? 'start-failed' : 'stop-failed' });
          },
        );
        return;
      case 'fence': {
        const f = o.fence ?? (() => Promise.resolve(false));
        void f(a.node, a.device).then(
          (r) => this.feed(typeof r === 'boolean' ? { kind: 'fence-result', node: a.node, ok: r } : { kind: 'fence-result', node: a.node, ok: r.ok, result: r.result }),
          () => this.feed({ kind: 'fence-result', node: a.node, ok: false }),
        );
        return;
      }
      case 'escalate':
        if (o.escalate) return o.escalate(a.command, a.resource);
        if (a.command.length > 0) spawn(a.command[0]!, a.command.slice(1), { stdio: 'ignore', detached: true }).unref();
        return;
    }
  }
}
