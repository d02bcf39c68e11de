/**
 * What the API answers from: a read-only view of the daemon's state. The
 * daemon implements it over its membership and resource cores; tests hand in
 * a fixed one. Every method is called per request, so answers are live.
 */

/** Node types as the API names them (`unknown` never occurs for configured nodes). */
export type ApiNodeType = 'normal' | 'ping' | 'unknown';

/** `rsc_hold` values of `getrsc` (`transition` while resources move). */
export type ResourceState = 'none' | 'local' | 'foreign' | 'all' | 'transition';

export interface ApiLink {
  /** Medium name: the interface (`eth0`), the tty, or for a ping node its address. */
  readonly name: string;
  /** `up` or `dead` (whatever string the daemon keeps is passed through). */
  readonly status: string;
  /** A ping medium's link on a normal node: not listed by `iflist`. */
  readonly isPing?: boolean;
}

export interface ApiNode {
  /** Lowercase, as the daemon stores node names. */
  readonly name: string;
  readonly type: ApiNodeType;
  /** `init`, `up`, `active`, `dead`, `ping`, ... as the daemon keeps it. */
  readonly status: string;
  /** `weight` directive; 100 when not set. */
  readonly weight?: number;
  /** `site` directive; empty when not set. */
  readonly site?: string;
  /** In media order. */
  readonly links: readonly ApiLink[];
}

export interface SignonInfo {
  readonly deadtimeMs: number;
  readonly keepaliveMs: number;
  /** syslog facility number of `logfacility`, -1 when none. */
  readonly logFacility: number;
  /** `hbversion`, e.g. HB_VERSION_STRING. */
  readonly hbVersion: string;
}

export interface ClusterView {
  /** Our node name (lowercase). */
  localNode(): string;
  signonInfo(): SignonInfo;
  /** Every node in the daemon's node table order (config order, then learnt nodes). */
  nodes(): readonly ApiNode[];
  /**
   * A ha.cf parameter as `getparm` reports it (the value as configured, or the
   * default the daemon derived), or undefined when it has none. `pacemaker`
   * must be defined: the signon reply carries it.
   */
  parameter(name: string): string | undefined;
  /** What we hold, or undefined when resources are not ours to manage (pacemaker). */
  resourceState(): ResourceState | undefined;
  /** Named clients running on this node besides API connections (e.g. respawned ipfail). */
  localClients(): readonly string[];
}

/** A fixed snapshot as a ClusterView (tests, tools, and a daemon that rebuilds it on change). */
export interface ClusterSnapshot {
  readonly localNode: string;
  readonly signon: SignonInfo;
  readonly nodes: readonly ApiNode[];
  readonly parameters: Readonly<Record<string, string>>;
  readonly resources?: ResourceState;
  readonly localClients?: readonly string[];
}

export function fixedClusterView(s: ClusterSnapshot): ClusterView {
  return {
    localNode: () => s.localNode,
    signonInfo: () => s.signon,
    nodes: () => s.nodes,
    parameter: (name) => (Object.prototype.hasOwnProperty.call(s.parameters, name) ? s.parameters[name] : undefined),
    resourceState: () => s.resources,
    localClients: () => s.localClients ?? [],
  };
}
