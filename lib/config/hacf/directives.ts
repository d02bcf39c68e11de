/**
 * Every ha.cf directive Heartbeat 3.0.6 knows (config.c's Directives[] and
 * WLdirectives[] plus the HBcomm media plugins Debian ships), by how its line is read.
 */

/** `name v1 v2 ...`: values split on blanks, tabs and commas, each applied in turn. */
export const VALUE_DIRECTIVES: readonly string[] = [
  'cluster', 'quorum_server', 'node', 'hopfudge', 'keepalive', 'deadtime', 'deadping', 'initdead', 'warntime',
  'watchdog', 'baud', 'udpport', 'logfacility', 'logfile', 'debugfile', 'nice_failback', 'auto_failback',
  'rtprio', 'hbgenmethod', 'realtime', 'debug', 'msgfmt', 'use_logd', 'conn_logd_time', 'use_apphbd',
  'log_badpack', 'syslogmsgfmt', 'coredumps', 'coreroot', 'crm_daemon_dir', 'crmd_spawns_pengine', 'crm',
  'pacemaker', 'autojoin', 'uuidfrom', 'compression', 'compression_threshold', 'traditional_compression', 'env',
  'max_rexmit_delay', 'record_config_changes', 'record_pengine_inputs', 'enable_config_writes', 'memreserve',
];

/** `name rest-of-line`: the rest is one argument, commas included. */
export const WHOLE_LINE_DIRECTIVES: readonly string[] = ['stonith', 'stonith_host', 'apiauth', 'respawn', 'failfast'];

export const MEDIA_DIRECTIVES: readonly string[] = ['bcast', 'ucast', 'ucast6', 'mcast', 'mcast6', 'serial', 'ping', 'ping6', 'ping_group'];

export const ALL_DIRECTIVES: readonly string[] = [...VALUE_DIRECTIVES, ...WHOLE_LINE_DIRECTIVES, ...MEDIA_DIRECTIVES];

/** Old names the original still takes, with what it takes them for. */
export const ALIASES: Readonly<Record<string, string>> = { udp: 'bcast', crm: 'pacemaker' };

/** A directive used more than once is an error in the original (set once, or "multiply specified"). */
export const ONCE_ONLY = new Set(['watchdog', 'baud', 'pacemaker']);

/**
 * Where distributions installed the original's ipfail. heartbeat-ts ships its
 * own ipfail (bin/ipfail) and runs it for a `respawn` line naming any of these.
 */
export const IPFAIL_PATHS: readonly string[] = ['/usr/lib/heartbeat/ipfail', '/usr/libexec/heartbeat/ipfail', '/usr/lib64/heartbeat/ipfail'];

/** `apiauth` entries the original adds for clients the file does not mention. */
export const DEFAULT_APIAUTH: readonly { client: string; uids: string[]; gids: string[] }[] = [
  { client: 'ipfail', uids: ['hacluster'], gids: [] },
  { client: 'ccm', uids: ['hacluster'], gids: [] },
  { client: 'ping', uids: [], gids: ['haclient'] },
  { client: 'lha-snmpagent', uids: ['root'], gids: [] },
  { client: 'anon', uids: ['root'], gids: ['haclient'] },
];

/** What `pacemaker on|respawn|...` registers, in order (set_pcmk_support). */
export const PACEMAKER_APIAUTH: readonly { client: string; uid: string; minimal: boolean }[] = [
  { client: 'cib', uid: 'hacluster', minimal: true },
  { client: 'crmd', uid: 'hacluster', minimal: true },
  { client: 'stonithd', uid: 'root', minimal: false },
  { client: 'stonith-ng', uid: 'root', minimal: false },
  { client: 'attrd', uid: 'hacluster', minimal: false },
  { client: 'pingd', uid: 'root', minimal: false },
];

export const PACEMAKER_CHILDREN: readonly { name: string; user: string; skipIfMinimal: boolean; failfastWhenOn: boolean; args?: string }[] = [
  { name: 'ccm', user: 'hacluster', skipIfMinimal: false, failfastWhenOn: true },
  { name: 'cib', user: 'hacluster', skipIfMinimal: false, failfastWhenOn: true },
  { name: 'stonithd', user: 'root', skipIfMinimal: true, failfastWhenOn: false },
  { name: 'lrmd', user: 'root', skipIfMinimal: false, failfastWhenOn: false, args: '-r' },
  { name: 'attrd', user: 'hacluster', skipIfMinimal: true, failfastWhenOn: false },
  { name: 'pengine', user: 'hacluster', skipIfMinimal: true, failfastWhenOn: true },
  { name: 'crmd', user: 'hacluster', skipIfMinimal: false, failfastWhenOn: true },
];

/** The defaults `heartbeat -D` lists, as written there. */
export const DEFAULT_PORT = 694;
export const DEFAULT_BAUD = 19200;

/** Directives with a fixed default, in the order `heartbeat -D` lists them, with what each sets. */
export const DIRECTIVE_DEFAULTS: readonly { name: string; value: string; about: string }[] = [
  { name: 'cluster', value: 'linux-ha', about: 'cluster name' },
  { name: 'hopfudge', value: '1', about: 'extra hops a message may travel beyond the cluster size' },
  { name: 'keepalive', value: '1000ms', about: 'interval between heartbeats' },
  { name: 'deadtime', value: '30000ms', about: 'silence after which a node is declared dead' },
  { name: 'baud', value: '19200', about: 'serial link speed' },
  { name: 'auto_failback', value: 'legacy', about: 'whether resources return to their preferred node' },
  { name: 'hbgenmethod', value: 'file', about: 'how the generation number is computed' },
  { name: 'realtime', value: 'true', about: 'use realtime scheduling and locked memory' },
  { name: 'msgfmt', value: 'classic', about: 'message format on local IPC' },
  { name: 'conn_logd_time', value: '60', about: 'seconds between reconnections to logd' },
  { name: 'log_badpack', value: 'true', about: 'log malformed packets' },
  { name: 'syslogmsgfmt', value: 'true', about: 'write log files in syslog format' },
  { name: 'coredumps', value: 'true', about: 'let heartbeat processes dump core' },
  { name: 'pacemaker', value: 'false', about: 'hand resource management to Pacemaker' },
  { name: 'autojoin', value: 'none', about: 'which unlisted nodes may join' },
  { name: 'uuidfrom', value: 'file', about: 'where the node uuid comes from' },
  { name: 'compression', value: 'zlib', about: 'compression module for large messages' },
  { name: 'compression_threshold', value: '2', about: 'message size in KB above which to compress' },
  { name: 'traditional_compression', value: 'no', about: 'compress whole messages the old way' },
  { name: 'max_rexmit_delay', value: '250', about: 'longest wait in ms before answering a retransmit request' },
  { name: 'record_config_changes', value: 'on', about: 'Pacemaker: record CIB changes' },
  { name: 'record_pengine_inputs', value: 'on', about: 'Pacemaker: keep policy engine inputs' },
  { name: 'enable_config_writes', value: 'on', about: 'Pacemaker: write configuration changes to disk' },
  { name: 'memreserve', value: '6500', about: 'KB of memory to preallocate' },
];
