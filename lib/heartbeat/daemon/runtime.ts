/**
 * The heartbeat runtime: the I/O shell around the pure cores. Media packets
 * go decode -> verify -> membership (sequence rules) -> seq layer; the
 * membership's actions are carried out here (send, log, retransmit, ACK).
 * Time moves through ONE timer, armed for the earliest deadline the cores
 * report; nothing polls.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { RateLimiter, rateLimited } from '../../shared/log/index.js';
import type { Medium, PacketSource } from '../media/index.js';
import { MembershipMachine, type MembershipAction, type MembershipEvent, type NodeView, type LogLevel, type Step } from '../membership/index.js';
import { RetransmitRequests, TransmitHistory, ackAfterGapFilled, ackMessage, drawAckTrigger, shouldAck, type HistoryAction } from '../seq/index.js';
import type { AuthKey, HaMessage } from '../wire/index.js';
import { BadPackets } from './bad-packets.js';
import { takeIn } from './incoming.js';
import { PacketStamper, membershipMessage, sendOnAll } from './outgoing.js';
import type { DaemonSettings } from './settings.js';

/** What the runtime needs from the Logger (lib/shared/log). */
export interface RuntimeLog {
  crit(msg: string): void;
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(level: number, msg: string): void;
}

export interface RuntimeOptions {
  readonly settings: DaemonSettings;
  readonly media: readonly Medium[];
  readonly generation: number;
  readonly uuid: Uint8Array;
  readonly log: RuntimeLog;
  /** Monotonic ms (integer); performance.now by default. */
  readonly now?: () => number;
  readonly random?: () => number;
  /** Wall clock ms, for the bad-packet rate limiter. */
  readonly wallClock?: () => number;
}

export interface RuntimeEvents {
  /** Comm-up: open the API socket, start resources. */
  commUp: [];
  /** The graceful shutdown finished (shutdone sent, 2 s of beats). */
  exit: [];
  localHeartbeatLost: [];
  /** A message for the layers above (API clients' replies, resources). */
  deliver: [node: string, type: string, message: HaMessage];
  nodeStatus: [node: string, status: string];
  linkStatus: [node: string, link: string, status: string];
  /** A peer declared dead talks again with the same generation. */
  partitionHealed: [node: string];
  /** A peer came back with a new generation (without having been declared dead). */
  peerRestarted: [node: string];
}

/** Membership lines caused by what peers send (replays, unknown senders, bad numbers): rate-limited per kind. */
const PEER_CAUSED_LINES: readonly RegExp[] = [
  /^should_drop_message: attempted replay attack/,
  /^should_drop_message: bad sequence number/,
  /^should_drop_message: bad nak seq number/,
  /^process_status_message: bad node/,
  /^HBDoMsg_T_STATUS: status update without st field/,
];

export class HeartbeatRuntime extends EventEmitter<RuntimeEvents> {
  readonly machine: MembershipMachine;
  readonly badPackets: BadPackets;
  private readonly rexmit: RetransmitRequests;
  private readonly history: TransmitHistory;
  private readonly ackTriggers = new Map<string, number>();
  private readonly stamper: PacketStamper;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly localNode: string;
  private timer: NodeJS.Timeout | undefined;
  private armedFor: number | undefined;
  private machineDeadline: number | undefined;
  private stopped = false;
  /** ACKs only while every peer speaks `protocol` (membership's flow control). */
  private flowControl = true;
  private readonly detachers = new Map<Medium, () => void>();
  private mediaNow: readonly Medium[];
  private started = false;
  private keys: readonly AuthKey[];
  private readonly peerLines: (key: string, emit: () => void) => boolean;
  /** Packets sent since start, for tests and stats. */
  sent = 0;

  constructor(private readonly o: RuntimeOptions) {
    super();
    const s = o.settings;
    this.localNode = s.membership.localNode;
    this.now = o.now ?? (() => Math.floor(performance.now()));
    this.random = o.random ?? Math.random;
    this.machine = new MembershipMachine(s.membership);
    this.rexmit = new RetransmitRequests({ maxRexmitDelayMs: s.maxRexmitDelayMs, random: this.random });
    this.history = new TransmitHistory({ maxRexmitDelayMs: s.maxRexmitDelayMs });
    this.badPackets = new BadPackets(o.log, o.wallClock ?? Date.now);
    this.peerLines = rateLimited(new RateLimiter({ clock: o.wallClock ?? Date.now, intervalMs: 10_000, burst: 3 }), (t) => o.log.warn(t));
    this.keys = s.keys;
    this.mediaNow = [...o.media];
    this.stamper = new PacketStamper({ localNode: this.localNode, uuid: o.uuid, generation: o.generation, key: s.activeKey, ttl: s.ttl, innerAuth: s.innerAuth });
  }

  get media(): readonly Medium[] {
    return this.mediaNow;
  }

  nodeViews(): NodeView[] {
    return this.machine.nodeViews();
  }

  /** Listen on the media and send the first status. */
  start(): void {
    this.started = true;
    for (const m of this.mediaNow) this.listen(m);
    this.feed({ kind: 'start', now: this.now() });
  }

  private listen(m: Medium): void {
    const onPacket = (bytes: Uint8Array, from: PacketSource): void => this.onPacket(m, bytes, from);
    const onFault = (e: Error): void => this.faultLog(m, e);
    const onRestored = (attempts: number): void => {
      this.lastFaultLogAt.delete(`${m.kind} ${m.name}`);
      this.o.log.info(`${m.kind} ${m.name}: device reopened (attempt ${attempts}).`);
    };
    m.on('packet', onPacket);
    m.on('fault', onFault);
    m.on('restored', onRestored);
    this.detachers.set(m, () => {
      m.off('packet', onPacket);
      m.off('fault', onFault);
      m.off('restored', onRestored);
    });
  }

  private unlisten(m: Medium): void {
    this.detachers.get(m)?.();
    this.detachers.delete(m);
  }

  /**
   * ha.cf / authkeys re-read (SIGHUP): the new settings and the new set of
   * media take effect now, in this process; the generation and the sequence
   * numbers go on (peers see no restart). The caller opened the added media
   * and closes the ones no longer in `media`.
   */
  reconfigure(settings: DaemonSettings, media: readonly Medium[]): void {
    if (this.stopped) return;
    for (const m of this.mediaNow) if (!media.includes(m)) this.unlisten(m);
    if (this.started) for (const m of media) if (!this.detachers.has(m)) this.listen(m);
    this.mediaNow = [...media];
    this.setKeys(settings.keys, settings.activeKey);
    this.stamper.setFormat(settings.ttl, settings.innerAuth);
    const now = this.now();
    const step = this.machine.reconfigure(now, settings.membership);
    this.apply(step, now);
  }


  /** Graceful stop: shutdone now, `exit` 2 s later (the membership decides). */
  shutdown(): void {
    if (this.stopped) return;
    this.feed({ kind: 'shutdown', now: this.now() });
  }

  /** Stops everything at once (no shutdone); the caller closes the media. */
  halt(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const m of [...this.detachers.keys()]) this.unlisten(m);
  }

  /** A reread authkeys (SIGHUP): incoming packets are checked and ours signed with the new keys from now on. */
  setKeys(keys: readonly AuthKey[], activeKey: AuthKey): void {
    this.keys = keys;
    this.stamper.setKey(activeKey);
  }

  /** Comparable form of the keys in use (no secret leaves the process this way; it stays in memory). */
  keysFingerprint(): [number, string, string][] {
    return this.keys.map((k) => [k.index, k.method, String(k.key ?? '')]);
  }

  /**
   * An echo reply from a ping node (lib/heartbeat/ping): to the membership it
   * is that node's `t=NS_st st=ping` heartbeat on its one link, as the
   * original's ping plugin hands the reply up.
   */
  pingReply(node: string): void {
    if (this.stopped) return;
    this.feed({ kind: 'packet', now: this.now(), packet: { from: node, link: node, type: 'NS_st', status: 'ping', toUs: true } });
  }

  /** Sends a message from the layers above (API clients) to the cluster. */
  sendMessage(m: HaMessage): void {
    try {
      this.send(m);
    } catch (e) {
      // A client's message we cannot encode (WIRE_UNENCODABLE ...) is the client's problem.
      this.o.log.error(`cannot send a ${m.type ?? 'typeless'} message: ${(e as Error).message}`);
    }
  }

  private lastFaultLogAt = new Map<string, number>();
  private faultLog(m: Medium, e: Error): void {
    // The original: "write failure on ucast eth0", then suppresses repeats; one line per medium per 10 s here.
    const key = `${m.kind} ${m.name}`;
    const t = this.now();
    const last = this.lastFaultLogAt.get(key);
    if (last !== undefined && t - last < 10_000) return;
    this.lastFaultLogAt.set(key, t);
    if ((e as { code?: string }).code === 'MEDIA_DEVICE_LOST') {
      const text = e.message.startsWith(`${m.name}: `) ? e.message.slice(m.name.length + 2) : e.message;
      this.o.log.error(`${key}: ${text}; reopening it (retried after 1, 2, 4, 8 s, then every 10 s)`);
      return;
    }
    this.o.log.error(`write failure on ${key}: ${e.message}`);
  }

  private onPacket(m: Medium, bytes: Uint8Array, from: PacketSource): void {
    if (this.stopped) return;
    const r = takeIn(bytes, m.name, { keys: this.keys, localNode: this.localNode, localUuid: this.o.uuid });
    if (!r.ok) {
      this.badPackets.drop(r.code, r.reason, from.address, m.name);
      return;
    }
    try {
      this.feed({ kind: 'packet', now: this.now(), packet: r.packet });
    } catch (e) {
      // A bug of ours met on a peer's packet must not take the node down (and
      // with it every resource): count it like a bad packet and carry on.
      this.badPackets.drop('HB_INTERNAL', e instanceof Error ? (e.stack ?? e.message) : String(e), from.address, m.name);
      this.arm();
    }
  }

  private onTimer(): void {
    this.timer = undefined;
    this.armedFor = undefined;
    if (this.stopped) return;
    const now = this.now();
    if (this.machineDeadline !== undefined && now >= this.machineDeadline) {
      this.feed({ kind: 'tick', now });
      return;
    }
    this.rexmitTick(now);
    this.arm();
  }

  private feed(event: MembershipEvent): void {
    this.apply(this.machine.handle(event), event.now);
  }

  private apply(step: Step, now: number): void {
    this.machineDeadline = step.nextDeadline;
    for (const a of step.actions) {
      if (this.stopped) break;
      this.carryOut(a, now);
    }
    if (!this.stopped) {
      this.rexmitTick(now);
      this.arm();
    }
  }

  private rexmitTick(now: number): void {
    const up = (node: string): boolean => {
      const st = this.machine.nodeView(node)?.status;
      return st === 'up' || st === 'active';
    };
    for (const a of this.rexmit.tick(now, up)) {
      if (a.kind === 'send') this.send(a.message);
      else if (a.log !== undefined) this.o.log.error(a.log);
    }
  }

  /** The single timer: the earliest of the membership's and the retransmission's deadlines. */
  private arm(): void {
    let next = this.machineDeadline;
    const r = this.rexmit.nextDeadline;
    if (r !== undefined && (next === undefined || r < next)) next = r;
    if (next === this.armedFor && this.timer !== undefined) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = next;
    if (next === undefined) return;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, next - this.now()));
  }

  private send(m: HaMessage): void {
    const out = this.stamper.stamp(m);
    sendOnAll(this.mediaNow, out.bytes, (medium, e) => this.o.log.error(`cannot send on ${medium.kind} ${medium.name}: ${(e as Error).message}`));
    this.sent++;
    if (out.seq !== undefined) this.historyActions(this.history.record(out.seq, out.bytes, this.liveNormalNodes().length));
  }

  private liveNormalNodes(): string[] {
    return this.machine
      .nodeViews()
      .filter((n) => n.kind === 'normal' && (n.status === 'up' || n.status === 'active' || n.name === this.localNode))
      .map((n) => n.name);
  }

  private historyActions(actions: readonly HistoryAction[]): void {
    for (const a of actions) {
      if (a.kind === 'resend') sendOnAll(this.mediaNow, a.packet, () => {});
      else if (a.kind === 'send') this.send(a.message);
      else if (a.level === 'ERROR') this.o.log.error(a.text);
      else this.o.log.warn(a.text);
    }
  }

  private logLine(level: LogLevel, text: string): void {
    // Lines a peer (or anyone replaying captured packets) can cause at will go
    // through the same rate limit as undecodable packets; the text stays the original's.
    const peerCaused = PEER_CAUSED_LINES.find((re) => re.test(text));
    if (peerCaused !== undefined) {
      this.peerLines(peerCaused.source.slice(1), () => this.logUnlimited(level, text));
      return;
    }
    this.logUnlimited(level, text);
  }

  private logUnlimited(level: LogLevel, text: string): void {
    switch (level) {
      case 'CRIT':
        return this.o.log.crit(text);
      case 'ERROR':
        return this.o.log.error(text);
      case 'WARN':
        return this.o.log.warn(text);
      case 'info':
        return this.o.log.info(text);
      case 'debug':
        return this.o.log.debug(1, text);
    }
  }

  private ackTrigger(node: string): number {
    let t = this.ackTriggers.get(node);
    if (t === undefined) this.ackTriggers.set(node, (t = drawAckTrigger(this.random)));
    return t;
  }

  private carryOut(a: MembershipAction, now: number): void {
    switch (a.kind) {
      case 'sendStatus':
      case 'sendReqnodes':
      case 'sendRepnodes':
      case 'sendShutdone': {
        const m = membershipMessage(a);
        if (m !== undefined) this.send(m);
        return;
      }
      case 'log':
        return this.logLine(a.level, a.text);
      case 'commUp':
        this.emit('commUp');
        return;
      case 'nodeStatus':
        if (a.status === 'dead') this.rexmit.forget(a.node);
        this.emit('nodeStatus', a.node, a.status);
        return;
      case 'linkStatus':
        this.emit('linkStatus', a.node, a.link, a.status);
        return;
      case 'peerRestarted':
        this.rexmit.forget(a.node);
        this.ackTriggers.delete(a.node);
        this.emit('peerRestarted', a.node);
        return;
      case 'missingPackets':
        this.rexmit.missing(a.node, a.firstSeq, a.lastSeq, now);
        return;
      case 'sequenced': {
        this.rexmit.arrived(a.node, a.seq);
        if (a.order === 'reset') this.rexmit.forget(a.node);
        if (!this.flowControl) return;
        const trigger = this.ackTrigger(a.node);
        const ack =
          a.order === 'filledGap'
            ? ackAfterGapFilled(a.seq, a.firstMissing, a.lastSeq ?? a.seq, trigger)
            : a.order === 'inOrder' && shouldAck(a.seq, trigger, a.firstMissing)
              ? a.seq
              : undefined;
        if (ack !== undefined) this.send(ackMessage(a.node, ack));
        return;
      }
      case 'nakReceived': {
        const lost = this.rexmit.nak(a.node, a.seq, a.toUs);
        if (lost.log !== undefined) this.o.log.error(lost.log);
        return;
      }
      case 'deliver':
        return this.deliver(a.node, a.type, a.ref as HaMessage, now);
      case 'localHeartbeatLost':
        this.emit('localHeartbeatLost');
        return;
      case 'exit':
        this.halt();
        this.emit('exit');
        return;
      case 'flowControlDisabled':
        // A peer without `protocol`: the original stops ACKing (it logged why).
        this.flowControl = false;
        return;
      case 'partitionHealed':
        this.emit('partitionHealed', a.node);
        return;
      case 'localStatus':
      case 'peerShutdown':
        // Logged by the membership; the resource manager sees the shutdone message itself.
        return;
    }
  }

  private deliver(node: string, type: string, m: HaMessage, now: number): void {
    if (type === 'NS_rexmit') {
      this.historyActions(this.history.onRexmitRequest(node, m.decimal('firstseq'), m.decimal('lastseq'), now));
      return;
    }
    if (type === 'NS_ackmsg') {
      this.historyActions(this.history.onAck(node, m.hex('ackseq'), this.liveNormalNodes(), this.localNode));
      return;
    }
    this.emit('deliver', node, type, m);
  }
}
