/**
 * service=sip negotiate check (spec §5): an OPTIONS request over the
 * virtual's protocol (TCP stream or UDP datagram) to RIP:port, with the
 * original's headers; up iff the reply's status line starts with
 * `SIP/2.0 200 OK`. The verdict is taken on the status line.
 */
import { randomBytes } from 'node:crypto';
import * as dgram from 'node:dgram';
import { down, up, withTimeout, type CheckContext, type CheckOutcome } from './types.js';
import { StreamReader, openStream, send } from './wire.js';

export function sipRequest(login: string, localAddress: string, localPort: number): string {
  const local = localAddress.includes(':') ? `[${localAddress}]` : localAddress;
  return (
    `OPTIONS sip:${login} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP ${local}:${localPort};branch=z9hG4bKhjhs8ass877\r\n` +
    'Max-Forwards: 70\r\n' +
    `To: <sip:${login}>\r\n` +
    `From: <sip:${login}>;tag=1928301774\r\n` +
    `Call-ID: ${randomBytes(8).toString('hex')}\r\n` +
    'CSeq: 63104 OPTIONS\r\n' +
    `Contact: <sip:${login}>\r\n` +
    'Accept: application/sdp\r\n' +
    'Content-Length: 0\r\n\r\n'
  );
}

const verdict = (status: string | undefined): CheckOutcome =>
  status === undefined ? down('no reply') : status.startsWith('SIP/2.0 200 OK') ? up(status) : down(status);

function udpExchange(c: CheckContext, signal: AbortSignal): Promise<CheckOutcome> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(c.real.address.includes(':') ? 'udp6' : 'udp4');
    const finish = (): void => {
      signal.removeEventListener('abort', onAbort);
      try {
        sock.close();
      } catch {
        /* already closed */
      }
    };
    const onAbort = (): void => {
      finish();
      reject(new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (e) => {
      finish();
      reject(e);
    });
    sock.on('message', (msg) => {
      finish();
      resolve(verdict(msg.toString('latin1').split(/\r?\n/)[0]));
    });
    sock.connect(c.port, c.real.address, () => {
      const a = sock.address();
      sock.send(sipRequest(c.virtual.login, a.address, a.port));
    });
  });
}

export function sipCheck(c: CheckContext): Promise<CheckOutcome> {
  return withTimeout(c, async (signal) => {
    if (c.virtual.protocol === 'udp') return udpExchange(c, signal);
    const s = await openStream(c.real.address, c.port, false, signal);
    try {
      const r = new StreamReader(s);
      send(s, sipRequest(c.virtual.login, s.localAddress ?? '0.0.0.0', s.localPort ?? 0));
      return verdict(await r.line());
    } finally {
      s.destroy();
    }
  });
}
