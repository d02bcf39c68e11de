/**
 * Drives a MembershipMachine the way the shell will: before each event it
 * ticks at every deadline the machine asked for, so timings are exact.
 */
import { MembershipMachine } from '../../lib/heartbeat/membership/index.js';
import type {
  MembershipAction,
  MembershipConfig,
  MembershipEvent,
  ReceivedPacket,
  Step,
} from '../../lib/heartbeat/membership/index.js';

export const BASE_CONFIG: MembershipConfig = {
  localNode: 'node1',
  nodes: ['node1', 'node2'],
  media: ['eth0'],
  keepaliveMs: 1000,
  warntimeMs: 3000,
  deadtimeMs: 5000,
  initdeadMs: 10000,
};

export interface TimedAction {
  readonly at: number;
  readonly action: MembershipAction;
}

export interface StatusOptions {
  link?: string;
  st?: string;
  seq?: number;
  gen?: number;
  dt?: number | null;
  protocol?: boolean;
  ts?: number;
}

export class Harness {
  readonly machine: MembershipMachine;
  readonly log: TimedAction[] = [];
  next: number | undefined;
  now = 0;
  private readonly seqs = new Map<string, number>();

  constructor(overrides: Partial<MembershipConfig> = {}) {
    this.machine = new MembershipMachine({ ...BASE_CONFIG, ...overrides });
  }

  /** Feeds one event as is, without catching up on deadlines. */
  raw(event: MembershipEvent): Step {
    const step = this.machine.handle(event);
    this.now = Math.max(this.now, event.now);
    for (const action of step.actions) this.log.push({ at: this.now, action });
    this.next = step.nextDeadline;
    return step;
  }

  /** Ticks at every deadline up to and including `t`. */
  runUntil(t: number): void {
    while (this.next !== undefined && this.next <= t) this.raw({ kind: 'tick', now: this.next });
    if (t > this.now) this.raw({ kind: 'tick', now: t });
  }

  start(t = 0): Step {
    return this.raw({ kind: 'start', now: t });
  }

  packet(t: number, packet: ReceivedPacket): Step {
    if (packet.seq !== undefined) this.seqs.set(packet.from, Math.max(packet.seq, this.seqs.get(packet.from) ?? 0));
    this.catchUp(t);
    return this.raw({ kind: 'packet', now: t, packet });
  }

  shutdown(t: number): Step {
    this.catchUp(t);
    return this.raw({ kind: 'shutdown', now: t });
  }

  /** A status packet from `from`; seq counts up per sender unless given. */
  status(t: number, from: string, o: StatusOptions = {}): Step {
    const seq = o.seq ?? (this.seqs.get(from) ?? 0) + 1;
    return this.packet(t, {
      from,
      link: o.link ?? 'eth0',
      type: 'status',
      status: o.st ?? 'active',
      seq,
      generation: o.gen ?? 1,
      ...(o.dt === null ? {} : { advertisedDeadtimeMs: o.dt ?? 5000 }),
      ...(o.ts === undefined ? {} : { remoteTime: o.ts }),
      fields: o.protocol === false ? {} : { protocol: '1' },
    });
  }

  /** Deadlines strictly before `t`, so an event at `t` meets what a real timer would have done. */
  private catchUp(t: number): void {
    while (this.next !== undefined && this.next < t) this.raw({ kind: 'tick', now: this.next });
  }

  /** Log lines as `level: text`, optionally only those at or after `from`. */
  logs(from = -Infinity): string[] {
    return this.log
      .filter((x) => x.at >= from)
      .flatMap((x) => (x.action.kind === 'log' ? [`${x.action.level}: ${x.action.text}`] : []));
  }

  /** Non-log actions of one kind, with their times. */
  of<K extends MembershipAction['kind']>(kind: K): Array<{ at: number; action: Extract<MembershipAction, { kind: K }> }> {
    return this.log.filter((x) => x.action.kind === kind) as Array<{
      at: number;
      action: Extract<MembershipAction, { kind: K }>;
    }>;
  }

  /** When a log line was first emitted. */
  whenLogged(text: string): number | undefined {
    return this.log.find((x) => x.action.kind === 'log' && x.action.text === text)?.at;
  }
}
