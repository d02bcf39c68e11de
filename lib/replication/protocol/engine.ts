/**
 * The replication engine: the shell around ReplicationMachine that drbdd
 * calls. It owns the transport (listen and dial), frames and unframes
 * messages, runs local I/O on the BlockStore (overlapping ranges in order),
 * persists generation UUIDs, arms the machine's timer, and turns
 * application writes and flushes into promises that resolve when protocol
 * A, B or C says the write is done.
 */
import { encodeFrame, FrameDecoder } from './codec.js';
import { ReplError, ReplErrorCode } from './errors.js';
import { ReplicationMachine, type Action, type MachineConfig, type MachineEvent, type MachineStatus, type StateChangeResult } from './machine.js';
import { MAX_DATA_BYTES } from './messages.js';
import { OverlapQueue } from './overlap-queue.js';
import { realTimers, type BlockStore, type Channel, type ChannelHandlers, type DirtyBitmap, type GenerationStore, type ProtocolLog, type Timers, type Transport } from './ports.js';
import type { DiskState } from './states.js';

export interface EngineOptions {
  readonly config: MachineConfig;
  readonly store: BlockStore;
  readonly bitmap: DirtyBitmap;
  readonly generations: GenerationStore;
  readonly transport: Transport;
  readonly log: ProtocolLog;
  /** The disk state at attach (drbdd derives it from the meta-data flags). */
  readonly initialDisk: DiskState;
  readonly timers?: Timers;
  /** A handler to run (`split-brain`, `before-resync-target`, ...): drbdd runs `drbdadm <name> minor-N`. */
  readonly onHandler?: (name: string) => void;
  /** Called after every step that may have changed the state. */
  readonly onChange?: (status: MachineStatus) => void;
}

interface Pending {
  resolve(): void;
  reject(e: Error): void;
}

export class ReplicationEngine {
  private readonly machine: ReplicationMachine;
  private readonly timers: Timers;
  private readonly queue = new OverlapQueue();
  private readonly channels = new Map<number, { ch: Channel; dec: FrameDecoder }>();
  private readonly requests = new Map<number, Pending>();
  private nextReq = 1;
  private timer: unknown;
  private timerAt: number | undefined;
  private dialing = false;
  private stopped = false;
  private listening = false;
  private saveChain: Promise<void> = Promise.resolve();
  /** Local application writes started by the step in progress (submitWrite waits for them). */
  private appWrites: Promise<void>[] | undefined;
  private readonly handlers: ChannelHandlers;

  private transport: Transport;

  constructor(private readonly opts: EngineOptions) {
    this.transport = opts.transport;
    this.timers = opts.timers ?? realTimers;
    this.machine = new ReplicationMachine(opts.config, opts.bitmap, opts.generations.load(), opts.initialDisk);
    this.handlers = {
      onData: (ch, bytes) => this.onData(ch, bytes),
      onClose: (ch, reason) => {
        if (this.channels.delete(ch.id)) this.event({ type: 'channelClosed', ch: ch.id, reason });
      },
    };
  }

  status(): MachineStatus {
    return this.machine.status();
  }

  /** The machine, for tests and for drbdd's deviceInUse flag. */
  get core(): ReplicationMachine {
    return this.machine;
  }

  /** Listens on our address and starts connecting (`drbdadm up` / `connect`). */
  async connect(opts: { discardMyData?: boolean } = {}): Promise<void> {
    if (this.stopped) throw new ReplError(ReplErrorCode.Stopped, 'engine stopped');
    if (!this.listening) {
      await this.transport.listen((ch) => this.register(ch), this.handlers);
      this.listening = true;
    }
    this.run(this.machine.connect(this.timers.now(), opts));
  }

  /**
   * `drbdadm adjust`: new options and, when given, a new transport (address change).
   * Only while StandAlone; returns false otherwise. The old transport is closed.
   */
  async reconfigure(config: Parameters<ReplicationMachine['reconfigure']>[0], transport?: Transport): Promise<boolean> {
    if (!this.machine.reconfigure(config)) return false;
    if (transport !== undefined) {
      const old = this.transport;
      this.transport = transport;
      this.listening = false;
      await old.close();
    }
    return true;
  }

  disconnect(): void {
    this.run(this.machine.disconnect(this.timers.now()));
  }

  setRole(role: 'Primary' | 'Secondary', opts: { force?: boolean } = {}): StateChangeResult {
    const { actions, result } = this.machine.setRole(this.timers.now(), role, opts);
    this.run(actions);
    return result;
  }

  outdate(): StateChangeResult {
    const { actions, result } = this.machine.outdate(this.timers.now());
    this.run(actions);
    return result;
  }

  invalidate(remote = false): StateChangeResult {
    const { actions, result } = this.machine.invalidate(this.timers.now(), remote);
    this.run(actions);
    return result;
  }

  verify(startSector = 0, stopSector?: number): StateChangeResult {
    const { actions, result } = this.machine.verify(this.timers.now(), startSector, stopSector);
    this.run(actions);
    return result;
  }

  pauseSync(pause: boolean): void {
    this.run(this.machine.setUserPause(this.timers.now(), pause));
  }

  set deviceInUse(v: boolean) {
    this.machine.deviceInUse = v;
  }

  /** Local read (reads are never sent to the peer). */
  read(offset: number, length: number): Promise<Uint8Array> {
    return this.opts.store.read(offset, length);
  }

  /**
   * Writes `data` at `offset` (multiples of 512). Resolves when the write is
   * done in the configured protocol's sense: A = local write done and sent,
   * B = also received by the peer, C = also written on the peer. With `fua`
   * (B and C) the peer's write is durable too.
   */
  submitWrite(offset: number, data: Uint8Array, opts: { fua?: boolean } = {}): Promise<void> {
    if (this.stopped) return Promise.reject(new ReplError(ReplErrorCode.Stopped, 'engine stopped'));
    const parts: Promise<void>[] = [];
    for (let o = 0; o < data.length || o === 0; o += MAX_DATA_BYTES) {
      const chunk = data.subarray(o, Math.min(data.length, o + MAX_DATA_BYTES));
      const at = offset + o;
      let done!: Promise<void>;
      const started = this.queue.run(at, at + Math.max(1, chunk.length), async () => {
        const req = this.nextReq++;
        done = new Promise<void>((resolve, reject) => this.requests.set(req, { resolve, reject }));
        this.appWrites = [];
        this.event({ type: 'write', req, offset: at, data: chunk, fua: opts.fua ?? false });
        const local = this.appWrites;
        this.appWrites = undefined;
        await Promise.allSettled(local);
      });
      parts.push(started.then(() => done));
      if (data.length === 0) break;
    }
    return Promise.all(parts).then(() => undefined);
  }

  /** Flush: the local disk, and (protocols B and C) the peer's disk, hold every completed write. */
  flush(): Promise<void> {
    if (this.stopped) return Promise.reject(new ReplError(ReplErrorCode.Stopped, 'engine stopped'));
    const req = this.nextReq++;
    const done = new Promise<void>((resolve, reject) => this.requests.set(req, { resolve, reject }));
    this.event({ type: 'flush', req });
    return done;
  }

  /** Goes StandAlone, closes the transport, fails what is pending, and persists. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.disconnect();
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.transport.close();
    for (const [, p] of this.requests) p.reject(new ReplError(ReplErrorCode.Stopped, 'engine stopped'));
    this.requests.clear();
    await this.queue.drain();
    await this.saveChain;
    await this.opts.bitmap.sync?.();
  }

  // ---------------------------------------------------------------- plumbing

  private register(ch: Channel): void {
    if (this.stopped) {
      ch.close();
      return;
    }
    this.channels.set(ch.id, { ch, dec: new FrameDecoder() });
    this.event({ type: 'channelOpen', ch: ch.id, outbound: ch.outbound });
  }

  private onData(ch: Channel, bytes: Uint8Array): void {
    const c = this.channels.get(ch.id);
    if (c === undefined) return;
    for (const r of c.dec.push(bytes)) {
      if (!this.channels.has(ch.id)) return;
      this.event(r.ok ? { type: 'message', ch: ch.id, msg: r.message } : { type: 'decodeError', ch: ch.id, error: r.error });
    }
  }

  private event(ev: MachineEvent): void {
    this.run(this.machine.step(ev, this.timers.now()));
  }

  private run(actions: Action[]): void {
    for (const a of actions) this.execute(a);
    this.rearm();
    this.opts.onChange?.(this.machine.status());
  }

  private execute(a: Action): void {
    switch (a.type) {
      case 'send': {
        const c = this.channels.get(a.ch);
        if (c === undefined) return;
        let frame: Uint8Array;
        try {
          frame = encodeFrame(a.msg);
        } catch (e) {
          this.opts.log.error(`cannot encode ${a.msg.type}: ${(e as Error).message}`);
          return;
        }
        c.ch.send(frame);
        return;
      }
      case 'closeChannel': {
        const c = this.channels.get(a.ch);
        if (c === undefined) return;
        this.channels.delete(a.ch);
        c.ch.close();
        return;
      }
      case 'dial':
        if (this.dialing || this.stopped) return;
        this.dialing = true;
        this.transport.dial(this.handlers).then(
          (ch) => {
            this.dialing = false;
            this.register(ch);
          },
          () => {
            this.dialing = false;
          },
        );
        return;
      case 'log':
        this.opts.log[a.level](a.msg);
        return;
      // The completion is fed to the machine *inside* the queued operation, so that what it
      // sends (a resync reply, an ack) leaves before any later overlapping operation starts.
      case 'writeLocal': {
        const store = this.opts.store;
        const io = async (): Promise<void> => {
          await store.write(a.offset, a.data);
          if (a.fua) await store.flush();
        };
        const done = (p: Promise<void>): Promise<void> =>
          p.then(
            () => this.localDone(a.op, true),
            () => this.localDone(a.op, false),
          );
        if (a.origin === 'app') this.appWrites?.push(done(io()));
        else void this.queue.run(a.offset, a.offset + a.data.length, () => done(io()));
        return;
      }
      case 'readLocal':
        void this.queue.run(a.offset, a.offset + a.length, () =>
          this.opts.store.read(a.offset, a.length).then(
            (data) => this.localDone(a.op, true, data),
            () => this.localDone(a.op, false),
          ),
        );
        return;
      case 'flushLocal': {
        const done = (p: Promise<void>): Promise<void> =>
          p.then(
            () => this.localDone(a.op, true),
            () => this.localDone(a.op, false),
          );
        if (a.origin === 'barrier') void this.queue.run(0, Number.MAX_SAFE_INTEGER, () => done(this.opts.store.flush()));
        else void done(this.opts.store.flush());
        return;
      }
      case 'complete': {
        const p = this.requests.get(a.req);
        if (p === undefined) return;
        this.requests.delete(a.req);
        if (a.error) p.reject(a.error);
        else p.resolve();
        return;
      }
      case 'saveGeneration': {
        const g = a.generation;
        this.saveChain = this.saveChain.then(
          () => this.opts.generations.save(g),
          () => this.opts.generations.save(g),
        );
        this.saveChain.catch((e: unknown) => this.opts.log.error(`cannot save the generation UUIDs: ${(e as Error).message}`));
        return;
      }
      case 'handler':
        this.opts.onHandler?.(a.name);
        return;
    }
  }

  private localDone(op: number, ok: boolean, data?: Uint8Array): void {
    if (this.stopped) return;
    this.event(data === undefined ? { type: 'localDone', op, ok } : { type: 'localDone', op, ok, data });
  }

  private rearm(): void {
    if (this.stopped) return;
    const at = this.machine.nextDeadline();
    if (at === this.timerAt && this.timer !== undefined) return;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === undefined) return;
    const delay = Math.max(0, Math.ceil(at - this.timers.now()));
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = undefined;
      this.event({ type: 'tick' });
    }, delay);
  }
}
