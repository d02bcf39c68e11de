/** The normalized ha.cf model: every time in milliseconds, every default derived. */

/** Where a directive came from, so later checks can point at it. */
export interface Located {
  readonly line: number;
}

export type Medium =
  | (Located & { readonly type: 'bcast'; readonly device: string; readonly port: number })
  | (Located & { readonly type: 'ucast'; readonly device: string; readonly peer: string; readonly port: number })
  | (Located & { readonly type: 'ucast6'; readonly device: string; readonly peer: string; readonly port: number })
  | (Located & {
      readonly type: 'mcast' | 'mcast6';
      readonly device: string;
      readonly group: string;
      readonly port: number;
      readonly ttl: number;
      readonly loop: boolean;
    })
  | (Located & { readonly type: 'serial'; readonly device: string; readonly baud: number });

/** `ping`/`ping6` addresses and `ping_group` sets: pseudo-nodes, not media of the cluster. */
export interface PingNode extends Located {
  readonly type: 'ping' | 'ping6' | 'ping_group';
  /** The node name heartbeat gives it: the address, or the group name. */
  readonly name: string;
  readonly addresses: readonly string[];
}

/** A `respawn` or `failfast` client child. */
export interface ClientChild extends Located {
  readonly user: string;
  /** The whole command line as written. */
  readonly command: string;
  /** The program: the command's first word, an absolute path. */
  readonly path: string;
  /** `failfast`: the node reboots when it dies. */
  readonly failfast: boolean;
  /** Added by `pacemaker`/`crm`, not written in the file. */
  readonly implicit: boolean;
}

export interface ApiAuth extends Located {
  readonly client: string;
  readonly uids: readonly string[];
  readonly gids: readonly string[];
  /** A built-in default or one `pacemaker` adds; line is then that directive's line or 0. */
  readonly implicit: boolean;
}

export interface Stonith extends Located {
  readonly type: string;
  readonly configFile: string;
}

export interface StonithHost extends Located {
  /** Lowercased host name, or `*` for every node. */
  readonly host: string;
  readonly type: string;
  readonly params: string;
}

export type AutoFailback = 'on' | 'off' | 'legacy';
export type PacemakerMode = 'off' | 'on' | 'respawn' | 'minimal' | 'manual' | 'ccm-only' | 'valgrind';
export type AutoJoin = 'none' | 'other' | 'any';

export interface Timings {
  readonly keepaliveMs: number;
  readonly deadtimeMs: number;
  readonly warntimeMs: number;
  readonly initdeadMs: number;
  readonly deadpingMs: number;
}

export interface Logging {
  readonly logfile: string | undefined;
  readonly debugfile: string | undefined;
  /** Syslog facility name; `none` disables syslog. */
  readonly logfacility: string | undefined;
  /** Whether logd is used, after the original's rule (no log destination at all means logd). */
  readonly useLogd: boolean;
  readonly syslogmsgfmt: boolean;
  readonly connLogdTimeMs: number;
  readonly logBadpack: boolean;
}

export interface HaCf {
  /** Declared cluster node names, lowercased, in file order, without duplicates. */
  readonly nodes: readonly string[];
  readonly media: readonly Medium[];
  readonly pingNodes: readonly PingNode[];
  readonly timings: Timings;
  readonly udpport: number;
  readonly baud: number;
  readonly autoFailback: AutoFailback;
  readonly pacemaker: PacemakerMode;
  /** False when pacemaker/crm is on: haresources is then not used at all. */
  readonly manageResources: boolean;
  readonly autojoin: AutoJoin;
  readonly respawn: readonly ClientChild[];
  readonly apiauth: readonly ApiAuth[];
  readonly stonith: readonly Stonith[];
  readonly stonithHost: readonly StonithHost[];
  /** `env NAME=VALUE`, exported to children as `HA_NAME`. */
  readonly env: readonly { readonly name: string; readonly value: string }[];
  readonly logging: Logging;
  readonly debug: number;
  readonly realtime: boolean;
  readonly rtprio: number | undefined;
  readonly watchdog: string | undefined;
  readonly hopfudge: number;
  readonly hbgenmethod: 'file' | 'time';
  readonly msgfmt: 'classic' | 'netstring';
  readonly compression: string;
  readonly compressionThresholdKb: number;
  readonly traditionalCompression: boolean;
  readonly coredumps: boolean;
  readonly coreroot: string | undefined;
  readonly maxRexmitDelayMs: number;
  readonly memreserveKb: number;
  readonly cluster: string;
  readonly quorumServer: string | undefined;
  readonly uuidfrom: 'file' | 'nodename';
  readonly useApphbd: boolean;
  /** Pacemaker-only settings kept as written (crm_daemon_dir, crmd_spawns_pengine, record_*, enable_config_writes). */
  readonly pacemakerSettings: Readonly<Record<string, string>>;
}
