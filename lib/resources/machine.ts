/**
 * The resource manager of one node of a 2-node haresources cluster, as a pure
 * state machine (etcd-raft style): `handle(event)` returns the actions to carry
 * out and the next deadline. It reproduces Heartbeat 3.0.6's hb_resource.c plus
 * the rc.d/ResourceManager shell layer (resources-spec §2), with the fixes of
 * §7: no 10 s start-up wait, partition heal without a double outage.
 */
import { HbError } from '../shared/errors.js';
import type { ResourceGroup } from '../config/haresources/parse.js';
import { LOG } from './log-lines.js';
import { hasForeign, hasLocal, isRscSet, isStandbyWord, mirrorClass, rscSetFromBits, standbyClass, standbyForTakeover } from './rsc-sets.js';
import type {
  GroupOutcome,
  LogLevel,
  ResourceAction,
  ResourceEvent,
  ResourceManagerConfig,
  ResourceMessage,
  ResourceStep,
  RscSet,
  RscStatus,
  ScriptCall,
  StandbyWord,
} from './types.js';

type Cls = Exclude<RscSet, 'none'>;

/** One queued group operation; `force` stops a group even when we think it is not held (shutdown). */
interface GroupOp {
  readonly op: 'start' | 'stop';
  readonly key: string;
  readonly force?: boolean;
}

/** Ops that belong together, with what to do once all ran (send `done`, announce, …). */
interface Job {
  readonly ops: GroupOp[];
  readonly onDone: () => void;
}

interface Standby {
  /** `me`: we asked to go standby; `other`: the peer asked, we take. */
  readonly role: 'me' | 'other';
  /** The class as the requester wrote it (the `rsc_hold` of the messages). */
  readonly set: Cls;
  /** `asked` until the answer, `moving` while groups move. */
  stage: 'asked' | 'moving';
  deadline: number;
}

type Phase = 'init' | 'starting' | 'stable' | 'shutdown' | 'escalated';

const DEFAULTS = {
  requestDelayMs: 10_000,
  standbyReplyMs: 10_000,
  standbyLimitMs: 3_600_000,
  stonithRetryMs: 5_000,
  stopFailureCommand: ['reboot', '-nf'] as readonly string[],
};

/** Where a held group is in its life; absent = stopped. */
type Holding = 'starting' | 'held' | 'stopping';

export class ResourceMachine {
  private readonly cfg: ResourceManagerConfig;
  private readonly nice: boolean;
  private readonly requestDelayMs: number;
  private readonly standbyReplyMs: number;
  private readonly standbyLimitMs: number;
  private readonly stonithRetryMs: number;
  private readonly stopFailureCommand: readonly string[];

  private now = 0;
  private phase: Phase = 'init';
  private out: ResourceAction[] = [];
  /** What the scripts were last told: the truth about this node. */
  private readonly holding = new Map<string, Holding>();
  /** What we mean to hold once the queue has run (the groups). */
  private readonly intent = new Set<string>();
  /**
   * The class bits the original advertises (`rsc_hold`) and cl_status
   * rscstatus reports: set when an acquisition of the class starts, whether or
   * not the class has groups, cleared by a standby release or shutdown, never
   * set in legacy mode (resources-spec §2.6).
   */
  private bits = { local: false, foreign: false };
  private readonly jobs: Job[] = [];
  private current: { id: number; op: GroupOp; job: Job } | undefined;
  private nextId = 1;
  private lastStatus: RscStatus | undefined;

  private peerAlive = false;
  private peerHeard = false;
  private peerStable = false;
  /** What the peer said it holds, from its point of view. */
  private peerHolds: RscSet = 'none';
  /** It sent `shutdone` (or said it holds nothing, in nice mode): no STONITH needed. */
  private peerShutdone = false;
  /**
   * After a healed partition (nice mode): the peer's holdings count for
   * dropping our duplicates only once it took part in the resync (its own
   * `info=partition` or its `info=partition-reply`). A `resource` message it
   * queued during the cut and delivered after the heal is stale, and a 3.0.6
   * peer never answers: it restarts instead (heartbeat-live.md §3.7), so
   * releasing on its word would leave nobody holding the group.
   */
  private awaitingResync = false;
  private standby: Standby | undefined;
  private requestDeadline: number | undefined;
  private fence: { deadline: number | undefined; waiting: boolean } | undefined;
  private initialDone = false;
  private shutdownPending = false;
  /** The peer (re)started while we may hold its groups: auto_failback gives them back once it is stable. */
  private needsFailback = false;
  /** Legacy: keys we asked the peer for and wait to be granted. */
  private readonly asked = new Set<string>();

  constructor(cfg: ResourceManagerConfig) {
    if (cfg.localNode === '' || cfg.peerNode === '' || cfg.localNode === cfg.peerNode) {
      throw new HbError('RESOURCES_CONFIG', `resource manager needs two distinct node names (got ${cfg.localNode} and ${cfg.peerNode})`);
    }
    for (const g of cfg.groups) {
      if (g.node !== cfg.localNode && g.node !== cfg.peerNode) {
        throw new HbError('RESOURCES_CONFIG', `haresources group ${g.key} names node ${g.node}, which is neither ${cfg.localNode} nor ${cfg.peerNode}`);
      }
    }
    const keys = new Set(cfg.groups.map((g) => g.key));
    if (keys.size !== cfg.groups.length) throw new HbError('RESOURCES_CONFIG', 'haresources has two groups with the same key');
    this.cfg = cfg;
    this.nice = cfg.autoFailback !== 'legacy';
    this.requestDelayMs = cfg.requestDelayMs ?? DEFAULTS.requestDelayMs;
    this.standbyReplyMs = cfg.standbyReplyMs ?? DEFAULTS.standbyReplyMs;
    this.standbyLimitMs = cfg.standbyLimitMs ?? DEFAULTS.standbyLimitMs;
    this.stonithRetryMs = cfg.stonithRetryMs ?? DEFAULTS.stonithRetryMs;
    this.stopFailureCommand = cfg.stopFailureCommand ?? DEFAULTS.stopFailureCommand;
    if (cfg.restarted !== undefined) {
      // The previous process left these groups running: adopt them without a start.
      for (const g of this.groupsOf(cfg.restarted)) {
        this.holding.set(g.key, 'held');
        this.intent.add(g.key);
      }
      this.setBits(cfg.restarted, true);
    }
  }

  // ---- views -------------------------------------------------------------

  /** Groups whose scripts were started and not (yet) stopped. */
  heldKeys(): string[] {
    return this.cfg.groups.filter((g) => this.holding.has(g.key)).map((g) => g.key);
  }

  /** What `cl_status rscstatus` answers now. */
  rscstatus(): RscStatus {
    if (this.phase === 'escalated') return 'transition';
    if (!this.isQuiet()) return 'transition';
    if (this.nice && this.phase === 'starting') return 'transition';
    if (this.nice && this.peerAlive && !this.peerStable && !this.peerShutdone) return 'transition';
    return this.advertised();
  }

  /** When the next `tick` is due, as the last step said. */
  deadline(): number | undefined {
    return this.nextDeadline();
  }

  /** No group operation running or queued, no standby under way, no fence pending. */
  isQuiet(): boolean {
    return this.current === undefined && this.jobs.length === 0 && this.standby === undefined && this.fence === undefined;
  }

  // ---- the one entry point ----------------------------------------------

  handle(event: ResourceEvent): ResourceStep {
    this.out = [];
    // Time only moves forward; a stale or bad stamp counts as the latest seen.
    if (Number.isFinite(event.now) && event.now > this.now) this.now = event.now;
    if (this.phase !== 'escalated') {
      this.runTimers();
      this.dispatch(event);
      this.pump();
      this.maybeAutoFailback();
      this.maybeDropDuplicates();
      this.pump();
    }
    const status = this.rscstatus();
    if (status !== this.lastStatus) {
      this.lastStatus = status;
      this.out.push({ kind: 'rscstatus', value: status });
    }
    return { actions: this.out, nextDeadline: this.nextDeadline() };
  }

  private dispatch(e: ResourceEvent): void {
    switch (e.kind) {
      case 'comm-up':
        return this.onCommUp(e.peer);
      case 'peer-alive':
        return this.onPeerAlive();
      case 'peer-dead':
        return this.onPeerDead();
      case 'partition-healed':
        return this.onPartitionHealed();
      case 'message':
        return this.onMessage(e.message);
      case 'command':
        return e.command === 'standby' ? this.onStandbyCommand(e.set) : this.onTakeoverCommand(e.set);
      case 'shutdown':
        return this.onShutdown();
      case 'group-result':
        return this.onGroupResult(e.id, e.outcome, e.failed);
      case 'fence-result':
        return this.onFenceResult(e.node, e.ok, e.result);
      case 'tick':
        return;
    }
  }

  // ---- helpers -----------------------------------------------------------

  private log(level: LogLevel, text: string): void {
    this.out.push({ kind: 'log', level, text });
  }

  private send(message: ResourceMessage): void {
    this.out.push({ kind: 'send', message });
  }

  private isLocal(g: ResourceGroup): boolean {
    return g.node === this.cfg.localNode;
  }

  /** Groups of a class seen from this node. */
  private groupsOf(cls: RscSet): ResourceGroup[] {
    return this.cfg.groups.filter((g) => (this.isLocal(g) ? hasLocal(cls) : hasForeign(cls)));
  }

  private advertised(): RscSet {
    return rscSetFromBits(this.bits.local, this.bits.foreign);
  }

  /** Sets (nice mode only, as the original) or clears class bits. */
  private setBits(cls: RscSet, on: boolean): void {
    if (on && !this.nice) return;
    if (hasLocal(cls)) this.bits.local = on;
    if (hasForeign(cls)) this.bits.foreign = on;
  }

  private sendResources(isstable: boolean, info?: string): void {
    const m: Record<string, string> = { t: 'resource', rsc_hold: this.advertised(), rtype: 'full', isstable: isstable ? '1' : '0' };
    if (info !== undefined) m.info = info;
    this.send(m);
  }

  private enqueue(ops: GroupOp[], onDone: () => void): void {
    for (const o of ops) {
      if (o.op === 'start') this.intent.add(o.key);
      else this.intent.delete(o.key);
    }
    this.jobs.push({ ops, onDone });
  }

  private startOps(groups: readonly ResourceGroup[]): GroupOp[] {
    return groups.map((g) => ({ op: 'start' as const, key: g.key }));
  }

  private stopOps(groups: readonly ResourceGroup[], force = false): GroupOp[] {
    return groups.map((g) => ({ op: 'stop' as const, key: g.key, force }));
  }

  /** Issues the next group operation when none runs; finished jobs call their onDone. */
  private pump(): void {
    while (this.current === undefined && this.phase !== 'escalated') {
      const job = this.jobs[0];
      if (job === undefined) break;
      const op = job.ops.shift();
      if (op === undefined) {
        this.jobs.shift();
        job.onDone();
        continue;
      }
      const held = this.holding.get(op.key);
      // Idempotent queue: a start of a held group and a stop of a stopped one are skipped.
      if (op.op === 'start' && held !== undefined) continue;
      if (op.op === 'stop' && held === undefined && op.force !== true) continue;
      const group = this.cfg.groups.find((g) => g.key === op.key);
      if (group === undefined) continue;
      const id = this.nextId++;
      this.holding.set(op.key, op.op === 'start' ? 'starting' : 'stopping');
      this.current = { id, op, job };
      this.out.push({ kind: 'run-group', id, op: op.op, key: op.key, node: group.node, calls: groupCalls(group, op.op) });
    }
  }

  private onGroupResult(id: number, outcome: GroupOutcome, failed: string | undefined): void {
    const cur = this.current;
    if (cur === undefined || cur.id !== id) return; // stale or foreign id: ignored
    this.current = undefined;
    const key = cur.op.key;
    switch (outcome) {
      case 'started':
        this.holding.set(key, 'held');
        break;
      case 'start-failed':
        // The runner already stopped the whole group; it is down and stays down (R1).
        // The class stays advertised as held, as in the original (the bits do not follow script results).
        this.holding.delete(key);
        this.intent.delete(key);
        break;
      case 'stopped':
        this.holding.delete(key);
        break;
      case 'stop-failed':
        this.escalate(failed ?? key);
        return;
    }
    if (this.shutdownPending && this.phase !== 'shutdown') this.beginShutdown();
  }

  /**
   * A resource we could not stop still runs: like ResourceManager, never let the
   * peer believe we released it. We stop talking and hand over to the final
   * command (reboot); the peer sees us die and fences/takes over.
   */
  private escalate(resource: string): void {
    this.log('CRIT', LOG.stopFailure);
    this.log('CRIT', LOG.killing);
    this.out.push({ kind: 'escalate', resource, command: this.stopFailureCommand });
    this.phase = 'escalated';
    this.jobs.length = 0;
    this.standby = undefined;
    this.fence = undefined;
  }

  // ---- start-up ----------------------------------------------------------

  private onCommUp(peer: 'active' | 'up' | 'dead'): void {
    if (this.phase !== 'init') return;
    this.peerAlive = peer !== 'dead';
    this.peerHeard = peer !== 'dead';
    if (peer === 'dead') {
      this.phase = 'stable';
      this.takeoverFromDeadPeer('mach_down');
      return;
    }
    if (this.cfg.restarted !== undefined) {
      // Restarted keeping resources: stable at once, no acquisition. nice mode still
      // says `starting` (the peer answers with what it holds) and what we hold.
      this.phase = 'stable';
      this.initialDone = true;
      if (this.nice) {
        this.send({ t: 'starting' });
        this.sendResources(true);
      }
      return;
    }
    if (!this.nice) {
      this.phase = 'stable';
      this.legacyRequestOurs(peer === 'active');
      return;
    }
    this.phase = 'starting';
    this.send({ t: 'starting' });
    this.requestDeadline = this.now + this.requestDelayMs;
  }

  /** nice_failback: take our own groups unless the peer holds them, then say we are stable. */
  private acquireLocalAtStart(reason: string): void {
    this.requestDeadline = undefined;
    const ours = this.groupsOf('local');
    // req_our_resources: nothing to do when the peer holds our class or we do already.
    if (hasForeign(this.peerHolds) || this.bits.local) {
      this.log('info', LOG.localDoneNone);
      this.becomeStable(reason);
      return;
    }
    this.phase = 'stable';
    this.setBits('local', true);
    this.enqueue(this.startOps(ours), () => {
      this.logLocalDone(ours);
      this.sendResources(true, 'req_our_resources()');
      this.announceInitial(reason);
    });
  }

  /** The end of req_our_resources: how many keys it found decides the line. */
  private logLocalDone(ours: readonly ResourceGroup[]): void {
    if (ours.length === 0) this.log('info', LOG.noLocal('/usr/share/heartbeat/ResourceManager listkeys ' + this.cfg.localNode));
    else this.log('info', LOG.localDone);
  }

  private becomeStable(reason: string): void {
    this.phase = 'stable';
    this.sendResources(true);
    this.announceInitial(reason);
  }

  private announceInitial(reason: string): void {
    if (this.initialDone) return;
    this.initialDone = true;
    this.log('info', LOG.initialDone(reason));
  }

  /** Legacy req_our_resources: ask the peer for each of our keys, or take them when alone. */
  private legacyRequestOurs(peerActive: boolean): void {
    const ours = this.groupsOf('local');
    if (ours.length === 0) {
      this.log('info', LOG.noLocal('/usr/share/heartbeat/ResourceManager listkeys ' + this.cfg.localNode));
      this.announceInitial('req_our_resources');
      return;
    }
    if (!peerActive) {
      this.enqueue(this.startOps(ours), () => {
        this.log('info', LOG.localDone);
        this.announceInitial('req_our_resources');
      });
      return;
    }
    for (const g of ours) {
      this.asked.add(g.key);
      this.send({ t: 'ip-request', ipaddr: g.key });
    }
    this.log('info', LOG.localDone);
  }

  // ---- membership --------------------------------------------------------

  private onPeerAlive(): void {
    // A new generation: the peer restarted and holds nothing; it will send `starting`
    // (nice) or ip-requests (legacy) once it is up.
    if (this.fence !== undefined) this.fence = undefined;
    this.peerAlive = true;
    this.peerHeard = true;
    // Stable until it says otherwise (its `starting`), as the original keeps
    // other_is_stable after a takeover: a peer that never speaks (heartbeat -M)
    // does not leave us in "transition" for good.
    this.peerStable = true;
    this.peerHolds = 'none';
    this.peerShutdone = false;
    this.awaitingResync = false;
    // It may also have run alone (we were both cut off at start): resynchronise
    // as after a partition. A peer still starting drops this and sends `starting`.
    if (this.phase === 'stable') this.resync();
  }

  private onPeerDead(): void {
    if (!this.peerAlive && this.phase !== 'init') return;
    // No STONITH when it said goodbye (shutdone) or, nice mode, that it holds nothing.
    const gaveUp = this.peerShutdone || (this.nice && this.peerHeard && this.peerHolds === 'none');
    this.peerAlive = false;
    this.awaitingResync = false;
    this.peerStable = false;
    if (this.standby !== undefined) {
      this.log('info', LOG.cancelStandby);
      this.standby = undefined;
    }
    if (this.phase === 'init' || this.phase === 'shutdown') return;
    if (this.phase === 'starting') {
      this.phase = 'stable';
      this.requestDeadline = undefined;
    }
    if (this.peerShutdone) {
      // The shutdown notice already moved everything here.
      this.log('info', LOG.gaveUp(this.cfg.peerNode));
      this.sendStonith(this.cfg.peerNode, 'unneeded');
      return;
    }
    this.takeoverFromDeadPeer('mach_down', gaveUp);
  }

  /**
   * Takeover after the peer's death: fence first when needed and configured
   * (the takeover waits for success), then mach_down (its groups) and our own.
   */
  private takeoverFromDeadPeer(reason: string, gaveUp = false): void {
    const n = this.cfg.peerNode;
    const peerGroups = this.groupsOf('foreign');
    if (gaveUp) {
      this.log('info', LOG.gaveUp(n));
      this.sendStonith(n, 'unneeded');
    } else if (this.cfg.stonithDevice !== undefined) {
      this.log('info', LOG.resetting(n, this.cfg.stonithDevice));
      this.fence = { deadline: undefined, waiting: true };
      this.out.push({ kind: 'fence', node: n, device: this.cfg.stonithDevice });
      return;
    } else {
      this.sendStonith(n, 'n_stnth');
      this.log('WARN', LOG.noStonith);
      this.log('WARN', LOG.notProtected);
    }
    this.log('info', LOG.acquiringFrom(n));
    this.takeEverything(reason, peerGroups);
  }

  private takeEverything(reason: string, peerGroups: readonly ResourceGroup[]): void {
    const n = this.cfg.peerNode;
    const ops: GroupOp[] = [];
    for (const g of peerGroups) {
      if (!this.intent.has(g.key)) this.log('info', LOG.takingOver(g.key));
      ops.push({ op: 'start', key: g.key });
    }
    // "get them anyway": our own groups too. The original marks both classes held as the takeover starts.
    ops.push(...this.startOps(this.groupsOf('local')));
    this.setBits('all', true);
    this.enqueue(ops, () => {
      if (this.nice) {
        this.sendResources(true, 'req_our_resources()');
        this.send({ t: 'resource', rsc_hold: 'foreign', info: 'mach_down' });
        this.log('info', LOG.machDownDone(n));
        this.log('info', LOG.machDownDaemon);
      } else {
        this.log('info', LOG.machDownDone(n));
      }
      this.announceInitial(reason);
    });
  }

  /** `t=stonith node=N result=R`, as the original broadcasts after each fence decision or attempt. */
  private sendStonith(node: string, result: string): void {
    this.send({ t: 'stonith', node, result });
  }

  private onFenceResult(node: string, ok: boolean, result?: 'OK' | 'badhost' | 'bad'): void {
    if (this.fence === undefined || !this.fence.waiting || node !== this.cfg.peerNode) return;
    if (!ok) {
      // A device that does not control the node says so itself (`Device D cannot reset host N.`).
      if (result !== 'badhost') this.log('ERROR', LOG.notReset(node));
      this.sendStonith(node, result ?? 'bad');
      this.log('ERROR', LOG.stonithRetry(node));
      this.fence = { deadline: this.now + this.stonithRetryMs, waiting: false };
      return;
    }
    this.fence = undefined;
    this.log('info', LOG.reset(node));
    this.sendStonith(node, 'OK');
    this.log('info', LOG.acquiringFrom(node));
    this.takeEverything('mach_down', this.groupsOf('foreign'));
  }

  /**
   * A node we declared dead talks again (same generation): both of us may run
   * the same groups. Fix of the original's restart-both (~20 s outage): the
   * owner of a group keeps it and the other releases it, so every group keeps a
   * holder throughout. nice mode learns what the peer runs from its answer to
   * our `resource ... info=partition` (so a group only we ran stays up);
   * legacy releases every group the peer owns and asks for its own with
   * ip-request, which the peer answers by releasing its copy.
   */
  private onPartitionHealed(): void {
    if (this.phase === 'init' || this.phase === 'shutdown') return;
    const n = this.cfg.peerNode;
    this.log('CRIT', LOG.partition(n));
    this.log('info', LOG.splitBrain);
    this.log('WARN', LOG.heavyLoad);
    this.log('info', LOG.faq);
    this.log('info', LOG.faqUrl);
    this.log('info', LOG.partitionKeep(n));
    this.fence = undefined;
    this.peerAlive = true;
    this.peerHeard = true;
    this.peerStable = true;
    this.peerShutdone = false;
    // What it held before the partition is stale; its answer tells us again.
    this.peerHolds = 'none';
    this.awaitingResync = this.nice;
    if (!this.nice) this.releasePeerOwned(() => undefined);
    this.resync();
  }

  /**
   * After a partition or a peer that ran alone: nice mode tells the peer what we
   * run (it answers with its own, and duplicates are dropped by the non-owner);
   * legacy asks for our own groups with ip-request, which makes the peer release them.
   */
  private resync(): void {
    if (this.nice) {
      this.sendResources(true, 'partition');
      return;
    }
    for (const g of this.groupsOf('local')) {
      this.asked.add(g.key);
      this.send({ t: 'ip-request', ipaddr: g.key });
    }
  }

  private releasePeerOwned(then: () => void): void {
    const theirs = this.groupsOf('foreign').filter((g) => this.intent.has(g.key) || this.holding.has(g.key));
    this.enqueue(this.stopOps(theirs.reverse()), then);
  }

  // ---- messages ----------------------------------------------------------

  private onMessage(m: ResourceMessage): void {
    const src = (m.src ?? '').toLowerCase();
    const t = m.t ?? '';
    if (src === this.cfg.localNode) {
      // Our own messages come back to us; the FIFO (hb_standby run by hand) is a command.
      if (t === 'ask_resources' && m.info === 'me' && isStandbyWord(m.rsc_hold) && this.standby === undefined) this.onStandbyCommand(m.rsc_hold, true);
      return;
    }
    if (src !== this.cfg.peerNode) return;
    if (this.phase === 'init' || this.phase === 'shutdown') {
      if (t === 'shutdone') this.peerShutdone = true;
      return; // before comm-up the original drops these too
    }
    this.peerHeard = true;
    switch (t) {
      case 'starting':
        return this.onPeerStarting();
      case 'resource':
        return this.onPeerResources(m);
      case 'ask_resources':
        return this.onAskResources(m);
      case 'hb_takeover':
        return this.onPeerTakeover(m);
      case 'ip-request':
        return this.onIpRequest(m);
      case 'ip-request-resp':
        return this.onIpRequestResp(m);
      case 'shutdone':
        return this.onPeerShutdone();
      default:
        return;
    }
  }

  private onPeerStarting(): void {
    this.needsFailback = true;
    this.peerAlive = true;
    this.peerStable = false;
    this.peerHolds = 'none';
    this.peerShutdone = false;
    if (!this.nice) return;
    this.sendResources(this.phase === 'stable' && this.isQuiet());
  }

  private onPeerResources(m: ResourceMessage): void {
    if (!this.nice) return;
    const hold = m.rsc_hold;
    if (isRscSet(hold)) {
      if (m.rtype === 'full' || hold === 'none') this.peerHolds = hold;
      else this.peerHolds = rscSetFromBits(hasLocal(this.peerHolds) || hasLocal(hold), hasForeign(this.peerHolds) || hasForeign(hold));
    }
    if (m.isstable === '1') this.peerStable = true;
    else if (m.isstable === '0') this.peerStable = false;
    if (m.info === 'shutdown') this.peerShutdone = true;
    if (m.info === 'partition' || m.info === 'partition-reply') this.awaitingResync = false;
    this.peerAlive = true;

    if (this.phase === 'starting') {
      // The original waits up to 10 s unless the peer is stable; a peer that holds
      // none of our groups cannot conflict with our taking them now.
      if (this.peerStable) this.log('info', LOG.remoteDone);
      if (this.peerStable || !hasForeign(this.peerHolds)) this.acquireLocalAtStart(this.peerStable ? 'T_RESOURCES(them)' : 'T_RESOURCES');
      return;
    }
    // The peer healed a partition: tell it what we run so it can drop duplicates.
    if (m.info === 'partition' && this.phase === 'stable') this.sendResources(this.isQuiet(), 'partition-reply');
  }

  /**
   * Both of us run groups the peer owns (after a healed partition): the owner
   * keeps them, we release ours. Checked after every event, once nothing moves.
   */
  private maybeDropDuplicates(): void {
    if (!this.nice || this.phase !== 'stable' || !this.peerAlive || this.awaitingResync || !this.isQuiet()) return;
    if (!hasLocal(this.peerHolds) || !this.bits.foreign) return;
    this.setBits('foreign', false);
    this.releasePeerOwned(() => this.sendResources(true));
  }

  private onPeerShutdone(): void {
    this.log('info', LOG.shutdownNotice(this.cfg.peerNode));
    this.peerShutdone = true;
    this.awaitingResync = false;
    this.peerHolds = 'none';
    this.peerStable = false;
    if (this.standby !== undefined) {
      this.log('info', LOG.cancelStandby);
      this.standby = undefined;
    }
    if (this.phase === 'starting') this.phase = 'stable';
    this.log('info', LOG.acquiringFrom(this.cfg.peerNode));
    this.takeEverything('shutdone', this.groupsOf('foreign'));
  }

  // ---- legacy ip-request ---------------------------------------------------

  private onIpRequest(m: ResourceMessage): void {
    const key = m.ipaddr;
    if (key === undefined) return;
    const group = this.cfg.groups.find((g) => g.key === key);
    const reply = (weown: 'yes' | 'no') => this.send({ t: 'ip-request-resp', dest: this.cfg.peerNode, ipaddr: key, weown, ok: 'OK' });
    if (group === undefined || (!this.intent.has(key) && !this.holding.has(key))) {
      reply('no');
      return;
    }
    this.enqueue(this.stopOps([group]), () => reply('yes'));
  }

  private onIpRequestResp(m: ResourceMessage): void {
    if ((m.dest ?? '').toLowerCase() !== this.cfg.localNode) return;
    const key = m.ipaddr;
    if (key === undefined) return;
    this.log('info', LOG.ipRequestResp(key, m.ok ?? '', m.weown ?? ''));
    const group = this.cfg.groups.find((g) => g.key === key);
    if (group === undefined || m.ok !== 'OK') return;
    this.asked.delete(key);
    this.enqueue(this.startOps([group]), () => {
      if (this.asked.size === 0) this.announceInitial('ip-request-resp');
    });
  }

  // ---- standby protocol (nice_failback only) -------------------------------

  private onStandbyCommand(word: StandbyWord, fromFifo = false): void {
    if (!this.nice) {
      this.log('info', LOG.legacyStandby);
      return;
    }
    const set = standbyClass(word);
    const me = this.cfg.localNode;
    if (!fromFifo) this.log('info', LOG.goingStandby(set));
    this.log('info', LOG.wantsStandby(me, set));
    if (this.standby !== undefined) {
      this.log('WARN', LOG.standbyBusy(me, Math.max(0, Math.ceil((this.standby.deadline - this.now) / 1000))));
      return;
    }
    if (this.phase !== 'stable' || !this.isQuiet()) {
      this.log('WARN', LOG.standbyIgnoredLocal(me));
      return;
    }
    if (!this.peerAlive || !this.peerStable) {
      this.log('WARN', LOG.standbyIgnoredOther(me));
      return;
    }
    this.standby = { role: 'me', set, stage: 'asked', deadline: this.now + this.standbyReplyMs };
    this.send({ t: 'ask_resources', rsc_hold: set, info: 'me' });
  }

  private onTakeoverCommand(word: StandbyWord): void {
    if (!this.nice) {
      this.log('info', LOG.legacyStandby);
      return;
    }
    // The peer's rc.d/hb_takeover turns this into hb_standby of the mirror class.
    this.send({ t: 'hb_takeover', rsc_hold: word });
  }

  private onPeerTakeover(m: ResourceMessage): void {
    const word = isStandbyWord(m.rsc_hold) ? m.rsc_hold : 'all';
    const set = standbyForTakeover(word);
    this.onStandbyCommand(set);
  }

  private onAskResources(m: ResourceMessage): void {
    if (!this.nice) return;
    const set = m.rsc_hold;
    if (set !== 'all' && set !== 'local' && set !== 'foreign') return;
    const peer = this.cfg.peerNode;
    const sb = this.standby;
    switch (m.info) {
      case 'me': {
        this.log('info', LOG.wantsStandby(peer, set));
        if (sb !== undefined) {
          this.log('WARN', LOG.standbyBusy(peer, Math.max(0, Math.ceil((sb.deadline - this.now) / 1000))));
          return;
        }
        if (this.phase !== 'stable' || !this.isQuiet()) {
          this.log('WARN', LOG.standbyIgnoredLocal(peer));
          return;
        }
        this.standby = { role: 'other', set, stage: 'asked', deadline: this.now + this.standbyLimitMs };
        this.send({ t: 'ask_resources', rsc_hold: set, info: 'other' });
        return;
      }
      case 'other': {
        if (sb === undefined || sb.role !== 'me' || sb.stage !== 'asked' || sb.set !== set) return;
        sb.stage = 'moving';
        sb.deadline = this.now + this.standbyLimitMs;
        this.log('info', LOG.canTake(peer, set));
        const release = this.groupsOf(set).filter((g) => this.intent.has(g.key) || this.holding.has(g.key));
        for (const g of release) this.intent.delete(g.key);
        this.setBits(set, false);
        this.sendResources(false, 'standby');
        this.log('info', LOG.giveUpStandby(set));
        this.enqueue(this.stopOps(release.reverse()), () => {
          this.log('info', LOG.releaseDoneStandby(set));
          this.send({ t: 'ask_resources', rsc_hold: set, info: 'done' });
          this.log('info', LOG.localStandbyDone(set));
        });
        return;
      }
      case 'done': {
        if (sb === undefined) return;
        if (sb.role === 'me' && sb.stage === 'moving' && this.jobs.length === 0 && this.current === undefined) {
          this.log('info', LOG.otherTookOver(set));
          this.standby = undefined;
          this.sendResources(true);
          return;
        }
        if (sb.role === 'other' && sb.stage === 'asked') {
          sb.stage = 'moving';
          const cls = mirrorClass(sb.set);
          this.log('info', LOG.acquireFrom(set, peer));
          this.log('info', LOG.acquireStandby(cls));
          // The peer released its share of the class; we take ours of the same groups.
          this.peerHolds = this.peerHoldsAfterRelease(sb.set);
          this.enqueue(this.startOps(this.groupsOf(cls)), () => {
            this.setBits(cls, true);
            this.log('info', LOG.acquireDoneStandby(cls));
            this.send({ t: 'ask_resources', rsc_hold: set, info: 'done' });
            this.log('info', LOG.standbyAcquired(set));
            this.standby = undefined;
            this.sendResources(true);
          });
        }
        return;
      }
      default:
        return;
    }
  }

  /** What the peer still holds after giving away `set` (its own point of view). */
  private peerHoldsAfterRelease(set: Cls): RscSet {
    const local = hasLocal(this.peerHolds) && !hasLocal(set);
    const foreign = hasForeign(this.peerHolds) && !hasForeign(set);
    return rscSetFromBits(local, foreign);
  }

  /**
   * auto_failback on: we hold groups the (now stable) peer owns, so hand them
   * back through the standby protocol, as the original's auto failback does.
   */
  private maybeAutoFailback(): void {
    if (!this.needsFailback) return;
    if (this.cfg.autoFailback !== 'on' || this.phase !== 'stable' || !this.peerAlive || !this.peerStable) return;
    if (this.standby !== undefined || !this.isQuiet()) return;
    this.needsFailback = false;
    if (!this.bits.foreign) return;
    if (hasLocal(this.peerHolds)) return; // it already runs its groups: the overlap rule applies
    this.log('debug', LOG.autoFailback);
    this.onStandbyCommand('foreign', true);
  }

  // ---- shutdown ----------------------------------------------------------

  private onShutdown(): void {
    if (this.phase === 'shutdown') return;
    if (this.standby !== undefined) {
      this.log('info', LOG.cancelStandby);
      this.standby = undefined;
    }
    this.fence = undefined;
    this.requestDeadline = undefined;
    this.jobs.length = 0; // queued work is moot: everything is given up
    if (this.current !== undefined) {
      this.log('WARN', LOG.shutdownDelayed);
      this.shutdownPending = true;
      return;
    }
    this.beginShutdown();
  }

  private beginShutdown(): void {
    const wasUp = this.phase !== 'init';
    this.phase = 'shutdown';
    this.shutdownPending = false;
    if (!wasUp && this.holding.size === 0) {
      this.out.push({ kind: 'shutdown-done' });
      return;
    }
    this.setBits('all', false);
    if (this.nice) this.send({ t: 'resource', rsc_hold: 'none', rtype: 'full', isstable: '0', info: 'shutdown' });
    this.log('info', LOG.givingUpAll);
    // Like the original, stop every group in the file, held or not (stop must be idempotent).
    this.enqueue(this.stopOps([...this.cfg.groups].reverse(), true), () => {
      this.log('info', LOG.allRelinquished);
      this.send({ t: 'shutdone', st: 'dead' });
      this.out.push({ kind: 'shutdown-done' });
    });
  }

  // ---- timers ------------------------------------------------------------

  private nextDeadline(): number | undefined {
    if (this.phase === 'escalated') return undefined;
    const ds: number[] = [];
    if (this.requestDeadline !== undefined) ds.push(this.requestDeadline);
    if (this.standby !== undefined) ds.push(this.standby.deadline);
    if (this.fence?.deadline !== undefined) ds.push(this.fence.deadline);
    return ds.length === 0 ? undefined : Math.min(...ds);
  }

  private runTimers(): void {
    if (this.requestDeadline !== undefined && this.now >= this.requestDeadline) {
      this.requestDeadline = undefined;
      if (this.phase === 'starting') {
        this.log('info', LOG.localTransitionDone);
        this.acquireLocalAtStart('RQSTDELAY');
      }
    }
    const sb = this.standby;
    if (sb !== undefined && this.now >= sb.deadline) {
      if (sb.role === 'me' && sb.stage === 'asked') this.log('WARN', LOG.noReply);
      // A hand-over whose groups are still moving finishes its queue; only the protocol state goes.
      this.standby = undefined;
    }
    const f = this.fence;
    if (f !== undefined && f.deadline !== undefined && this.now >= f.deadline && this.cfg.stonithDevice !== undefined) {
      this.fence = { deadline: undefined, waiting: true };
      this.log('info', LOG.resetting(this.cfg.peerNode, this.cfg.stonithDevice));
      this.out.push({ kind: 'fence', node: this.cfg.peerNode, device: this.cfg.stonithDevice });
    }
  }
}

/** Script calls of a group: start left to right, stop right to left (ResourceManager). */
export function groupCalls(group: ResourceGroup, action: 'start' | 'stop'): ScriptCall[] {
  const calls = group.resources.map((r) => ({ resource: r.token, script: r.script, args: r.args, action }));
  return action === 'start' ? calls : calls.reverse();
}
