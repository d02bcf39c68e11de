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
