/**
 * Daemon signals as heartbeat handles them: TERM graceful shutdown, HUP
 * reload, USR1/USR2 debug level up/down (exported as HA_debug to children),
 * INT ignored. Handlers only set things in motion; the daemon's main loop
 * does the work.
 */

/** What the wiring needs from a process; `process` itself, or a fake in tests. */
export interface SignalSource {
  on(signal: NodeJS.Signals, handler: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, handler: (signal: NodeJS.Signals) => void): unknown;
}

export interface DebugLevelHolder {
  readonly debugLevel: number;
  setDebugLevel(level: number): void;
}

export interface DaemonSignalOptions {
  readonly onTerminate: (signal: NodeJS.Signals) => void;
  readonly onReload?: () => void;
  /** Usually the Logger: USR1/USR2 move its debug level. */
  readonly debug?: DebugLevelHolder;
  /** Called after a debug level change, e.g. to log it. */
  readonly onDebugLevel?: (level: number) => void;
  /** heartbeat exports the level to its children as HA_debug (unset at 0). */
  readonly debugEnvVar?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Signals to swallow; heartbeat ignores SIGINT. */
  readonly ignore?: readonly NodeJS.Signals[];
  /** Extra termination signals (ldirectord also stops on INT and QUIT). */
  readonly terminateOn?: readonly NodeJS.Signals[];
  readonly source?: SignalSource;
}

/** Installs the handlers; returns a function removing them again. */
export function wireDaemonSignals(o: DaemonSignalOptions): () => void {
  const source = o.source ?? process;
  const env = o.env ?? process.env;
  const installed: [NodeJS.Signals, (s: NodeJS.Signals) => void][] = [];
  const on = (sig: NodeJS.Signals, h: (s: NodeJS.Signals) => void) => {
    source.on(sig, h);
    installed.push([sig, h]);
  };

  for (const sig of ['SIGTERM', ...(o.terminateOn ?? [])] as NodeJS.Signals[]) on(sig, (s) => o.onTerminate(s));
  if (o.onReload !== undefined) {
    const reload = o.onReload;
    on('SIGHUP', () => reload());
  }
  if (o.debug !== undefined) {
    const holder = o.debug;
    const adjust = (delta: number) => {
      holder.setDebugLevel(Math.max(0, holder.debugLevel + delta));
      const level = holder.debugLevel;
      if (o.debugEnvVar !== undefined) {
        if (level > 0) env[o.debugEnvVar] = String(level);
        else delete env[o.debugEnvVar];
      }
      o.onDebugLevel?.(level);
    };
    on('SIGUSR1', () => adjust(+1));
    on('SIGUSR2', () => adjust(-1));
  }
  for (const sig of o.ignore ?? []) on(sig, () => {});

  return () => {
    for (const [sig, h] of installed) source.off(sig, h);
  };
}
