/**
 * The STONITH subsystem's vocabulary: cluster-glue's return codes (the
 * `stonith` command and meatclient exit with them), the plugin interface
 * every device type implements, and what a fence attempt reports to the
 * resource manager (the `result=` of the `t=stonith` message).
 */

/** cluster-glue's `S_*` codes (include/stonith/stonith.h). */
export const S = {
  OK: 0,
  BADCONFIG: 1,
  ACCESS: 2,
  INVAL: 3,
  BADHOST: 4,
  RESETFAIL: 5,
  TIMEOUT: 6,
  ISOFF: 7,
  OOPS: 8,
} as const;
export type StonithRc = (typeof S)[keyof typeof S];

/** `result=` values of Heartbeat's `t=stonith` message (heartbeat-wire.md §5.6). */
export type StonithResult = 'OK' | 'badhost' | 'bad' | 'n_stnth' | 'unneeded';

/** Log levels a plugin may use; the daemon maps them to its own logger. */
export type StonithLogLevel = 'CRIT' | 'ERROR' | 'WARN' | 'info' | 'debug';
export type StonithLog = (level: StonithLogLevel, text: string) => void;

/** Reset, power off or power on: `stonith -T reset|off|on`. */
export type ResetRequest = 'reset' | 'off' | 'on';

/**
 * One configured-or-not device. Every operation is bounded (the device's
 * timeout) and never throws: failures come back as codes (hosts: undefined).
 */
export interface StonithDevice {
  /** As written in ha.cf: `null`, `ssh`, `meatware`, `external/NAME`. */
  readonly type: string;
  /** The device's identification, printed in `Resetting node N with [ID]`. */
  readonly deviceId: string;
  /** The parameter names, in the order positional (`-p`, ha.cf) values are given. */
  configNames(): Promise<readonly string[] | undefined>;
  /** Stores the parameters; BADCONFIG when a required one is missing or wrong. */
  configure(params: ReadonlyMap<string, string>): Promise<StonithRc>;
  readonly configured: boolean;
  /** The hosts this device can reset (lowercase as reported), or undefined when the device cannot tell. */
  hosts(): Promise<readonly string[] | undefined>;
  status(): Promise<StonithRc>;
  reset(host: string, request?: ResetRequest): Promise<StonithRc>;
}

/** What a plugin needs from its surroundings (all I/O settings live here, so tests can move them). */
export interface StonithEnvironment {
  /** Folders searched for `external/NAME` programs, first match wins. */
  readonly externalDirs: readonly string[];
  /** Folder of meatware's FIFOs (`meatware.HOST`); the original's is /var/run. */
  readonly meatwareDir: string;
  /** Bound on each plugin call (external, ssh); undefined = no bound. */
  readonly timeoutMs?: number | undefined;
  /** Bound on meatware's wait for its operator; undefined (the default) = as long as it takes. */
  readonly meatwareTimeoutMs?: number | undefined;
  /** The ssh plugin's command words (default `ssh -q -x -n -l root`). */
  readonly sshCommand?: readonly string[] | undefined;
  /** The ssh plugin's remote reboot command. */
  readonly sshRebootCommand?: string | undefined;
  /** How many 1 s pings the ssh plugin tries before it calls a reset failed (original 15). */
  readonly sshPingTries?: number | undefined;
  /** Environment for external programs (default process.env). */
  readonly env?: NodeJS.ProcessEnv | undefined;
  readonly log: StonithLog;
}
