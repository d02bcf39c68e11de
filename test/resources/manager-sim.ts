/**
 * Two resource machines wired together for tests: a message queue between
 * them (the shell's job: add `src`, deliver to the other node and, as the
 * original does, to the sender), group operations answered by a fake runner.
 */
import { parseHaresources } from './manager-groups.js';
import { ResourceMachine } from '../../lib/resources/index.js';
import type { AutoFailback, GroupOutcome, ResourceAction, ResourceEvent, ResourceManagerConfig } from '../../lib/resources/index.js';

export const HARESOURCES = 'node1 IPaddr::10.0.0.10/24 Filesystem::/dev/sdb1::/srv::ext4 apache\nnode2 10.0.0.20 mysql\n';

export interface SimNode {
  readonly name: string;
  readonly m: ResourceMachine;
  readonly trace: ResourceAction[];
  /** Pending group ops (id → op) not yet answered. */
  readonly pending: Extract<ResourceAction, { kind: 'run-group' }>[];
  deadline: number | undefined;
  alive: boolean;
  shutDown: boolean;
}

export interface SimOptions {
  autoFailback?: AutoFailback;
  stonithDevice?: string;
  haresources?: string;
  /** Answer group ops automatically (default true). */
  autoRun?: boolean;
  outcome?: (node: string, op: 'start' | 'stop', key: string) => GroupOutcome;
}

export class Sim {
  now = 0;
  readonly nodes: Record<'node1' | 'node2', SimNode>;
  private readonly mk: (name: 'node1' | 'node2', peer: string) => SimNode;
  /** In flight: [to, message]. */
  readonly wire: { to: string; message: Record<string, string> }[] = [];
  connected = true;
  /**
   * While cut: drop what is sent (true), or keep it until the link is back, as
   * heartbeat's retransmission does for a cut shorter than its window (false).
   */
  dropWhileCut = true;
  private readonly opts: SimOptions;

  constructor(opts: SimOptions = {}) {
    this.opts = opts;
    const groups = parseHaresources(opts.haresources ?? HARESOURCES);
    const mk = (name: 'node1' | 'node2', peer: string): SimNode => {
      const cfg: ResourceManagerConfig = {
        localNode: name,
        peerNode: peer,
        groups,
        autoFailback: opts.autoFailback ?? 'on',
        ...(opts.stonithDevice !== undefined ? { stonithDevice: opts.stonithDevice } : {}),
        stopFailureCommand: ['true', 'reboot-requested'],
      };
      return { name, m: new ResourceMachine(cfg), trace: [], pending: [], deadline: undefined, alive: true, shutDown: false };
    };
    this.mk = mk;
    this.nodes = { node1: mk('node1', 'node2'), node2: mk('node2', 'node1') };
  }

  other(n: SimNode): SimNode {
    return n === this.nodes.node1 ? this.nodes.node2 : this.nodes.node1;
  }

  /** Feeds one event and handles the actions (messages queued, ops queued or answered). */
  feed(n: SimNode, ev: ResourceEvent): ResourceAction[] {
    if (!n.alive) return [];
    const step = n.m.handle(ev);
    n.deadline = step.nextDeadline;
    n.trace.push(...step.actions);
    for (const a of step.actions) {
      if (a.kind === 'send') {
        const msg = { ...a.message, src: n.name };
        const peer = this.other(n);
        if ((this.connected || !this.dropWhileCut) && (a.message.dest === undefined || a.message.dest === peer.name)) this.wire.push({ to: peer.name, message: msg });
      } else if (a.kind === 'run-group') {
        n.pending.push(a);
      } else if (a.kind === 'shutdown-done') {
        n.shutDown = true;
      }
    }
    return [...step.actions];
  }

  /** Delivers messages and answers ops until nothing moves (bounded). */
  settle(maxSteps = 10_000): void {
    for (let i = 0; i < maxSteps; i++) {
      if (this.stepOnce()) continue;
      return;
    }
    throw new Error('simulation did not settle');
  }

  /** One unit of progress: a message or an op result. False when idle. */
  stepOnce(): boolean {
    const w = this.connected ? this.wire.shift() : undefined;
    if (w !== undefined) {
      const to = this.nodes[w.to as 'node1' | 'node2'];
      this.feed(to, { kind: 'message', now: this.now, message: w.message });
      return true;
    }
    if (this.opts.autoRun === false) return false;
    for (const n of [this.nodes.node1, this.nodes.node2]) {
      const op = n.pending.shift();
      if (op === undefined || !n.alive) continue;
      const outcome = this.opts.outcome?.(n.name, op.op, op.key) ?? (op.op === 'start' ? 'started' : 'stopped');
      this.feed(n, { kind: 'group-result', now: this.now, id: op.id, outcome });
      return true;
    }
    return false;
  }

  /** Moves time forward to `t`, ticking each node at its deadlines. */
  advance(t: number): void {
    for (;;) {
      const due = [this.nodes.node1, this.nodes.node2].filter((n) => n.alive && n.deadline !== undefined && n.deadline <= t);
      if (due.length === 0) break;
      const next = Math.min(...due.map((n) => n.deadline!));
      this.now = Math.max(this.now, next);
      for (const n of due) if (n.deadline === next) this.feed(n, { kind: 'tick', now: this.now });
      this.settle();
    }
    this.now = Math.max(this.now, t);
  }

  /** Both nodes reach comm-up with each other active. */
  startBoth(): void {
    this.feed(this.nodes.node1, { kind: 'comm-up', now: this.now, peer: 'active' });
    this.feed(this.nodes.node2, { kind: 'comm-up', now: this.now, peer: 'active' });
    this.settle();
  }

  crash(n: SimNode): void {
    n.alive = false;
    n.pending.length = 0;
    this.wire.splice(0, this.wire.length, ...this.wire.filter((w) => w.to !== n.name));
    this.feed(this.other(n), { kind: 'peer-dead', now: this.now });
    this.settle();
  }

  /** A crashed node's heartbeat starts again (new generation): a fresh machine, comm-up with the peer active. */
  restart(name: 'node1' | 'node2'): SimNode {
    const fresh = this.mk(name, name === 'node1' ? 'node2' : 'node1');
    this.nodes[name] = fresh;
    this.feed(this.other(fresh), { kind: 'peer-alive', now: this.now });
    this.feed(fresh, { kind: 'comm-up', now: this.now, peer: 'active' });
    this.settle();
    return fresh;
  }

  clearTraces(): void {
    this.nodes.node1.trace.length = 0;
    this.nodes.node2.trace.length = 0;
  }

  held(n: SimNode): string[] {
    return n.alive ? n.m.heldKeys() : [];
  }
}

/** Texts of the log actions, `LEVEL: text` as ha-log shows them. */
export function logs(actions: readonly ResourceAction[]): string[] {
  return actions.filter((a) => a.kind === 'log').map((a) => `${a.level}: ${a.text}`);
}

export function sends(actions: readonly ResourceAction[]): Record<string, string>[] {
  return actions.filter((a) => a.kind === 'send').map((a) => ({ ...a.message }));
}

export function runs(actions: readonly ResourceAction[]): string[] {
  return actions.filter((a) => a.kind === 'run-group').map((a) => `${a.op} ${a.key}: ${a.calls.map((c) => c.script).join(' ')}`);
}
