/**
 * The demo cluster's configuration, as data and as the text of each node's
 * ha.cf, authkeys and haresources (pure: no I/O). Two modes:
 *  - `netns` (root): each node in network, UTS, mount and PID namespaces of
 *    its own, eth0 on a private bridge, heartbeats over ucast on the standard
 *    port, and the group `IPaddr2` service address + web service;
 *  - `loopback` (any user): both nodes on this machine's loopback, heartbeats
 *    over multicast on `lo` (two processes can share a multicast group and
 *    port, not a unicast one), and the group is the web service alone, which
 *    binds the service address 127.0.0.x itself: 127.0.0.0/8 is all local,
 *    so no address needs adding and only the holder listens on it.
 */
import { HbError } from '../shared/errors.js';

export type DemoMode = 'netns' | 'loopback';

export const DemoErrorCode = {
  /** A step did not finish within its bound. */
  Timeout: 'DEMO_TIMEOUT',
  /** A tool or permission the mode needs is missing. */
  Unavailable: 'DEMO_UNAVAILABLE',
  /** A command the demo ran failed. */
  Command: 'DEMO_COMMAND',
  /** Bad command-line input. */
  Usage: 'DEMO_USAGE',
} as const;
export type DemoErrorCode = (typeof DemoErrorCode)[keyof typeof DemoErrorCode];

export class DemoError extends HbError {
  constructor(code: DemoErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'DemoError';
  }
}

export interface DemoNode {
  readonly name: string;
  /** netns: eth0's address; loopback: the node's own 127.0.0.x (where its web service also answers). */
  readonly address: string;
}

export interface DemoTimings {
  readonly keepaliveMs: number;
  readonly warntimeS: number;
  readonly deadtimeS: number;
  readonly initdeadS: number;
}

export interface DemoPlan {
  readonly mode: DemoMode;
  readonly nodes: readonly [DemoNode, DemoNode];
  /** Where clients reach the service: the service IP (netns) or 127.0.0.x (loopback). */
  readonly serviceAddress: string;
  readonly servicePort: number;
  /** netns: the client namespace's address. */
  readonly clientAddress?: string;
  /** Prefix length of the demo subnet (netns). */
  readonly prefixLength: number;
  /** Heartbeat port: udpport (netns, ucast) or the multicast port (loopback). */
  readonly hbPort: number;
  /** loopback: the multicast group on lo. */
  readonly mcastGroup: string;
  readonly timings: DemoTimings;
  readonly autoFailback: boolean;
  /** The authkeys secret (random per run; never printed). */
  readonly secret: string;
}

export const DEMO_TIMINGS: DemoTimings = { keepaliveMs: 200, warntimeS: 1, deadtimeS: 2, initdeadS: 4 };

export interface PlanOptions {
  readonly mode: DemoMode;
  readonly secret: string;
  /** netns: third octet of 10.<a>.<b>.0/24 (the subnet is private to the demo's namespaces). */
  readonly subnet?: string;
  /** loopback: base of the heartbeat and web ports (unprivileged; default 17694 / 18080). */
  readonly hbPort?: number;
  readonly webPort?: number;
  /** loopback: 127.<x>.<y>. prefix for the addresses (default 127.0.0). */
  readonly loopbackNet?: string;
  readonly autoFailback?: boolean;
  readonly timings?: DemoTimings;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function checkNet(what: string, net: string): string {
  const m = IPV4.exec(net);
  if (m === null || m.slice(1).some((o) => Number(o) > 255)) throw new DemoError(DemoErrorCode.Usage, `${what}: ${JSON.stringify(net)} is not the first three octets of an IPv4 address`);
  return net;
}

function checkPort(what: string, port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new DemoError(DemoErrorCode.Usage, `${what}: ${port} is not a port number`);
  return port;
}

export function makePlan(o: PlanOptions): DemoPlan {
  const timings = o.timings ?? DEMO_TIMINGS;
  const common = { secret: o.secret, timings, autoFailback: o.autoFailback ?? true, mcastGroup: '239.255.77.1' };
  if (o.mode === 'netns') {
    const net = checkNet('subnet', o.subnet ?? '10.88.0');
    return {
      ...common,
      mode: 'netns',
      nodes: [
        { name: 'node1', address: `${net}.11` },
        { name: 'node2', address: `${net}.12` },
      ],
      serviceAddress: `${net}.100`,
      servicePort: checkPort('web port', o.webPort ?? 80),
      clientAddress: `${net}.20`,
      prefixLength: 24,
      hbPort: checkPort('heartbeat port', o.hbPort ?? 694),
    };
  }
  const net = checkNet('loopback net', o.loopbackNet ?? '127.0.0');
  if (!net.startsWith('127.')) throw new DemoError(DemoErrorCode.Usage, `loopback net ${net} is not in 127.0.0.0/8`);
  return {
    ...common,
    mode: 'loopback',
    nodes: [
      { name: 'node1', address: `${net}.11` },
      { name: 'node2', address: `${net}.12` },
    ],
    serviceAddress: `${net}.100`,
    servicePort: checkPort('web port', o.webPort ?? 18080),
    prefixLength: 8,
    hbPort: checkPort('heartbeat port', o.hbPort ?? 17694),
  };
}

/** The haresources line: node1 owns the group. */
export function haresourcesText(plan: DemoPlan): string {
  const web = `hbdemo-web::${plan.serviceAddress}::${plan.servicePort}`;
  const group = plan.mode === 'netns' ? `IPaddr2::${plan.serviceAddress}/${plan.prefixLength}/eth0 ${web}` : web;
  return `# hb-demo: node1 is the preferred holder of one group\n${plan.nodes[0].name} ${group}\n`;
}

export function authkeysText(plan: DemoPlan): string {
  return `auth 1\n1 sha1 ${plan.secret}\n`;
}

/**
 * ha.cf for `node`. `logfile` is where the node's ha-log goes as the daemon
 * sees it (/var/log/ha-log inside a namespace; a per-node file in loopback).
 */
export function hacfText(plan: DemoPlan, node: DemoNode, logfile: string): string {
  const t = plan.timings;
  const lines = [
    `# hb-demo ${plan.mode} cluster, ${node.name}`,
    `logfile ${logfile}`,
    'logfacility none',
    `keepalive ${t.keepaliveMs}ms`,
    `warntime ${t.warntimeS}`,
    `deadtime ${t.deadtimeS}`,
    `initdead ${t.initdeadS}`,
  ];
  if (plan.mode === 'netns') {
    lines.push(`udpport ${plan.hbPort}`);
    for (const peer of plan.nodes) if (peer.name !== node.name) lines.push(`ucast eth0 ${peer.address}`);
  } else {
    // group, port, ttl 1, loop 1: both daemons share lo, so each must hear the other's (and its own) packets.
    lines.push(`mcast lo ${plan.mcastGroup} ${plan.hbPort} 1 1`);
  }
  lines.push(`auto_failback ${plan.autoFailback ? 'on' : 'off'}`, 'crm off');
  for (const n of plan.nodes) lines.push(`node ${n.name}`);
  return lines.join('\n') + '\n';
}
