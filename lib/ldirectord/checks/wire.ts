/**
 * A buffered reader over a TCP or TLS stream for the protocol checks: read a
 * line, a byte count, or everything until the peer closes. Reads resolve to
 * undefined at end of stream (also when the check is aborted and its socket
 * destroyed), so a check never waits on a dead connection.
 */
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { tcpConnect } from './connect.js';

/** A plain TCP connection, or TLS on top of one (no certificate checks, as the original). */
export async function openStream(host: string, port: number, secure: boolean, signal: AbortSignal): Promise<net.Socket> {
  const raw = await tcpConnect(host, port, signal);
  raw.on('error', () => {}); // reported through the reader or the TLS socket; never uncaught
  if (!secure) return raw;
  return new Promise((resolve, reject) => {
    const s = tls.connect({ socket: raw, rejectUnauthorized: false, ...(/^[\d.:]+$/.test(host) ? {} : { servername: host }) });
    const onAbort = (): void => {
      s.destroy();
      reject(new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    s.once('secureConnect', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(s);
    });
    s.on('error', (e) => {
      signal.removeEventListener('abort', onAbort);
      s.destroy();
      raw.destroy();
      reject(new Error(`TLS: ${e.message}`));
    });
  });
}

const MAX_BUFFER = 4 << 20;

export class StreamReader {
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      if (this.buf.length > MAX_BUFFER) socket.destroy();
      this.notify();
    });
    const end = (): void => {
      this.ended = true;
      this.notify();
    };
    socket.once('end', end);
    socket.once('close', end);
    socket.on('error', end); // not once: a second error must not become an uncaught exception
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async waitMore(): Promise<boolean> {
    if (this.ended) return false;
    await new Promise<void>((r) => (this.wake = r));
    return true;
  }

  /** One line without its CR LF; undefined at end of stream (a last unterminated line is returned). */
  async line(): Promise<string | undefined> {
    for (;;) {
      const i = this.buf.indexOf(10);
      if (i >= 0) {
        const l = this.buf.subarray(0, i).toString('latin1').replace(/\r$/, '');
        this.buf = this.buf.subarray(i + 1);
        return l;
      }
      if (!(await this.waitMore())) {
        if (this.buf.length === 0) return undefined;
        const l = this.buf.toString('latin1').replace(/\r$/, '');
        this.buf = Buffer.alloc(0);
        return l;
      }
    }
  }

  /** Exactly n bytes, or undefined when the stream ends first. */
  async bytes(n: number): Promise<Buffer | undefined> {
    while (this.buf.length < n) if (!(await this.waitMore())) return undefined;
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Everything until the peer closes. */
  async rest(): Promise<Buffer> {
    while (await this.waitMore());
    const out = this.buf;
    this.buf = Buffer.alloc(0);
    return out;
  }
}

export function send(s: net.Socket, data: string | Buffer): void {
  if (!s.destroyed) s.write(data);
}
