/**
 * The normalized ldirectord.cf model: what the daemon needs, with every default
 * and inheritance from the globals already applied (as ldirectord's read_config
 * and ld_setup do). Times are milliseconds; names carry their unit when it is not.
 */

export type AddressFamily = 'ipv4' | 'ipv6';
export type ForwardMethod = 'gate' | 'masq' | 'ipip';
export type VirtualProtocol = 'tcp' | 'udp' | 'fwm';

export const CHECK_TYPES = ['connect', 'negotiate', 'ping', 'off', 'on', 'external', 'external-perl'] as const;
/** `combined` is what a numeric `checktype=N` means: negotiate every (N+1)-th round. */
export type CheckType = (typeof CHECK_TYPES)[number] | 'combined';

export const CHECK_SERVICES = [
  'dns', 'ftp', 'http', 'https', 'http_proxy', 'imap', 'imaps', 'ldap', 'ldaps', 'mysql', 'nntp',
  'none', 'oracle', 'pop', 'pops', 'radius', 'pgsql', 'simpletcp', 'sip', 'smtp', 'submission',
] as const;
export type CheckService = (typeof CHECK_SERVICES)[number];

export const EMAIL_ALERT_STATUSES = ['starting', 'running', 'stopping', 'reloading'] as const;
export type EmailAlertStatus = (typeof EMAIL_ALERT_STATUSES)[number];

export interface Fallback {
  readonly address: string;
  readonly port: number;
  readonly forward: ForwardMethod;
  /** Always 1: ldirectord never weighs or quiesces the fallback. */
  readonly weight: 1;
}

export interface RealServer {
  readonly line: number;
  readonly address: string;
  /** 0 when written without a port (meant for fwmark services). */
  readonly port: number;
  readonly forward: ForwardMethod;
  readonly weight: number;
  /** Effective request path: the real's own, else the virtual's; always starts with `/`. */
  readonly request: string;
  /** Effective receive regex (Perl syntax, kept as written); "" accepts anything. */
  readonly receive: string;
  /** ipvsadm -y; 0 when unset. */
  readonly lowerThreshold: number;
  /** ipvsadm -x; 0 when unset. */
  readonly upperThreshold: number;
}

export interface VirtualService {
  readonly line: number;
  /** `tcp:IP:PORT`, `udp:IP:PORT`, `fwm:MARK` or `fwm6:MARK`, as ldirectord names it in logs. */
  readonly id: string;
  readonly family: AddressFamily;
  readonly protocol: VirtualProtocol;
  /** Resolved address; absent for a fwmark service. */
  readonly address?: string;
  /** Resolved port; 0 for a fwmark service. */
  readonly port: number;
  readonly fwmark?: number;
  readonly reals: RealServer[];
  /** Effective fallback: the virtual's own, else the global one with the virtual's port. */
  readonly fallback?: Fallback;
  readonly service: CheckService;
  readonly checkType: CheckType;
  /** For `combined`: connect checks between two negotiate checks. */
  readonly combinedConnects?: number;
  readonly checkCommand: string;
  /** Port used by checks: checkport=, else the real's, else the service's well-known port. */
  readonly checkPort?: number;
  readonly checkTimeoutMs: number;
  readonly negotiateTimeoutMs: number;
  /** Own checkinterval=; only honoured with fork=yes (the global one applies otherwise). */
  readonly checkIntervalMs: number;
  readonly failureCount: number;
  readonly checkCount: number;
  readonly request: string;
  readonly receive: string;
  readonly httpMethod: 'GET' | 'HEAD';
  readonly virtualHost?: string;
  readonly login: string;
  readonly passwd: string;
  readonly database: string;
  readonly secret: string;
  readonly load?: string;
  readonly scheduler: string;
  readonly persistentSec?: number;
  readonly netmask?: string;
  readonly schedFlags?: string;
  readonly ops: boolean;
  readonly quiescent: boolean;
  readonly cleanStop: boolean;
  readonly emailAlert: string;
  readonly emailAlertFreqMs: number;
  readonly emailAlertStatus: EmailAlertStatus[];
  readonly smtp?: string;
  readonly fallbackCommand?: string;
  readonly monitorFile?: string;
  readonly serviceName?: string;
  readonly comment?: string;
}

export interface GlobalFallback {
  readonly address: string;
  /** Undefined when written without a port: each virtual's own port is used. */
  readonly port?: { readonly tcp: number; readonly udp: number };
  readonly forward: ForwardMethod;
}

export interface LdirectordGlobals {
  readonly checkTimeoutMs?: number;
  readonly negotiateTimeoutMs?: number;
  readonly checkIntervalMs: number;
  readonly checkCount: number;
  readonly failureCount: number;
  readonly autoreload: boolean;
  readonly callback?: string;
  readonly fallback?: GlobalFallback;
  readonly fallback6?: GlobalFallback;
  readonly fallbackCommand?: string;
  /** A path (starts with `/`) or a syslog facility name. */
  readonly logfile: string;
  readonly emailAlert: string;
  readonly emailAlertFreqMs: number;
  readonly emailAlertStatus: EmailAlertStatus[];
  readonly emailAlertFrom?: string;
  readonly smtp?: string;
  readonly execute: string[];
  readonly supervised: boolean;
  readonly fork: boolean;
  readonly quiescent: boolean;
  readonly readdQuiescent: boolean;
  readonly cleanStop: boolean;
  readonly maintenanceDir?: string;
  /** Ours (not in the original): `ipvsadm` drives the kernel, `userspace` our own balancer, `auto` picks ipvsadm when the kernel has IPVS. */
  readonly backend: 'auto' | 'ipvsadm' | 'userspace';
}

export interface LdirectordConfig {
  readonly file: string;
  readonly globals: LdirectordGlobals;
  readonly virtuals: VirtualService[];
}
