/**
 * A deterministic, virtual-time world for two ReplicationMachines: messages
 * go through the real codec, local I/O completes after 1 ms, ticks fire at
 * each machine's nextDeadline. No real time, no promises.
 */
import { decodeFrame, encodeFrame } from '../../../lib/replication/protocol/codec.js';
import { ReplicationMachine, type Action, type MachineConfig, type MachineEvent } from '../../../lib/replication/protocol/machine.js';
import { freshGeneration, MemoryBitmap } from '../../../lib/replication/protocol/memory.js';
import type { Generation } from '../../../lib/replication/protocol/ports.js';
import type { DiskState } from '../../../lib/replication/protocol/states.js';
import { testConfig } from './harness.js';

export interface SimNode {
  readonly name: string;
  readonly m: ReplicationMachine;
  readonly store: Uint8Array;
  readonly bitmap: MemoryBitmap;
  gen: Generation;
  readonly logs: string[];
  readonly completed: Map<number, string | undefined>;
  /** Local writes are held (never complete) while true. */
  stuckDisk: boolean;
  listening: boolean;
  dials: number;
  tickAt: number | undefined;
  tickSeq: number;
  /** Local I/O in submission order, as the engine's OverlapQueue runs it. */
  io: IoEntry[];
}

interface IoEntry {
  readonly start: number;
  readonly end: number;
  state: 'waiting' | 'running' | 'done';
  readonly run: (e: IoEntry) => void;
}

interface Ch {
  id: number;
  a: SimNode;
  b: SimNode;
  open: boolean;
  /** Cut by the network: what is in flight is lost. */
  aborted?: boolean;
}

export class Sim {
  now = 0;
  private events: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;
  private chId = 1;
  private readonly chans = new Map<number, Ch>();
  /** Messages in either direction are dropped while true (a black hole: TCP stays up). */
  blackhole = false;
  linkUp = true;
  latency = 1;
  readonly nodes: SimNode[] = [];
  sent: { from: string; type: string }[] = [];
  /** Called when a node completes an application request. */
  onComplete: ((n: SimNode, req: number, error: string | undefined) => void) | undefined;

  add(name: string, cfg: Partial<MachineConfig> = {}, disk: DiskState = 'Inconsistent', gen: Generation = freshGeneration()): SimNode {
    const c = testConfig(name, cfg);
    const bitmap = MemoryBitmap.forSize(c.sizeBytes);
    const n: SimNode = {
      name,
      m: new ReplicationMachine(c, bitmap, gen, disk),
      store: new Uint8Array(c.sizeBytes),
      bitmap,
      gen,
      logs: [],
      completed: new Map(),
      stuckDisk: false,
      listening: true,
      dials: 0,
      tickAt: undefined,
      tickSeq: 0,
      io: [],
    };
    this.nodes.push(n);
    return n;
  }

  at(t: number, fn: () => void): void {
    this.events.push({ at: t, seq: this.seq++, fn });
  }

  apply(n: SimNode, actions: Action[]): void {
    for (const a of actions) this.exec(n, a);
    this.rearm(n);
  }

  step(n: SimNode, ev: MachineEvent): void {
    this.apply(n, n.m.step(ev, this.now));
  }

  /**
   * An application write as the engine submits it: it waits for earlier
   * overlapping local I/O, and holds its range until its local write is done.
   */
  write(n: SimNode, req: number, offset: number, data: Uint8Array, fua = false): void {
    this.enqueue(n, offset, offset + data.length, (e) => {
      this.appEntry = e;
      this.step(n, { type: 'write', req, offset, data, fua });
      this.appEntry = undefined;
      // A refused write starts no local I/O.
      if (!this.appEntryUsed) this.finish(n, e);
      this.appEntryUsed = false;
    });
  }

  private appEntry: IoEntry | undefined;
  private appEntryUsed = false;

  private enqueue(n: SimNode, start: number, end: number, run: (e: IoEntry) => void): IoEntry {
    const e: IoEntry = { start, end, state: 'waiting', run };
    n.io.push(e);
    this.pump(n);
    return e;
  }

  private finish(n: SimNode, e: IoEntry): void {
    e.state = 'done';
    n.io = n.io.filter((x) => x.state !== 'done');
    this.pump(n);
  }

  private pump(n: SimNode): void {
    for (let i = 0; i < n.io.length; i++) {
      const e = n.io[i]!;
      if (e.state !== 'waiting') continue;
      let blocked = false;
      for (let j = 0; j < i; j++) {
        const d = n.io[j]!;
        if (d.state !== 'done' && d.start < e.end && e.start < d.end) blocked = true;
      }
      if (blocked) continue;
      e.state = 'running';
      e.run(e);
    }
  }

  private rearm(n: SimNode): void {
    const d = n.m.nextDeadline();
    if (d === n.tickAt) return;
    n.tickAt = d;
    const s = ++n.tickSeq;
    if (d !== undefined) this.at(Math.max(d, this.now), () => {
      if (n.tickSeq !== s) return;
      n.tickAt = undefined;
      this.step(n, { type: 'tick' });
    });
  }

  private other(ch: Ch, n: SimNode): SimNode {
    return ch.a === n ? ch.b : ch.a;
  }

  private exec(n: SimNode, a: Action): void {
    switch (a.type) {
      case 'send': {
        const ch = this.chans.get(a.ch);
        if (!ch || !ch.open) return;
        const to = this.other(ch, n);
        const msg = decodeFrame(encodeFrame(a.msg));
        this.sent.push({ from: n.name, type: msg.type });
        if (this.blackhole) return;
        // Sent before a graceful close still arrives (TCP); a cut link loses it.
        this.at(this.now + this.latency, () => !ch.aborted && this.step(to, { type: 'message', ch: ch.id, msg }));
        return;
      }
      case 'closeChannel': {
        const ch = this.chans.get(a.ch);
        if (!ch || !ch.open) return;
        ch.open = false;
        const to = this.other(ch, n);
        this.at(this.now + this.latency, () => this.step(to, { type: 'channelClosed', ch: ch.id, reason: 'closed by peer' }));
        return;
      }
      case 'dial': {
        n.dials++;
        const peer = this.nodes.find((x) => x !== n);
        if (!peer || !peer.listening || !this.linkUp) return;
        const ch: Ch = { id: this.chId++, a: n, b: peer, open: true };
        this.chans.set(ch.id, ch);
        this.at(this.now + this.latency, () => {
          this.step(n, { type: 'channelOpen', ch: ch.id, outbound: true });
          this.step(peer, { type: 'channelOpen', ch: ch.id, outbound: false });
        });
        return;
      }
      case 'log':
        n.logs.push(a.msg);
        return;
      case 'writeLocal': {
        if (n.stuckDisk) return;
        const io = (e: IoEntry): void =>
          this.at(this.now + 1, () => {
            if (process.env.SIM_TRACE) n.logs.push(`-- t=${this.now} ${a.origin} write [${a.offset / 4096}, ${(a.offset + a.data.length) / 4096}) byte ${a.data[0]}`);
            n.store.set(a.data, a.offset);
            this.step(n, { type: 'localDone', op: a.op, ok: true });
            this.finish(n, e);
          });
        if (a.origin === 'app' && this.appEntry) {
          this.appEntryUsed = true;
          io(this.appEntry);
        } else {
          this.enqueue(n, a.offset, a.offset + a.data.length, io);
        }
        return;
      }
      case 'readLocal': {
        this.enqueue(n, a.offset, a.offset + a.length, (e) =>
          this.at(this.now + 1, () => {
            const data = n.store.slice(a.offset, a.offset + a.length);
            if (process.env.SIM_TRACE) n.logs.push(`-- t=${this.now} ${a.origin} read [${a.offset / 4096}, ${(a.offset + a.length) / 4096}) byte34 ${n.store[34 * 4096]}`);
            this.step(n, { type: 'localDone', op: a.op, ok: true, data });
            this.finish(n, e);
          }),
        );
        return;
      }
      case 'flushLocal': {
        if (a.origin !== 'barrier') {
          this.at(this.now + 1, () => this.step(n, { type: 'localDone', op: a.op, ok: true }));
          return;
        }
        this.enqueue(n, 0, Number.MAX_SAFE_INTEGER, (e) =>
          this.at(this.now + 1, () => {
            this.step(n, { type: 'localDone', op: a.op, ok: true });
            this.finish(n, e);
          }),
        );
        return;
      }
      case 'complete':
        n.completed.set(a.req, a.error?.code);
        this.onComplete?.(n, a.req, a.error?.code);
        return;
      case 'saveGeneration':
        n.gen = a.generation;
        return;
      case 'handler':
        n.logs.push(`handler ${a.name}`);
        return;
    }
  }

  /** Runs events until `until` (virtual ms) or until `stop` holds. */
  run(until: number, stop?: () => boolean): void {
    while (this.events.length > 0) {
      if (stop?.()) return;
      this.events.sort((x, y) => x.at - y.at || x.seq - y.seq);
      const e = this.events[0]!;
      if (e.at > until) break;
      this.events.shift();
      this.now = Math.max(this.now, e.at);
      e.fn();
    }
    if (!stop?.()) this.now = Math.max(this.now, until);
  }

  heal(): void {
    this.linkUp = true;
  }

  /** Closes every open channel at once (a link failure both sides notice). */
  cut(): void {
    this.linkUp = false;
    for (const ch of this.chans.values()) {
      if (!ch.open) continue;
      ch.open = false;
      ch.aborted = true;
      this.at(this.now + 1, () => this.step(ch.a, { type: 'channelClosed', ch: ch.id, reason: 'network down' }));
      this.at(this.now + 1, () => this.step(ch.b, { type: 'channelClosed', ch: ch.id, reason: 'network down' }));
    }
  }
}
