/**
 * The membership and timing state machine of our heartbeat daemon, in the
 * etcd-io/raft style: no I/O and no clock. The shell feeds it events stamped
 * with a monotonic time in ms and carries out the actions it returns, then
 * arms one timer for `nextDeadline`. See docs/heartbeat-membership.md.
 *
 * Behaviour follows Heartbeat 3.0.6 (heartbeat-wire.md §4, §6): liveness of a
 * node comes from its status packets and its own advertised dead time, link
 * liveness from any packet on that link, and every deadline is exact to the ms
 * instead of being polled every 250 ms.
 */
import { HbError } from '../../shared/errors.js';
import * as L from './log-lines.js';
import { buildNodeTable, newNode, viewOf, type NodeState } from './node-table.js';
import type { GenerationNews, SequenceVerdict } from './sequence.js';
import {
  MAX_TIME_MS,
  REQNODES_INTERVAL_MS,
  SHUTDOWN_TO_EXIT_MS,
  STARTUP_DEADTIME_BONUS_FOR_MS,
  STARTUP_DEADTIME_BONUS_MS,
  checkMembershipConfig,
} from './timing.js';
import type {
  LocalStatus,
  MembershipAction,
  MembershipConfig,
  MembershipCounters,
  MembershipEvent,
  NodeView,
  ReceivedPacket,
  Step,
} from './types.js';

type Phase = 'idle' | 'running' | 'stopping' | 'stopped';

/**
 * Types the original handles from start-up; every other type (resource
 * messages, script messages) has no handler until comm-up and is lost before it.
 */
const WANTED_BEFORE_COMM_UP = new Set(['shutdone', 'query-cstatus', 'addnode', 'delnode', 'setweight', 'setsite']);

const isStatusType = (t: string): boolean => t === 'status' || t === 'NS_st';
const isPositiveMs = (v: number | undefined): v is number => v !== undefined && Number.isSafeInteger(v) && v > 0;

export class MembershipMachine {
  private config: MembershipConfig;
  private nodes: NodeState[];
  private readonly byName = new Map<string, NodeState>();
  private readonly local: NodeState;
  private readonly counts: MembershipCounters = {
    unknownNode: 0,
    badSequence: 0,
    replayedGeneration: 0,
    staleAfterDeath: 0,
    oldDuplicate: 0,
    duplicate: 0,
    olderStatus: 0,
    notForUs: 0,
    clockWentBack: 0,
    beforeCommUp: 0,
  };

  private now: number | undefined;
  private phase: Phase = 'idle';
  /** Every node heard or declared dead: from now on each node's own dead time applies, not initdead. */
  private linksUp = false;
  /** comm_now_up done: we are `active`. */
  private commUp = false;
  /** A `repnodes` answered us: stop asking. */
  private gotRepnodes = false;
  private localStatus: LocalStatus = 'init';
  /** ACK flow control stays on until a peer's status lacks `protocol`. */
  private flowControl = true;
  /** The dead time we advertise in `dt`. */
  private advertisedDeadtimeMs: number;
  private lastSentAt: number | undefined;
  private localHeartbeatLost = false;

  private nextKeepaliveAt: number | undefined;
  private bonusEndsAt: number | undefined;
  private nextReqnodesAt: number | undefined;
  private reqnodesFrom = 0;
  private exitAt: number | undefined;

  private out: MembershipAction[] = [];

  constructor(config: MembershipConfig) {
    checkMembershipConfig(config);
    this.config = config;
    this.nodes = buildNodeTable(config);
    for (const n of this.nodes) this.byName.set(n.name, n);
    this.local = this.byName.get(config.localNode)!;
    this.advertisedDeadtimeMs = config.deadtimeMs;
  }

  /** Feeds one event; never throws on odd input (it is counted or ignored instead). */
  handle(event: MembershipEvent): Step {
    this.out = [];
    const now = this.clock(event.now);
    if (this.phase !== 'stopped') {
      if (event.kind === 'start') this.start(now);
      else if (this.phase !== 'idle') {
        this.settle(now);
        if (event.kind === 'packet') this.receive(now, event.packet);
        else if (event.kind === 'shutdown') this.shutdown(now);
      }
      if (this.phase !== 'idle') this.settle(now);
    }
    return { actions: this.out, nextDeadline: this.nextDeadline() };
  }

  /**
   * ha.cf re-read (SIGHUP): new timings, media (links) and normal nodes take
   * effect at `now` in the running machine; generation, sequence numbers and
   * the state of every kept node and link go on. A status with the new `dt`
   * goes out at once and the keepalive grid restarts from `now`. A node added
   * is `init` with its death clock started now; a removed one is forgotten.
   * Ping nodes are kept as they are. Throws HbError `MEMBERSHIP_CONFIG` for a
   * config it cannot run (nothing is changed then).
   */
  reconfigure(now: number, config: MembershipConfig): Step {
    checkMembershipConfig(config);
    if (config.localNode !== this.config.localNode) throw new HbError('MEMBERSHIP_CONFIG', 'the local node name cannot change on reload');
    this.out = [];
    const t = this.clock(now);
    const oldDeadtime = this.config.deadtimeMs;
    this.config = config;
    const kept: NodeState[] = [];
    for (const name of config.nodes) {
      const wanted = config.linksByNode?.[name] ?? config.media;
      let n = this.byName.get(name);
      if (n === undefined || n.kind !== 'normal') {
        n = newNode(name, 'normal', false, config.deadtimeMs, wanted);
        n.lastStatusAt = t;
        for (const l of n.links) l.lastHeard = t;
        this.byName.set(name, n);
      } else {
        // Never heard: judged by our deadtime, which just changed.
        if (!n.isLocal && n.deadtimeMs === oldDeadtime && n.status === 'init') n.deadtimeMs = config.deadtimeMs;
        const byLink = new Map(n.links.map((l) => [l.name, l]));
        const links = wanted.map((l) => byLink.get(l) ?? { name: l, status: 'dead' as const, lastHeard: t });
        n.links.splice(0, n.links.length, ...links);
      }
      kept.push(n);
    }
    const others = this.nodes.filter((n) => n.kind !== 'normal');
    for (const n of this.nodes) if (n.kind === 'normal' && !config.nodes.includes(n.name)) this.byName.delete(n.name);
    this.nodes = [...kept, ...others];
    if (this.phase === 'running') {
      this.advertisedDeadtimeMs = config.deadtimeMs + (this.bonusEndsAt !== undefined ? STARTUP_DEADTIME_BONUS_MS : 0);
      this.sendStatus(t);
      this.nextKeepaliveAt = t + config.keepaliveMs;
      this.settle(t);
    } else if (this.phase === 'idle') this.advertisedDeadtimeMs = config.deadtimeMs;
    return { actions: this.out, nextDeadline: this.nextDeadline() };
  }

  nodeViews(): NodeView[] {
    return this.nodes.map(viewOf);
  }

  nodeView(name: string): NodeView | undefined {
    const n = this.byName.get(name);
    return n && viewOf(n);
  }

  counters(): Readonly<MembershipCounters> {
    return { ...this.counts };
  }

  get status(): LocalStatus {
    return this.localStatus;
  }

  get isCommUp(): boolean {
    return this.commUp;
  }

  // ---- time ------------------------------------------------------------

  /**
   * Time only moves forward: a stamp from the past, NaN, or one so large that
   * adding a keepalive would lose precision is taken as the latest one seen.
   */
  private clock(t: number): number {
    const prev = this.now;
    if (!(Math.abs(t) <= MAX_TIME_MS) || (prev !== undefined && t < prev)) {
      this.counts.clockWentBack++;
      return prev ?? 0;
    }
    this.now = t;
    return t;
  }

  /** The dead time in force for a node: initdead until every node was heard or declared dead. */
  private deadtimeFor(n: NodeState): number {
    return this.linksUp ? n.deadtimeMs : this.config.initdeadMs;
  }

  private nodeDeadline(n: NodeState): number | undefined {
    if (n.isLocal || n.status === 'dead') return undefined;
    return n.lastStatusAt + this.deadtimeFor(n);
  }

  private linkDeadlines(n: NodeState): number[] {
    if (n.isLocal) return [];
    const dt = this.deadtimeFor(n);
    return n.links.filter((l) => l.status === 'up').map((l) => l.lastHeard + dt);
  }

  private nextDeadline(): number | undefined {
    if (this.phase === 'idle' || this.phase === 'stopped') return undefined;
    let best = Infinity;
    const consider = (t: number | undefined) => {
      if (t !== undefined && t < best) best = t;
    };
    consider(this.nextKeepaliveAt);
    consider(this.bonusEndsAt);
    consider(this.nextReqnodesAt);
    consider(this.exitAt);
    for (const n of this.nodes) {
      consider(this.nodeDeadline(n));
      for (const t of this.linkDeadlines(n)) consider(t);
    }
    return best === Infinity ? undefined : best;
  }

  /**
   * Carries out everything due at or before `now`, repeatedly, because one
   * change can pull other deadlines in (links-up switches initdead to deadtime).
   */
  private settle(now: number): void {
    for (let i = 0; i < 8; i++) {
      this.runDue(now);
      this.checkCommIsUp(now);
      const next = this.nextDeadline();
      if (next === undefined || next > now || this.phase === 'stopped') return;
    }
  }

  private runDue(now: number): void {
    this.checkLocalHeartbeat(now);
    // Nodes first, then links, in table order: the order of the original's log lines.
    for (const n of this.nodes) {
      const due = this.nodeDeadline(n);
      if (due !== undefined && now >= due) this.markNodeDead(n);
    }
    for (const n of this.nodes) {
      if (n.isLocal) continue;
      const dt = this.deadtimeFor(n);
      for (const l of n.links) {
        if (l.status === 'up' && now >= l.lastHeard + dt) {
          l.status = 'dead';
          this.emitLink(n.name, l.name, 'dead');
        }
      }
    }
    if (this.nextKeepaliveAt !== undefined && now >= this.nextKeepaliveAt) {
      this.sendStatus(now);
      // Stay on the start-time grid; a stalled loop skips the missed beats instead of bursting.
      const k = this.config.keepaliveMs;
      this.nextKeepaliveAt += Math.floor((now - this.nextKeepaliveAt) / k + 1) * k;
    }
    // After the keepalive of the same instant, as observed (old dt first, then the new one).
    if (this.bonusEndsAt !== undefined && now >= this.bonusEndsAt) {
      this.bonusEndsAt = undefined;
      this.advertisedDeadtimeMs = this.config.deadtimeMs;
      this.sendStatus(now);
    }
    if (this.nextReqnodesAt !== undefined && now >= this.nextReqnodesAt) this.sendReqnodes(now);
    if (this.exitAt !== undefined && now >= this.exitAt) {
      this.exitAt = undefined;
      this.nextKeepaliveAt = this.bonusEndsAt = this.nextReqnodesAt = undefined;
      this.phase = 'stopped';
      this.out.push({ kind: 'exit' });
    }
  }

  /** Our own heartbeat counts like a peer's (the original hears itself by loop-back). */
  private checkLocalHeartbeat(now: number): void {
    if (this.localHeartbeatLost || this.lastSentAt === undefined) return;
    if (now - this.lastSentAt < this.advertisedDeadtimeMs) return;
    this.localHeartbeatLost = true;
    this.out.push(L.logNodeDead(this.local.name), ...L.logsNoLocalHeartbeat(), { kind: 'localHeartbeatLost' });
  }

  // ---- local side ------------------------------------------------------

  private start(now: number): void {
    if (this.phase !== 'idle') return;
    this.phase = 'running';
    // Every death clock starts now, like the original's "reset timeout times".
    for (const n of this.nodes) {
      n.lastStatusAt = now;
      for (const l of n.links) l.lastHeard = now;
    }
    this.local.anyPacketsYet = true;
    // Advertise extra dead time while we are busy starting (the peer judges us by it).
    this.advertisedDeadtimeMs = this.config.deadtimeMs + STARTUP_DEADTIME_BONUS_MS;
    this.bonusEndsAt = now + STARTUP_DEADTIME_BONUS_FOR_MS;
    this.sendStatus(now); // still `init`, as the original's first packet
    this.setLocalStatus(now, 'up');
    this.nextKeepaliveAt = now + this.config.keepaliveMs;
  }

  private shutdown(now: number): void {
    if (this.phase !== 'running') return;
    this.phase = 'stopping';
    this.out.push({ kind: 'sendShutdone' });
    this.exitAt = now + SHUTDOWN_TO_EXIT_MS;
  }

  private setLocalStatus(now: number, status: LocalStatus): void {
    this.localStatus = status;
    this.local.status = status;
    this.sendStatus(now);
    this.out.push({ kind: 'localStatus', status }, L.logLocalStatus(status));
  }

  private sendStatus(now: number): void {
    if (this.lastSentAt !== undefined) {
      // What the original logs when its own loop-back status arrives late.
      const interval = now - this.lastSentAt;
      if (interval > this.config.deadtimeMs) this.out.push(L.logLateHeartbeatPastDeadtime(this.local.name, interval));
      else if (interval > this.config.warntimeMs) this.out.push(L.logLateHeartbeat(this.local.name, interval));
    }
    this.lastSentAt = now;
    this.local.lastStatusAt = now;
    this.out.push({
      kind: 'sendStatus',
      status: this.localStatus,
      deadtimeMs: this.advertisedDeadtimeMs,
      protocol: this.flowControl,
    });
  }

  /** Once every node was heard from or declared dead, ask for the node list, then go active. */
  private checkCommIsUp(now: number): void {
    if (this.linksUp || this.phase === 'idle' || this.phase === 'stopped') return;
    if (!this.nodes.every((n) => n.anyPacketsYet || n.status === 'dead')) return;
    this.linksUp = true;
    if (this.flowControl && !this.gotRepnodes) {
      this.reqnodesFrom = 0;
      this.sendReqnodes(now);
    } else this.commNowUp(now);
  }

  /** `reqnodes` goes to the first live normal peer from where we last asked; none left: up. */
  private sendReqnodes(now: number): void {
    const i = this.nodes.findIndex(
      (n, idx) => idx >= this.reqnodesFrom && n.kind === 'normal' && !n.isLocal && n.status !== 'dead',
    );
    const dest = this.nodes[i];
    if (dest === undefined) {
      this.commNowUp(now);
      return;
    }
    this.reqnodesFrom = i;
    this.out.push({ kind: 'sendReqnodes', dest: dest.name });
    this.nextReqnodesAt = now + REQNODES_INTERVAL_MS;
  }

  private commNowUp(now: number): void {
    if (this.commUp) return;
    this.commUp = true;
    this.nextReqnodesAt = undefined;
    this.out.push(L.logCommNowUp());
    this.setLocalStatus(now, 'active');
    this.out.push({ kind: 'commUp' });
  }

  // ---- peers -----------------------------------------------------------

  private markNodeDead(n: NodeState): void {
    this.out.push(L.logNodeDead(n.name));
    const previous = n.status;
    n.status = 'dead';
    n.lastRemoteTime = 0;
    n.anyPacketsYet = false;
    n.sequence.reset();
    if (previous !== 'dead') {
      this.out.push({
        kind: 'nodeStatus',
        node: n.name,
        nodeKind: n.kind,
        status: 'dead',
        previous,
        gaveUpResources: !n.mayHoldResources,
      });
    }
  }

  private emitLink(node: string, link: string, status: 'up' | 'dead'): void {
    this.out.push({ kind: 'linkStatus', node, link, status }, L.logLinkStatus(node, link, status));
  }

  private receive(now: number, p: ReceivedPacket): void {
    const n = typeof p.from === 'string' ? this.byName.get(p.from) : undefined;
    if (n === undefined) {
      this.counts.unknownNode++;
      this.out.push(L.logBadNode(String(p.from)));
      return;
    }
    const type = typeof p.type === 'string' ? p.type : '';
    if (n.isLocal) {
      // Our own packets heard on a medium (bcast): they only show the link works.
      this.refreshLink(now, n, p.link);
      return;
    }
    n.anyPacketsYet = true;

    if (type === 'NS_nak_rexmit') {
      this.receiveNak(n, p);
      return;
    }

    const news: GenerationNews = { restarted: false, previousGeneration: 0, healedPartition: false };
    const verdict: SequenceVerdict = type.startsWith('NS_')
      ? { kind: 'keep' } // NS_ packets carry no sequence number
      : n.sequence.judge(p.seq, p.generation, isStatusType(type), { isDead: n.status === 'dead', lastStatusSeq: n.lastStatusSeq }, news);

    if (verdict.kind === 'drop') {
      this.counts[verdict.reason]++;
      if (verdict.reason === 'badSequence') this.out.push(L.logBadSequence());
      if (verdict.reason === 'replayedGeneration')
        this.out.push(L.logReplay(n.name, p.generation ?? 0, n.sequence.generation));
      return;
    }
    if (news.healedPartition) {
      this.out.push(...L.logsReturningAfterPartition(n.name), { kind: 'partitionHealed', node: n.name });
    }
    if (news.restarted) {
      if (news.previousGeneration > 0) {
        this.out.push(L.logPeerRestart(n.name), { kind: 'peerRestarted', node: n.name, generation: n.sequence.generation });
      }
      n.lateCheckArmed = false;
      n.lastStatusSeq = 0;
      n.lastRemoteTime = 0;
      n.mayHoldResources = true;
    }
    if (verdict.kind === 'keep' && (verdict.gap || verdict.resetAfterBigGap)) {
      const seq = p.seq ?? 0;
      if (verdict.gap) {
        const { first, last, previous } = verdict.gap;
        this.out.push(L.logLostPackets(last - first + 1, n.name, previous, seq), {
          kind: 'missingPackets',
          node: n.name,
          firstSeq: first,
          lastSeq: last,
        });
      } else this.out.push(L.logLostALot());
    }
    if (verdict.kind === 'keep' && !type.startsWith('NS_')) {
      this.out.push({
        kind: 'sequenced',
        node: n.name,
        seq: p.seq ?? 0,
        order: verdict.filledGap ? 'filledGap' : verdict.gap ? 'gap' : verdict.resetAfterBigGap ? 'reset' : 'inOrder',
        firstMissing: n.sequence.firstMissing,
        lastSeq: n.sequence.lastSeq,
      });
    }
    if (p.toUs === false) {
      // Sequence-tracked for everyone, but neither link news nor delivery (as the original).
      this.counts.notForUs++;
      return;
    }
    this.refreshLink(now, n, p.link);
    if (verdict.kind === 'duplicate') {
      this.counts.duplicate++;
      return;
    }

    if (isStatusType(type)) this.receiveStatus(now, n, p);
    else if (type === 'shutdone') {
      n.mayHoldResources = false;
      this.out.push(L.logShutdownNotice(n.name), { kind: 'peerShutdown', node: n.name });
    } else if (type === 'reqnodes') {
      this.out.push({
        kind: 'sendRepnodes',
        dest: n.name,
        nodelist: this.nodes.filter((x) => x.kind === 'normal').map((x) => x.name),
        delnodelist: [],
      });
    } else if (type === 'repnodes') {
      // Whenever it comes, as the original: even before every node was heard.
      this.gotRepnodes = true;
      this.nextReqnodesAt = undefined;
      this.commNowUp(now);
    }
    if (!isStatusType(type) && type !== 'reqnodes' && type !== 'repnodes') {
      // A message nobody wants yet may be the one that completes comm-up (the original retries it then).
      this.checkCommIsUp(now);
      if (this.commUp || type.startsWith('NS_') || WANTED_BEFORE_COMM_UP.has(type)) {
        this.out.push({ kind: 'deliver', node: n.name, type, ref: p.ref });
      } else this.counts.beforeCommUp++;
    }
  }

  /** Handled for every receiver, addressed to us or not, and never delivered (as the original). */
  private receiveNak(n: NodeState, p: ReceivedPacket): void {
    const raw = p.fields?.['firstseq'];
    const seq = raw !== undefined && /^[0-9a-fA-F]+$/.test(raw) ? parseInt(raw, 16) : NaN;
    if (!Number.isSafeInteger(seq) || seq <= 0) {
      this.out.push(L.logBadNak());
      return;
    }
    n.sequence.giveUp(seq);
    this.out.push({ kind: 'nakReceived', node: n.name, seq, toUs: p.toUs !== false });
  }

  private refreshLink(now: number, n: NodeState, linkName: string | undefined): void {
    const link = n.links.find((l) => l.name === linkName);
    if (link === undefined) return;
    link.lastHeard = now;
    if (link.status !== 'up') {
      link.status = 'up';
      this.emitLink(n.name, link.name, 'up');
    }
  }

  private receiveStatus(now: number, n: NodeState, p: ReceivedPacket): void {
    const status = p.status;
    if (typeof status !== 'string' || status === '') {
      this.out.push(L.logStatusWithoutSt());
      return;
    }
    const seq = p.seq ?? 0;
    // An older status overtaken by a newer one (rexmit, reordering) changes nothing.
    if (p.remoteTime !== undefined && p.remoteTime < n.lastRemoteTime && seq < n.lastStatusSeq) {
      this.counts.olderStatus++;
      return;
    }
    if (n.kind === 'normal' && this.flowControl && p.fields?.['protocol'] === undefined) {
      this.flowControl = false;
      this.out.push(L.logFlowControlDisabled(), { kind: 'flowControlDisabled', node: n.name });
    }
    if (n.lateCheckArmed) {
      const interval = now - n.lastStatusAt;
      if (interval > this.config.deadtimeMs) {
        // The peer outlived our deadtime yet talks: record the death, then revive it below.
        this.out.push(L.logLateHeartbeatPastDeadtime(n.name, interval));
        this.markNodeDead(n);
      } else if (interval > this.config.warntimeMs) this.out.push(L.logLateHeartbeat(n.name, interval));
    }
    if (status.toLowerCase() !== String(n.status).toLowerCase()) {
      const previous = n.status;
      n.status = status;
      this.out.push(L.logStatusUpdate(n.name, status), {
        kind: 'nodeStatus',
        node: n.name,
        nodeKind: n.kind,
        status,
        previous,
        gaveUpResources: !n.mayHoldResources,
      });
    }
    if (isPositiveMs(p.advertisedDeadtimeMs)) n.deadtimeMs = p.advertisedDeadtimeMs;
    n.lastStatusAt = now;
    n.lateCheckArmed = true;
    n.lastStatusSeq = seq;
    if (p.remoteTime !== undefined && Number.isFinite(p.remoteTime)) n.lastRemoteTime = p.remoteTime;
  }
}
