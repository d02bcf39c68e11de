/**
 * A minimal client connection to the register socket: framed messages in and
 * out, a queue of what arrived, and bounded waits. Used by our cl_status;
 * kept free of heavy imports because cl_status must start fast.
 */
import * as net from 'node:net';
import type { HaMessage } from '../wire/message.js';
import { ApiError, ApiErrorCode } from './errors.js';
import { decodeApiBody, encodeApiMessage, IpcFrameReader } from './framing.js';

export class ApiConnection {
  private readonly queue: HaMessage[] = [];
  private waiter: (() => void) | undefined;
  private closed = false;
  private readonly reader = new IpcFrameReader();

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const body of this.reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length))) this.queue.push(decodeApiBody(body));
      } catch {
        // A server that sends garbage is as good as gone (glue marks the channel broken).
        this.closed = true;
        socket.destroy();
      }
      this.wake();
    });
    const gone = () => {
      this.closed = true;
      this.wake();
    };
    socket.on('close', gone);
    socket.on('end', gone);
    socket.on('error', gone);
  }

  /** Connects; ApiError API_NO_SERVER when nobody listens there. */
  static connect(socketPath: string): Promise<ApiConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(socketPath);
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(new ApiConnection(socket));
      });
      socket.once('error', (e) => reject(new ApiError(ApiErrorCode.NoServer, `cannot connect to ${socketPath}: ${e.message}`, { cause: e })));
    });
  }

  send(m: HaMessage): void {
    if (!this.closed) this.socket.write(encodeApiMessage(m));
  }

  /**
   * The next message that satisfies `accept` (others stay queued for later
   * callers), or undefined when the connection closes or `timeoutMs` passes
   * without a new message (no timeout: wait until close).
   */
  async next(accept: (m: HaMessage) => boolean = () => true, timeoutMs?: number): Promise<HaMessage | undefined> {
    for (;;) {
      const i = this.queue.findIndex(accept);
      if (i >= 0) return this.queue.splice(i, 1)[0];
      // 0 is poll(2)'s single look: only what has arrived already counts.
      if (this.closed || timeoutMs === 0) return undefined;
      const arrived = await new Promise<boolean>((resolve) => {
        const timer = timeoutMs === undefined || timeoutMs < 0 ? undefined : setTimeout(() => resolve(false), timeoutMs);
        this.waiter = () => {
          if (timer !== undefined) clearTimeout(timer);
          resolve(true);
        };
      });
      this.waiter = undefined;
      if (!arrived) {
        const late = this.queue.findIndex(accept);
        return late >= 0 ? this.queue.splice(late, 1)[0] : undefined;
      }
    }
  }

  /** Sends what is queued and closes. */
  end(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.end(() => resolve());
    });
  }

  private wake(): void {
    this.waiter?.();
  }
}
