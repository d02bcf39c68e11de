/**
 * checktype=ping: ICMP echo, up to checkcount attempts of checktimeout each
 * (spec §4.4). Node has no raw sockets, so the system's `ping` (iputils) does
 * the ICMP; `PING` in the environment overrides its path.
 */
import { spawn } from 'node:child_process';
import { down, up, type CheckContext, type CheckOutcome } from './types.js';

function pingOnce(address: string, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const cmd = process.env.PING ?? 'ping';
  const args = [...(address.includes(':') ? ['-6'] : []), '-n', '-q', '-c', '1', '-W', String(seconds), address];
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: 'ignore', signal });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs + 500);
    p.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    p.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}

export async function pingCheck(c: CheckContext): Promise<CheckOutcome> {
  const attempts = Math.max(1, c.virtual.checkCount);
  for (let i = 0; i < attempts && !c.signal.aborted; i++) {
    if (await pingOnce(c.real.address, c.timeoutMs, c.signal)) return up('echo reply');
  }
  return down(`no echo reply in ${attempts} attempt(s)`);
}
