/**
 * The TCP transport between the two `address` endpoints. As DRBD does, each
 * node listens on its own address:port and also dials the peer's; when both
 * connections come up, the machine keeps the one dialed by the node with the
 * smaller name (machine.ts, `preferred`). Thin: sockets in, channels out.
 */
import * as net from 'node:net';
import type { Channel, ChannelHandlers, Transport } from './ports.js';

export interface TcpEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface TcpTransportOptions {
  readonly local: TcpEndpoint;
  readonly remote: TcpEndpoint;
  /** Give up one dial attempt after this long (ms). */
  readonly dialTimeoutMs?: number;
  /** send() reports false above this many queued bytes. */
  readonly highWaterBytes?: number;
}

let nextChannelId = 1;

class TcpChannel implements Channel {
  readonly id = nextChannelId++;
  private closed = false;
  constructor(
    private readonly sock: net.Socket,
    readonly outbound: boolean,
    handlers: ChannelHandlers,
    private readonly highWater: number,
    private readonly forget: (ch: TcpChannel) => void,
  ) {
    sock.setNoDelay(true);
    sock.on('data', (b: Buffer) => {
      // A plain Uint8Array view, so that the decoder's slices copy.
      if (!this.closed) handlers.onData(this, new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    });
    sock.on('drain', () => handlers.onDrain?.(this));
    let reason = 'connection closed';
    sock.on('error', (e: Error) => {
      reason = e.message;
    });
    sock.on('close', () => {
      const wasClosed = this.closed;
      this.closed = true;
      this.forget(this);
      if (!wasClosed) handlers.onClose(this, reason);
    });
  }
  get queuedBytes(): number {
    return this.sock.writableLength;
  }
  send(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    this.sock.write(bytes);
    return this.sock.writableLength < this.highWater;
  }
  /** A graceful close: what was sent still goes out; a peer that does not read gets 1 s. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.end();
    setTimeout(() => this.sock.destroy(), 1000).unref();
  }
  abort(): void {
    this.closed = true;
    this.sock.destroy();
  }
}

export class TcpTransport implements Transport {
  private server: net.Server | undefined;
  private readonly open = new Set<TcpChannel>();
  private readonly dials = new Set<net.Socket>();
  private closed = false;

  constructor(private readonly opts: TcpTransportOptions) {}

  private get highWater(): number {
    return this.opts.highWaterBytes ?? 4 << 20;
  }

  listen(onAccept: (ch: Channel) => void, handlers: ChannelHandlers): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((sock) => {
        if (this.closed) {
          sock.destroy();
          return;
        }
        const ch = new TcpChannel(sock, false, handlers, this.highWater, (c) => this.open.delete(c));
        this.open.add(ch);
        onAccept(ch);
      });
      server.once('error', reject);
      server.listen({ host: this.opts.local.host, port: this.opts.local.port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        this.server = server;
        resolve();
      });
    });
  }

  dial(handlers: ChannelHandlers): Promise<Channel> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error('transport closed'));
        return;
      }
      const sock = net.connect({ host: this.opts.remote.host, port: this.opts.remote.port, localAddress: this.opts.local.host });
      this.dials.add(sock);
      const timer = setTimeout(() => sock.destroy(new Error('connect timed out')), this.opts.dialTimeoutMs ?? 5000);
      const fail = (e: Error): void => {
        clearTimeout(timer);
        this.dials.delete(sock);
        sock.destroy();
        reject(e);
      };
      sock.once('error', fail);
      sock.once('connect', () => {
        clearTimeout(timer);
        this.dials.delete(sock);
        sock.off('error', fail);
        if (this.closed) {
          sock.destroy();
          reject(new Error('transport closed'));
          return;
        }
        const ch = new TcpChannel(sock, true, handlers, this.highWater, (c) => this.open.delete(c));
        this.open.add(ch);
        resolve(ch);
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.dials) s.destroy();
    this.dials.clear();
    for (const ch of [...this.open]) ch.abort();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}
