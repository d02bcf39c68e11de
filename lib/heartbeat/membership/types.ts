/**
 * Inputs and outputs of the membership state machine. These are our own small
 * types on purpose: the machine does not depend on the ha.cf model or on the
 * wire codec, so the shell adapts both to these shapes.
 *
 * Every time is an integer count of milliseconds on one monotonic clock that
 * the shell owns (e.g. `performance.now()` rounded); the machine never reads a
 * clock itself.
 */

/** What a node is, as ha.cf declares it: `node` lines are normal, `ping`/`ping_group` are ping nodes. */
export type NodeKind = 'normal' | 'ping';

export interface MembershipConfig {
  /** This node's name, lowercase (uname -n or nodeinfo). It must be one of `nodes`. */
  readonly localNode: string;
  /** Every `node` name in ha.cf order, lowercase, the local node included. */
  readonly nodes: readonly string[];
  /** Ping nodes (`ping` / `ping_group` names); each has one link named after itself. */
  readonly pingNodes?: readonly string[];
  /**
   * Names of the non-ping media as the original names its links: the device for
   * bcast/ucast/mcast (`eth0`), the tty path for serial (`/dev/ttyS0`). Every
   * normal node has one link per medium.
   */
  readonly media: readonly string[];
  /** Per-node override of `media`, for tests and unusual set-ups. */
  readonly linksByNode?: Readonly<Record<string, readonly string[]>>;
  readonly keepaliveMs: number;
  readonly warntimeMs: number;
  readonly deadtimeMs: number;
  /** Dead time used for every node until all nodes were heard or declared dead. */
  readonly initdeadMs: number;
  /** Dead time of ping nodes; defaults to deadtimeMs as in ha.cf. */
  readonly deadpingMs?: number;
}

/** Statuses a node can have in the table; peers may send any string, kept as is. */
export type NodeStatus = 'init' | 'up' | 'active' | 'dead' | 'ping' | (string & {});
/** What we advertise about ourselves. */
export type LocalStatus = 'init' | 'up' | 'active';
export type LinkStatus = 'up' | 'dead';

/** One decoded, authenticated packet as the wire layer hands it over. */
export interface ReceivedPacket {
  /** `src`, exactly as sent (compared case-sensitively, like the original). */
  readonly from: string;
  /** Link (medium name) it arrived on; absent or unknown: no link bookkeeping. */
  readonly link?: string;
  /** `t` field, e.g. `status`, `NS_st`, `shutdone`, `reqnodes`. */
  readonly type: string;
  /** `seq` parsed from hex; required for every type not starting with `NS_`. */
  readonly seq?: number;
  /** `hg` parsed from hex; absent counts as 0 as in the original. */
  readonly generation?: number;
  /** `st` field of status packets. */
  readonly status?: string;
  /** `dt` parsed from hex (ms): the sender's own dead time. */
  readonly advertisedDeadtimeMs?: number;
  /** `ts` parsed from hex (sender's wall clock, seconds). */
  readonly remoteTime?: number;
  /** False when `dest`/`destuuid` names another node (sequence-tracked, not delivered). */
  readonly toUs?: boolean;
  /** Any other protocol fields, raw (`protocol`, `nodelist`, …). */
  readonly fields?: Readonly<Record<string, string>>;
  /** Opaque handle echoed back in the `deliver` action. */
  readonly ref?: unknown;
}

export type MembershipEvent =
  /** The media are open: start sending and timing. */
  | { readonly kind: 'start'; readonly now: number }
  /** The shell's single timer fired (or any other moment it wants to advance time). */
  | { readonly kind: 'tick'; readonly now: number }
  | { readonly kind: 'packet'; readonly now: number; readonly packet: ReceivedPacket }
  /** Local graceful stop, after the resource layer released what it held. */
  | { readonly kind: 'shutdown'; readonly now: number };

export type LogLevel = 'debug' | 'info' | 'WARN' | 'ERROR' | 'CRIT';

export type MembershipAction =
  /** Send `t=status` on every medium (the shell adds seq, hg, ts, auth…). */
  | { readonly kind: 'sendStatus'; readonly status: LocalStatus; readonly deadtimeMs: number; readonly protocol: boolean }
  | { readonly kind: 'sendReqnodes'; readonly dest: string }
  | { readonly kind: 'sendRepnodes'; readonly dest: string; readonly nodelist: readonly string[]; readonly delnodelist: readonly string[] }
  /** `t=shutdone st=dead`: we gave everything up and are leaving. */
  | { readonly kind: 'sendShutdone' }
  | { readonly kind: 'localStatus'; readonly status: LocalStatus }
  /** All nodes heard or dead and the node list exchanged: start resources, open the API socket. */
  | { readonly kind: 'commUp' }
  | {
      readonly kind: 'nodeStatus';
      readonly node: string;
      readonly nodeKind: NodeKind;
      readonly status: NodeStatus;
      readonly previous: NodeStatus;
      /** True when the node announced `shutdone` before it went silent (no STONITH needed). */
      readonly gaveUpResources: boolean;
    }
  | { readonly kind: 'linkStatus'; readonly node: string; readonly link: string; readonly status: LinkStatus }
  /** A higher generation: the peer's daemon restarted (it may still hold resources). */
  | { readonly kind: 'peerRestarted'; readonly node: string; readonly generation: number }
  /** A node we had declared dead speaks again with the same generation: split brain healed. */
  | { readonly kind: 'partitionHealed'; readonly node: string }
  | { readonly kind: 'peerShutdown'; readonly node: string }
  /**
   * A sequenced (non-`NS_`) packet was accepted, addressed to us or not: what
   * the ACK policy and the retransmission layer (lib/heartbeat/seq) need.
   */
  | {
      readonly kind: 'sequenced';
      readonly node: string;
      readonly seq: number;
      readonly order: 'inOrder' | 'gap' | 'filledGap' | 'reset';
      /** Lowest seq still missing from that node after this packet. */
      readonly firstMissing: number | undefined;
      /** Highest seq accepted from that node. */
      readonly lastSeq: number | undefined;
    }
  /**
   * The node answered a retransmission request with `NS_nak_rexmit`: `seq` is
   * gone for good and no longer counted missing (the seq layer logs it).
   */
  | { readonly kind: 'nakReceived'; readonly node: string; readonly seq: number; readonly toUs: boolean }
  /** Sequence gap: the retransmission layer should ask for these numbers. */
  | { readonly kind: 'missingPackets'; readonly node: string; readonly firstSeq: number; readonly lastSeq: number }
  /**
   * An accepted packet addressed to us, for the layers above (resources, API,
   * retransmission). Before comm-up only `NS_*`, `shutdone` and the node-admin
   * types are delivered.
   */
  | { readonly kind: 'deliver'; readonly node: string; readonly type: string; readonly ref: unknown }
  | { readonly kind: 'flowControlDisabled'; readonly node: string }
  /** We did not manage to send our own heartbeat within our dead time. */
  | { readonly kind: 'localHeartbeatLost' }
  /** The graceful shutdown is complete: the shell stops. */
  | { readonly kind: 'exit' }
  | { readonly kind: 'log'; readonly level: LogLevel; readonly text: string };

export interface Step {
  readonly actions: readonly MembershipAction[];
  /**
   * When the shell must call `tick` next (absolute, same clock). Always later
   * than the event's time; undefined when nothing is pending (not started, or exited).
   */
  readonly nextDeadline: number | undefined;
}

/** Why packets were ignored; for statistics and tests. */
export interface MembershipCounters {
  unknownNode: number;
  badSequence: number;
  replayedGeneration: number;
  staleAfterDeath: number;
  oldDuplicate: number;
  duplicate: number;
  olderStatus: number;
  notForUs: number;
  clockWentBack: number;
  /** Resource/script messages that arrived before comm-up: lost, as in the original. */
  beforeCommUp: number;
}

export interface LinkView {
  readonly name: string;
  readonly status: LinkStatus;
}

export interface NodeView {
  readonly name: string;
  readonly kind: NodeKind;
  readonly status: NodeStatus;
  readonly generation: number;
  readonly deadtimeMs: number;
  readonly links: readonly LinkView[];
}
