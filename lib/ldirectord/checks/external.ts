/**
 * checktype=external: `checkcommand VIP VPORT RIP RPORT` (fwmark: `MARK 0 RIP
 * RPORT`); exit 0 is up, anything else or checktimeout is down, and the
 * command gets TERM (spec §4.5). external-perl runs the same way, as its own
 * process through perl, instead of inside the daemon: a hung or crashing
 * check cannot take the director with it.
 */
import { spawn } from 'node:child_process';
import { down, up, type CheckContext, type CheckOutcome } from './types.js';

export function externalArgs(c: CheckContext): string[] {
  const v = c.virtual;
  const first = v.protocol === 'fwm' ? [String(v.fwmark ?? 0), '0'] : [v.address ?? '', String(v.port)];
  return [...first, c.real.address, String(c.real.port)];
}

export function externalCheck(c: CheckContext, viaPerl = false): Promise<CheckOutcome> {
  const cmd = c.virtual.checkCommand;
  const argv = viaPerl ? ['perl', cmd, ...externalArgs(c)] : [cmd, ...externalArgs(c)];
  return new Promise((resolve) => {
    let settled = false;
    const finish = (o: CheckOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      c.signal.removeEventListener('abort', onAbort);
      resolve(o);
    };
    const p = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore', detached: true });
    const kill = (): void => {
      try {
        process.kill(-p.pid!, 'SIGTERM');
      } catch {
        p.kill('SIGTERM');
      }
    };
    const timer = setTimeout(() => {
      kill();
      finish(down(`${cmd} timed out after ${c.timeoutMs} ms`));
    }, c.timeoutMs);
    const onAbort = (): void => {
      kill();
      finish(down('aborted'));
    };
    c.signal.addEventListener('abort', onAbort, { once: true });
    p.once('error', (e) => finish(down(`${cmd}: ${e.message}`)));
    p.once('exit', (code, sig) => finish(code === 0 ? up(`${cmd} exited 0`) : down(`${cmd} exited ${code ?? sig}`)));
  });
}
