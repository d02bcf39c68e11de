/**
 * Inputs and outputs of the resource manager core (lib/resources/machine.ts).
 * Like the membership machine it never reads a clock, spawns a script or
 * sends a packet: the shell feeds events stamped with a monotonic time in ms
 * and carries out the actions. Messages are plain objects with the wire field
 * names of heartbeat 3.0.6 (heartbeat-wire.md §5), so the shell only encodes.
 */
import type { ResourceGroup } from '../config/haresources/parse.js';

/** `rsc_hold` values and cl_status rscstatus classes, relative to the node that says them. */
export type RscSet = 'none' | 'local' | 'foreign' | 'all';
/** What hb_standby / hb_takeover accept (`failback` = foreign for hb_standby). */
export type StandbyWord = 'all' | 'local' | 'foreign' | 'failback';
export type RscStatus = RscSet | 'transition';
export type AutoFailback = 'on' | 'off' | 'legacy';

export interface ResourceManagerConfig {
  /** This node, lowercase. */
  readonly localNode: string;
  /** The other node of the 2-node cluster, lowercase. */
  readonly peerNode: string;
  /** haresources groups in file order (node names lowercased by the parser). */
  readonly groups: readonly ResourceGroup[];
  readonly autoFailback: AutoFailback;
  /** Whether `stonith`/`stonith_host` configures a device for the peer; its name for the log line. */
  readonly stonithDevice?: string;
  /** Last step when a stop keeps failing on a resource still running (original: `reboot -nf`). */
  readonly stopFailureCommand?: readonly string[];
  /** Fallback for a peer that never says it is stable at start-up (original RQSTDELAY, 10 s). */
  readonly requestDelayMs?: number;
  /** How long a standby requester waits for the `other` answer (original 10 s). */
  readonly standbyReplyMs?: number;
  /** Cap on a standby hand-over once agreed (original 1 h). */
  readonly standbyLimitMs?: number;
  /** Delay between STONITH attempts (original 5 s). */
  readonly stonithRetryMs?: number;
  /**
   * `heartbeat -R [-C CLASS]`: a restarted daemon that kept its resources. The
   * groups of CLASS count as held (nothing is started), no start-up
   * acquisition runs, and (nice mode) CLASS is what we advertise.
   */
  readonly restarted?: RscSet;
}

/** A message as the wire carries it: `t`, `src`, `rsc_hold`, `info`, … (strings only). */
export type ResourceMessage = Readonly<Record<string, string>>;

/** One resource script call, in the order the shell must run them. */
export interface ScriptCall {
  /** The haresources token (`IPaddr::10.0.0.1/24`), as logged. */
  readonly resource: string;
  readonly script: string;
  readonly args: readonly string[];
  readonly action: 'start' | 'stop';
}

export type GroupOutcome =
  /** Every resource runs (started or already running). */
  | 'started'
  /** A start failed; the runner already stopped the whole group (ResourceManager givegroup). */
  | 'start-failed'
  /** Every resource stopped (or judged not running after failed stops). */
  | 'stopped'
  /** A stop kept failing and status still says running: this node may hold it. */
  | 'stop-failed';

export type ResourceEvent =
  /**
   * Membership is settled (every node heard from or declared dead).
   * `peer`: `active` = the peer's heartbeat is up and can answer;
   * `up` = heard but not active yet; `dead` = initdead expired.
   */
  | { readonly kind: 'comm-up'; readonly now: number; readonly peer: 'active' | 'up' | 'dead' }
  /** The peer came (back) with a new generation: a restart, holding nothing. */
  | { readonly kind: 'peer-alive'; readonly now: number }
  /** The peer was declared dead (deadtime). */
  | { readonly kind: 'peer-dead'; readonly now: number }
  /** A peer we had declared dead talks again with the same generation: the partition healed. */
  | { readonly kind: 'partition-healed'; readonly now: number }
  /** A resource message (`starting`, `resource`, `ask_resources`, `ip-request`, `ip-request-resp`, `hb_takeover`, `shutdone`). */
  | { readonly kind: 'message'; readonly now: number; readonly message: ResourceMessage }
  /** Local hb_standby / hb_takeover. */
  | { readonly kind: 'command'; readonly now: number; readonly command: 'standby' | 'takeover'; readonly set: StandbyWord }
  /** Graceful stop of this node (heartbeat -k, SIGTERM). */
  | { readonly kind: 'shutdown'; readonly now: number }
  | { readonly kind: 'group-result'; readonly now: number; readonly id: number; readonly outcome: GroupOutcome; readonly failed?: string }
  /** The fence's outcome; `result` is the `t=stonith` message's (default OK / bad from `ok`; `badhost`: no device controls the node). */
  | { readonly kind: 'fence-result'; readonly now: number; readonly node: string; readonly ok: boolean; readonly result?: 'OK' | 'badhost' | 'bad' }
  | { readonly kind: 'tick'; readonly now: number };

export type LogLevel = 'debug' | 'info' | 'WARN' | 'ERROR' | 'CRIT';

export type ResourceAction =
  /** Run one group: start left to right (status first, skip if running) or stop right to left. */
  | { readonly kind: 'run-group'; readonly id: number; readonly op: 'start' | 'stop'; readonly key: string; readonly node: string; readonly calls: readonly ScriptCall[] }
  /** Broadcast (or, with `dest`, address) a cluster message; the shell adds src/seq/hg/ts/auth. */
  | { readonly kind: 'send'; readonly message: ResourceMessage }
  | { readonly kind: 'rscstatus'; readonly value: RscStatus }
  | { readonly kind: 'log'; readonly level: LogLevel; readonly text: string }
  /** Reset the peer with the STONITH device; answer with a `fence-result` event. */
  | { readonly kind: 'fence'; readonly node: string; readonly device: string }
  /** A stop failed on a resource that still runs: kill heartbeat and run this (reboot). */
  | { readonly kind: 'escalate'; readonly resource: string; readonly command: readonly string[] }
  /** Everything released after a `shutdown` event: the daemon may leave. */
  | { readonly kind: 'shutdown-done' };

export interface ResourceStep {
  readonly actions: readonly ResourceAction[];
  /** When to send the next `tick`; undefined when nothing is timed. */
  readonly nextDeadline: number | undefined;
}
