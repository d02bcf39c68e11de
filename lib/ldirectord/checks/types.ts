/**
 * One health check of one real server. Every check resolves (never rejects)
 * with up or down and a short reason for the monitor file and debug log, and
 * honours its own timeout and the abort signal (reload, stop).
 */
import type { RealServer, VirtualService } from '../../config/ldirectord/model.js';

export interface CheckOutcome {
  readonly up: boolean;
  readonly message: string;
}

export interface CheckContext {
  readonly virtual: VirtualService;
  readonly real: RealServer;
  /** Port to check: checkport=, else the real's, else the service's well-known port. */
  readonly port: number;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** $HOSTNAME as ldirectord sees it (SMTP EHLO, SIP From). */
  readonly hostname: string;
}

export type CheckFn = (c: CheckContext) => Promise<CheckOutcome>;

export const up = (message = 'ok'): CheckOutcome => ({ up: true, message });
export const down = (message: string): CheckOutcome => ({ up: false, message });

/** Runs `work` bounded by the timeout and the abort signal: resolves down(label) at the timeout, down('aborted') on abort; `work`'s own signal is aborted then so it lets go of its sockets. */
export function withTimeout(c: Pick<CheckContext, 'timeoutMs' | 'signal'>, work: (signal: AbortSignal) => Promise<CheckOutcome>, label = 'timeout'): Promise<CheckOutcome> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onAbort = (): void => {};
  const timeout = new Promise<CheckOutcome>((resolve) => {
    onAbort = (): void => {
      ac.abort();
      resolve(down('aborted'));
    };
    timer = setTimeout(() => {
      ac.abort();
      resolve(down(label));
    }, c.timeoutMs);
  });
  if (c.signal.aborted) onAbort();
  else c.signal.addEventListener('abort', onAbort, { once: true });
  return Promise.race([work(ac.signal).catch((e: unknown) => down(e instanceof Error ? e.message : String(e))), timeout]).finally(() => {
    clearTimeout(timer);
    c.signal.removeEventListener('abort', onAbort);
    ac.abort();
  });
}
