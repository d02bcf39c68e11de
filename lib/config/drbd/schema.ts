import type { SectionName, UnitKind } from './model.js';

/**
 * What each option accepts, per section, for the union of the 8.3/8.4/9
 * grammars (we accept what any of them accepts). Names are drbd.conf's.
 */
export type OptionSpec =
  | { readonly type: 'bool' }
  /** A bare switch with no value (global section). */
  | { readonly type: 'flag' }
  | { readonly type: 'enum'; readonly values: readonly string[]; readonly pattern?: RegExp; readonly upper?: boolean }
  /** Range in the base unit, from drbd_limits.h (the widest of 8.4 and 9 where they differ). */
  | { readonly type: 'number'; readonly unit: UnitKind; readonly min?: number; readonly max?: number }
  | { readonly type: 'string' };

const bool = { type: 'bool' } as const;
const flag = { type: 'flag' } as const;
const str = { type: 'string' } as const;
const num = (unit: UnitKind, min?: number, max?: number): OptionSpec =>
  min === undefined ? { type: 'number', unit } : { type: 'number', unit, min, ...(max !== undefined ? { max } : {}) };
const oneOf = (...values: string[]) => ({ type: 'enum', values }) as const;

export const FENCING = oneOf('dont-care', 'resource-only', 'resource-and-stonith');

export const NET_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  protocol: { type: 'enum', values: ['A', 'B', 'C'], upper: true },
  timeout: num('tenths', 1, 600),
  'max-epoch-size': num('count', 1, 20000),
  'max-buffers': num('count', 32, 131072),
  'unplug-watermark': num('count'),
  'connect-int': num('seconds', 1, 120),
  'ping-int': num('seconds', 1, 120),
  'sndbuf-size': num('bytes', 0, 128 * 1024 * 1024),
  'rcvbuf-size': num('bytes', 0, 128 * 1024 * 1024),
  'ko-count': num('count', 0, 200),
  'allow-two-primaries': bool,
  'cram-hmac-alg': str,
  'shared-secret': str,
  'after-sb-0pri': {
    type: 'enum',
    values: ['disconnect', 'discard-younger-primary', 'discard-older-primary', 'discard-zero-changes', 'discard-least-changes', 'discard-local', 'discard-remote'],
    pattern: /^discard-node-.+$/,
  },
  'after-sb-1pri': oneOf('disconnect', 'consensus', 'violently-as0p', 'discard-secondary', 'call-pri-lost-after-sb'),
  'after-sb-2pri': oneOf('disconnect', 'violently-as0p', 'call-pri-lost-after-sb'),
  'always-asbp': bool,
  'rr-conflict': oneOf('disconnect', 'call-pri-lost', 'violently', 'retry-connect', 'auto-discard'),
  'ping-timeout': num('tenths', 1, 300),
  'data-integrity-alg': str,
  'tcp-cork': bool,
  'on-congestion': oneOf('block', 'pull-ahead', 'disconnect'),
  'congestion-fill': num('sectors'),
  'congestion-extents': num('count'),
  'csums-alg': str,
  'csums-after-crash-only': bool,
  'verify-alg': str,
  'use-rle': bool,
  'socket-check-timeout': num('tenths'),
  fencing: FENCING,
  'discard-my-data': bool,
  transport: str,
  'allow-remote-read': bool,
  tls: bool,
  'tls-keyring': str,
  'tls-privkey': str,
  'tls-certificate': str,
  'load-balance-paths': bool,
  'rdma-ctrl-rcvbuf-size': num('bytes'),
  'rdma-ctrl-sndbuf-size': num('bytes'),
};

export const DISK_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'on-io-error': oneOf('pass_on', 'call-local-io-error', 'detach'),
  fencing: FENCING,
  size: num('sectors'),
  'max-bio-bvecs': num('count'),
  'disk-barrier': bool,
  'disk-flushes': bool,
  'disk-drain': bool,
  'md-flushes': bool,
  'resync-rate': num('kib', 1, 4194304),
  'resync-after': str,
  'al-extents': num('count', 7, 65534),
  'al-updates': bool,
  'c-plan-ahead': num('tenths', 0, 300),
  'c-delay-target': num('tenths', 1, 100),
  'c-fill-target': num('sectors', 0, 1048576),
  'c-max-rate': num('kib', 0, 4194304),
  'c-min-rate': num('kib', 0, 4194304),
  'disk-timeout': num('tenths', 0, 6000),
  'read-balancing': str,
  'discard-zeroes-if-aligned': bool,
  'rs-discard-granularity': num('bytes'),
  'disable-write-same': bool,
  bitmap: bool,
};

export const OPTIONS_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'cpu-mask': str,
  'on-no-data-accessible': oneOf('io-error', 'suspend-io'),
  'auto-promote': bool,
  'auto-promote-timeout': num('tenths'),
  quorum: { type: 'enum', values: ['off', 'majority', 'all'], pattern: /^\d+$/ },
  'quorum-minimum-redundancy': { type: 'enum', values: ['off', 'majority', 'all'], pattern: /^\d+$/ },
  'on-no-quorum': oneOf('suspend-io', 'io-error'),
  'on-suspended-primary-outdated': oneOf('disconnect', 'force-secondary'),
  'peer-ack-window': num('sectors'),
  'peer-ack-delay': num('count'),
  'twopc-timeout': num('tenths'),
  'twopc-retry-timeout': num('tenths'),
  'max-io-depth': num('count'),
};

export const STARTUP_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'wfc-timeout': num('seconds'),
  'degr-wfc-timeout': num('seconds'),
  'outdated-wfc-timeout': num('seconds'),
  'wait-after-sb': bool,
  'become-primary-on': str,
  'stacked-timeouts': bool,
};

export const HANDLER_NAMES: readonly string[] = [
  'pri-on-incon-degr', 'pri-lost-after-sb', 'pri-lost', 'fence-peer', 'unfence-peer', 'local-io-error',
  'initial-split-brain', 'split-brain', 'before-resync-target', 'after-resync-target', 'before-resync-source',
  'after-resync-source', 'out-of-sync', 'quorum-lost', 'disconnected', 'peer-lost', 'mismatch',
];

export const HANDLER_OPTIONS: Readonly<Record<string, OptionSpec>> = Object.fromEntries(HANDLER_NAMES.map((n) => [n, str]));

export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'usage-count': oneOf('yes', 'no', 'ask'),
  'minor-count': num('count'),
  'dialog-refresh': num('seconds'),
  'disable-ip-verification': flag,
  'udev-always-use-vnr': flag,
  'cmd-timeout-short': num('seconds'),
  'cmd-timeout-medium': num('seconds'),
  'cmd-timeout-long': num('seconds'),
};

export const SECTION_OPTIONS: Readonly<Record<SectionName, Readonly<Record<string, OptionSpec>>>> = {
  options: OPTIONS_OPTIONS,
  net: NET_OPTIONS,
  disk: DISK_OPTIONS,
  startup: STARTUP_OPTIONS,
  handlers: HANDLER_OPTIONS,
};

/** Old bare switches (8.3) and the yes/no option they mean `no` for. */
export const NEGATED_SWITCHES: Readonly<Record<string, { section: SectionName; name: string }>> = {
  'no-disk-barrier': { section: 'disk', name: 'disk-barrier' },
  'no-disk-flushes': { section: 'disk', name: 'disk-flushes' },
  'no-disk-drain': { section: 'disk', name: 'disk-drain' },
  'no-md-flushes': { section: 'disk', name: 'md-flushes' },
  'no-tcp-cork': { section: 'net', name: 'tcp-cork' },
};

/** The 8.3 `syncer { }` section: where 8.4 moved each of its options. */
export const SYNCER_MAP: Readonly<Record<string, { section: SectionName; name: string }>> = {
  rate: { section: 'disk', name: 'resync-rate' },
  after: { section: 'disk', name: 'resync-after' },
  'al-extents': { section: 'disk', name: 'al-extents' },
  'verify-alg': { section: 'net', name: 'verify-alg' },
  'csums-alg': { section: 'net', name: 'csums-alg' },
  'use-rle': { section: 'net', name: 'use-rle' },
  'cpu-mask': { section: 'options', name: 'cpu-mask' },
  'on-no-data-accessible': { section: 'options', name: 'on-no-data-accessible' },
  'c-plan-ahead': { section: 'disk', name: 'c-plan-ahead' },
  'c-fill-target': { section: 'disk', name: 'c-fill-target' },
  'c-delay-target': { section: 'disk', name: 'c-delay-target' },
  'c-max-rate': { section: 'disk', name: 'c-max-rate' },
  'c-min-rate': { section: 'disk', name: 'c-min-rate' },
};

/** Syncer options 8.3 already ignored; we drop them with a warning too. */
export const SYNCER_IGNORED = new Set(['delay-probe-volume', 'delay-probe-interval', 'throttle-threshold', 'hold-off-threshold']);

/**
 * Words that are keywords in drbd.conf: a value spelled like one must be quoted
 * when printed, or it would not read back as a value.
 */
export const RESERVED_WORDS = new Set([
  'global', 'common', 'resource', 'on', 'floating', 'stacked-on-top-of', 'volume', 'connection', 'connection-mesh',
  'path', 'host', 'hosts', 'net', 'disk', 'syncer', 'startup', 'handlers', 'options', 'proxy', 'skip', 'include',
  'device', 'address', 'meta-disk', 'flexible-meta-disk', 'node-id', 'protocol', 'minor', 'internal', 'yes', 'no',
  'ignore-on', 'via', 'inside', 'outside', 'port',
]);

export const TOP_LEVEL_KEYWORDS: readonly string[] = ['global', 'common', 'resource', 'skip', 'include'];

/** Whether `word` may start a top-level statement. */
export function isTopLevelKeyword(word: string): boolean {
  return TOP_LEVEL_KEYWORDS.includes(word) || /^require-drbd-module-version-(eq|ne|gt|ge|lt|le)$/.test(word);
}
