/**
 * The I/O shell of ping nodes: one long-lived `ping` child per address of
 * every `ping`, `ping6` and `ping_group` node. Each echo reply is reported as
 * a heartbeat of its node (a ping group answers when any member does). A ping
 * that exits (no route, address gone) is started again one interval later;
 * its complaint is logged once until it changes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LineSplitter, parsePingLine, pingCommand, type PingFamily } from './output.js';

export interface PingNodeSpec {
  /** The node name: the address (`ping`), or the group name (`ping_group`). */
  readonly name: string;
  readonly type: 'ping' | 'ping6' | 'ping_group';
  readonly addresses: readonly string[];
}

export interface PingerLog {
  error(msg: string): void;
  info(msg: string): void;
  debug(level: number, msg: string): void;
}

export interface PingerOptions {
  readonly nodes: readonly PingNodeSpec[];
  /** Echo request interval: the keepalive, as the original pings once per heartbeat. */
  readonly intervalMs: number;
  readonly onReply: (node: string) => void;
  readonly log: PingerLog;
  /** The ping program (default `ping` from PATH; env HA_PING_PROGRAM overrides). */
  readonly program?: string;
  /** Least delay before a ping that exited is started again (default the interval, at least 200 ms). */
  readonly restartDelayMs?: number;
}

interface Probe {
  readonly node: string;
  readonly address: string;
  readonly family: PingFamily;
  child: ChildProcess | undefined;
  timer: NodeJS.Timeout | undefined;
  lastError: string | undefined;
  replies: number;
}

/** Whether `name` is an executable file in one of PATH's folders. */
function onPath(name: string): boolean {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    try {
      fs.accessSync(path.join(dir || '.', name), fs.constants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}

const familyOf = (type: PingNodeSpec['type'], address: string): PingFamily => (type === 'ping6' || address.includes(':') ? 6 : 4);

export class Pinger {
  private readonly probes: Probe[];
  private stopped = false;
  private readonly program: string;
  private readonly program6: string;

  constructor(private readonly o: PingerOptions) {
    this.program = o.program ?? process.env['HA_PING_PROGRAM'] ?? 'ping';
    // GNU inetutils has a separate ping6; iputils' ping takes -6.
    this.program6 = o.program ?? process.env['HA_PING_PROGRAM'] ?? (onPath('ping6') ? 'ping6' : 'ping');
    this.probes = o.nodes.flatMap((n) =>
      n.addresses.map((address): Probe => ({ node: n.name, address, family: familyOf(n.type, address), child: undefined, timer: undefined, lastError: undefined, replies: 0 })),
    );
  }

  /** Replies seen per address since start (for tests and debug). */
  replies(): Record<string, number> {
    return Object.fromEntries(this.probes.map((p) => [p.address, p.replies]));
  }

  start(): void {
    const kinds = new Set(this.o.nodes.map((n) => n.type));
    // The original's plugins announce themselves once each.
    if (kinds.has('ping') || kinds.has('ping6')) this.o.log.info('ping heartbeat started.');
    if (kinds.has('ping_group')) this.o.log.info('ping group heartbeat started.');
    for (const p of this.probes) this.launch(p);
  }

  /** Kills every ping; nothing restarts afterwards. */
  stop(): void {
    this.stopped = true;
    for (const p of this.probes) {
      if (p.timer !== undefined) clearTimeout(p.timer);
      p.timer = undefined;
      p.child?.kill('SIGTERM');
      p.child = undefined;
    }
  }

  private launch(p: Probe): void {
    if (this.stopped) return;
    const [cmd, ...args] = pingCommand(p.address, p.family, this.o.intervalMs, p.family === 6 ? this.program6 : this.program);
    let child: ChildProcess;
    try {
      child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    } catch (e) {
      this.complain(p, `cannot run ${cmd}: ${(e as Error).message}`);
      this.later(p);
      return;
    }
    p.child = child;
    const out = new LineSplitter();
    const err = new LineSplitter();
    child.stdout!.setEncoding('latin1');
    child.stderr!.setEncoding('latin1');
    child.stdout!.on('data', (chunk: string) => {
      for (const line of out.push(chunk)) this.line(p, line);
    });
    child.stderr!.on('data', (chunk: string) => {
      for (const line of err.push(chunk)) this.line(p, line);
    });
    child.on('error', (e) => {
      this.complain(p, `cannot run ${cmd}: ${e.message}`);
    });
    child.on('close', () => {
      if (p.child === child) p.child = undefined;
      this.later(p);
    });
  }

  private later(p: Probe): void {
    if (this.stopped || p.timer !== undefined) return;
    const delay = this.o.restartDelayMs ?? Math.max(200, this.o.intervalMs);
    p.timer = setTimeout(() => {
      p.timer = undefined;
      this.launch(p);
    }, delay);
  }

  private line(p: Probe, line: string): void {
    const l = parsePingLine(line);
    if (l.kind === 'reply') {
      p.replies++;
      if (p.lastError !== undefined) {
        this.o.log.info(`ping ${p.address}: replies again`);
        p.lastError = undefined;
      }
      if (!this.stopped) this.o.onReply(p.node);
    } else if (l.kind === 'error') this.complain(p, l.text.replace(/^ping6?: /, ''));
  }

  private complain(p: Probe, text: string): void {
    if (p.lastError === text) return;
    p.lastError = text;
    this.o.log.error(`ping ${p.address}: ${text}`);
  }
}
