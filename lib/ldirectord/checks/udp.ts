/**
 * One UDP request and its answer, for the datagram checks (dns, radius,
 * sip): the socket is connected to the real, so only its datagrams arrive;
 * `accept` skips strays (a late answer to an earlier query). The socket is
 * closed on the answer, an error or an abort.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';

export function udpExchange(
  host: string,
  port: number,
  signal: AbortSignal,
  request: (local: net.AddressInfo) => Buffer | string,
  accept: (msg: Buffer) => boolean = () => true,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const finish = (): void => {
      signal.removeEventListener('abort', onAbort);
      try {
        sock.close();
      } catch {
        /* already closed */
      }
    };
    const fail = (e: unknown): void => {
      finish();
      reject(e instanceof Error ? e : new Error(String(e)));
    };
    const onAbort = (): void => fail(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('error', fail);
    sock.on('message', (msg) => {
      if (!accept(msg)) return;
      finish();
      resolve(msg);
    });
    sock.connect(port, host, () => {
      try {
        sock.send(request(sock.address()));
      } catch (e) {
        fail(e);
      }
    });
  });
}
