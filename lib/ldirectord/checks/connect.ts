/** checktype=connect: a TCP connection to the real within checktimeout (spec §4.3). */
import * as net from 'node:net';
import { up, withTimeout, type CheckContext, type CheckOutcome } from './types.js';

export function connectCheck(c: CheckContext): Promise<CheckOutcome> {
  return withTimeout(c, (signal) => tcpConnect(c.real.address, c.port, signal).then((s) => {
    s.destroy();
    return up('connected');
  }), 'connect timeout');
}

/**
 * A connected socket, or a rejection with the OS error. The socket is
 * destroyed when the signal aborts, also after connecting, so a check that
 * timed out or was cancelled never leaves a connection (or a pending read on
 * it) behind.
 */
export function tcpConnect(host: string, port: number, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error('aborted'));
      return;
    }
    const s = net.connect({ host, port });
    const onAbort = (): void => {
      s.destroy();
      reject(new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    s.once('close', () => signal.removeEventListener('abort', onAbort));
    s.once('connect', () => resolve(s));
    s.once('error', (e) => {
      s.destroy();
      reject(e);
    });
  });
}

