/**
 * service=sip negotiate check (spec §5): an OPTIONS request over the
 * virtual's protocol (TCP stream or UDP datagram) to RIP:port, with the
 * original's headers; up iff the reply's status line starts with
 * `SIP/2.0 200 OK`. The verdict is taken on the status line.
 */
import { randomBytes } from 'node:crypto';
import { down, up, withTimeout, type CheckContext, type CheckOutcome } from './types.js';
import { StreamReader, openStream, send } from './wire.js';
import { udpExchange } from './udp.js';

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

async function udpOptions(c: CheckContext, signal: AbortSignal): Promise<CheckOutcome> {
  const msg = await udpExchange(c.real.address, c.port, signal, (local) => sipRequest(c.virtual.login, local.address, local.port));
  return verdict(msg.toString('latin1').split(/\r?\n/)[0]);
}

export function sipCheck(c: CheckContext): Promise<CheckOutcome> {
  return withTimeout(c, async (signal) => {
    if (c.virtual.protocol === 'udp') return udpOptions(c, signal);
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
