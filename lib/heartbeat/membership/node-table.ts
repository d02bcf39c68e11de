/**
 * What the machine remembers about each node and each of its links.
 */
import { SequenceTracker } from './sequence.js';
import type { LinkStatus, MembershipConfig, NodeKind, NodeStatus, NodeView } from './types.js';

export interface LinkState {
  readonly name: string;
  status: LinkStatus;
  /** Last time any packet (duplicates included) arrived on this link. */
  lastHeard: number;
}

export interface NodeState {
  readonly name: string;
  readonly kind: NodeKind;
  readonly isLocal: boolean;
  status: NodeStatus;
  /** Its dead time: the `dt` it last advertised, else our deadtime (deadping for ping nodes). */
  deadtimeMs: number;
  /** Last time a status packet was processed (start time until then): the death clock. */
  lastStatusAt: number;
  /** False right after a restart was seen: the next status must not be judged late. */
  lateCheckArmed: boolean;
  /** Any packet since start or since it was declared dead (counts towards comm-up). */
  anyPacketsYet: boolean;
  /** seq and `ts` of the last status processed, for stale and out-of-order status. */
  lastStatusSeq: number;
  lastRemoteTime: number;
  /** False after it announced `shutdone`: it holds nothing any more. */
  mayHoldResources: boolean;
  readonly sequence: SequenceTracker;
  readonly links: LinkState[];
}

export function newNode(name: string, kind: NodeKind, isLocal: boolean, deadtimeMs: number, links: readonly string[]): NodeState {
  return {
    name,
    kind,
    isLocal,
    status: 'init',
    deadtimeMs,
    lastStatusAt: 0,
    lateCheckArmed: true,
    anyPacketsYet: false,
    lastStatusSeq: 0,
    lastRemoteTime: 0,
    mayHoldResources: true,
    sequence: new SequenceTracker(),
    // Links start dead, so the first packet logs "Link node:if up." as the original does.
    links: links.map((l) => ({ name: l, status: 'dead', lastHeard: 0 })),
  };
}

/** Normal nodes in ha.cf order, then ping nodes. */
export function buildNodeTable(c: MembershipConfig): NodeState[] {
  const normal = c.nodes.map((n) =>
    newNode(n, 'normal', n === c.localNode, c.deadtimeMs, c.linksByNode?.[n] ?? c.media),
  );
  const ping = (c.pingNodes ?? []).map((n) => newNode(n, 'ping', false, c.deadpingMs ?? c.deadtimeMs, [n]));
  return [...normal, ...ping];
}

export function viewOf(n: NodeState): NodeView {
  return {
    name: n.name,
    kind: n.kind,
    status: n.status,
    generation: n.sequence.generation,
    deadtimeMs: n.deadtimeMs,
    links: n.links.map((l) => ({ name: l.name, status: l.status })),
  };
}
