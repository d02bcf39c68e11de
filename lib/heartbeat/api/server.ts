/**
 * The I/O shell of the local client API: a Unix stream socket at
 * `<run dir>/heartbeat/register`, one ApiSession per connection. Replies go
 * back on the same connection (Heartbeat 3.x has no per-client FIFOs any
 * more). A client that sends garbage loses its connection; the server never
 * throws because of what a client sent.
 *
 * Access control: the original makes the socket 0777 and checks each client's
 * SO_PEERCRED against `apiauth`. Node cannot read SO_PEERCRED, so we rely on
 * the directory instead, as Debian's package sets it up: `heartbeat/` is
 * 0750 hacluster:haclient, so only root, hacluster and haclient members
 * reach the socket (the default `apiauth` for casual clients is uid root,
 * gid haclient). A directory we have to create ourselves gets what Debian's
 * tmpfiles.d and init script give it: 0750, and hacluster:haclient when we
 * run as root and those exist.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { HbError } from '../../shared/errors.js';
import type { HaMessage } from '../wire/message.js';
import { ApiError } from './errors.js';
import { decodeApiBody, encodeApiMessage, IpcFrameReader } from './framing.js';
import { ApiSession, type ApiEnv } from './handler.js';
import { DEFAULT_RUN_DIR, REGISTER_SOCKET_SUBPATH } from './protocol.js';
import type { ClusterView } from './view.js';

export type ApiLogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface ApiServerOptions {
  readonly view: ClusterView;
  /** Run directory (default /var/run); the socket is `<runDir>/heartbeat/register`. */
  readonly runDir?: string;
  /** Exact socket path; overrides runDir. */
  readonly socketPath?: string;
  /** Messages for the cluster (named clients' traffic, remote client-status queries). */
  readonly onClusterMessage?: (m: HaMessage) => void;
  readonly log?: (level: ApiLogLevel, message: string) => void;
  /** Default: kill(pid, 0) does not fail with ESRCH. */
  readonly pidExists?: (pid: number) => boolean;
  /** Connections beyond this are closed at once (default 256). */
  readonly maxConnections?: number;
  /** Unread reply bytes after which a client is dropped (default MAX_UNREAD_REPLY_BYTES). */
  readonly maxUnreadReplyBytes?: number;
}

/**
 * Replies a client has not read yet, beyond which it is dropped: a client that
 * asks and never reads must not grow our memory without bound (the original
 * caps each client's send queue too).
 */
export const MAX_UNREAD_REPLY_BYTES = 4 * 1024 * 1024;

/** The original's mode for the socket file itself. */
export const REGISTER_SOCKET_MODE = 0o777;
/** Mode of a `heartbeat/` run directory we create. */
export const API_DIR_MODE = 0o750;

export function registerSocketPath(runDir: string = DEFAULT_RUN_DIR): string {
  return path.join(runDir, REGISTER_SOCKET_SUBPATH);
}

function defaultPidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Drop notices per window: a client reconnecting in a loop with garbage must not flood the log. */
const LOG_BURST = 10;
const LOG_WINDOW_MS = 60_000;

interface Connection {
  readonly socket: net.Socket;
  readonly session: ApiSession;
  readonly reader: IpcFrameReader;
}

export class ApiServer {
  private readonly connections = new Set<Connection>();
  private readonly env: ApiEnv;
  private logWindowStart = 0;
  private logsInWindow = 0;
  private suppressed = 0;

  private constructor(
    private readonly server: net.Server,
    readonly socketPath: string,
    private readonly opts: ApiServerOptions,
  ) {
    let generation = 0;
    this.env = {
      view: opts.view,
      pidExists: opts.pidExists ?? defaultPidExists,
      clientSignedOn: (id) => this.findClient(id) !== undefined,
      nextClientGeneration: () => generation++,
    };
  }

  /** Creates the socket (replacing a stale one) and starts accepting clients. */
  static async start(opts: ApiServerOptions): Promise<ApiServer> {
    const socketPath = opts.socketPath ?? registerSocketPath(opts.runDir);
    const dir = path.dirname(socketPath);
    if (!fs.existsSync(dir)) createApiDir(dir);
    removeStaleSocket(socketPath);
    const server = net.createServer();
    server.maxConnections = opts.maxConnections ?? 256;
    const api = new ApiServer(server, socketPath, opts);
    server.on('connection', (s) => api.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => api.log('error', `API socket: ${e.message}`));
    fs.chmodSync(socketPath, REGISTER_SOCKET_MODE);
    return api;
  }

  /** Number of open client connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Hands a message from the cluster to a signed-on client (e.g. the
   * respond-cstatus answering its clientstatus query). False when no client
   * of that id is connected.
   */
  deliver(clientId: string, m: HaMessage): boolean {
    const c = this.findClient(clientId);
    if (c === undefined) return false;
    this.write(c, [m]);
    return true;
  }

  /**
   * Hands a cluster event without `to_id` (a node or link status change, a
   * resource message) to every named client (ipfail), as the original's
   * default message filter does. Casual clients (cl_status) only ask and
   * read their replies, so they are left out.
   */
  broadcast(m: HaMessage): void {
    for (const c of this.connections) if (c.session.client !== undefined && !c.session.client.casual) this.write(c, [m]);
  }

  /** The ids of the named clients signed on now (`clientstatus` online). */
  namedClients(): string[] {
    const out: string[] = [];
    for (const c of this.connections) if (c.session.client !== undefined && !c.session.client.casual) out.push(c.session.client.clientId);
    return out;
  }

  /** Stops accepting, drops every client and removes the socket file. */
  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    this.connections.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    removeStaleSocket(this.socketPath);
  }

  private findClient(clientId: string): Connection | undefined {
    for (const c of this.connections) if (c.session.client?.clientId === clientId) return c;
    return undefined;
  }

  private accept(socket: net.Socket): void {
    const c: Connection = { socket, session: new ApiSession(), reader: new IpcFrameReader() };
    this.connections.add(c);
    socket.on('data', (chunk: Buffer) => this.receive(c, chunk));
    socket.on('end', () => {
      try {
        c.reader.end();
      } catch (e) {
        if (e instanceof ApiError) this.log('debug', `API client: ${e.code}: ${e.message}`);
      }
      socket.end();
    });
    socket.on('error', (e) => this.log('debug', `API client socket: ${e.message}`));
    socket.on('close', () => {
      this.connections.delete(c);
      // A named client that vanished without signing off is announced as gone.
      for (const m of c.session.leave('EOF', this.env).toCluster) this.opts.onClusterMessage?.(m);
    });
  }

  private receive(c: Connection, chunk: Buffer): void {
    try {
      for (const body of c.reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length))) {
        if (c.socket.destroyed || c.socket.writableEnded) return;
        const outcome = c.session.handle(decodeApiBody(body), this.env);
        this.write(c, outcome.replies);
        for (const m of outcome.toCluster) this.opts.onClusterMessage?.(m);
        if (outcome.ignored !== undefined) this.log('debug', `API request ignored: ${outcome.ignored}`);
        if (outcome.close !== undefined) {
          if (outcome.close !== 'signoff') this.log('info', `API client dropped: ${outcome.close}`);
          c.socket.end();
          return;
        }
      }
    } catch (e) {
      // A client's bytes must never take the daemon down: drop that client.
      if (e instanceof ApiError) this.log('warn', `API client dropped: ${e.code}: ${e.message}`);
      else if (e instanceof HbError) this.log('warn', `API client dropped: ${e.code}: ${e.message}`);
      else this.log('error', `API client dropped after an internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      c.socket.destroy();
    }
  }

  private write(c: Connection, messages: readonly HaMessage[]): void {
    for (const m of messages) c.socket.write(encodeApiMessage(m));
    if (c.socket.writableLength > (this.opts.maxUnreadReplyBytes ?? MAX_UNREAD_REPLY_BYTES)) {
      this.log('warn', `API client dropped: ${c.socket.writableLength} bytes of replies unread`);
      c.socket.destroy();
    }
  }

  private log(level: ApiLogLevel, message: string): void {
    if (level === 'debug') {
      this.opts.log?.(level, message);
      return;
    }
    const now = Date.now();
    if (now - this.logWindowStart >= LOG_WINDOW_MS) {
      if (this.suppressed > 0) this.opts.log?.('warn', `${this.suppressed} more API client notice(s) suppressed`);
      this.logWindowStart = now;
      this.logsInWindow = 0;
      this.suppressed = 0;
    }
    if (this.logsInWindow >= LOG_BURST) {
      this.suppressed++;
      return;
    }
    this.logsInWindow++;
    this.opts.log?.(level, message);
  }
}

/** The uid of a user and gid of a group from /etc/passwd and /etc/group, when both exist. */
export function lookupOwner(user: string, group: string, etc = '/etc'): { uid: number; gid: number } | undefined {
  const field = (file: string, name: string, col: number): number | undefined => {
    let text: string;
    try {
      text = fs.readFileSync(path.join(etc, file), 'utf8');
    } catch {
      return undefined;
    }
    const line = text.split('\n').find((l) => l.split(':')[0] === name);
    const v = line?.split(':')[col];
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const uid = field('passwd', user, 2);
  const gid = field('group', group, 2);
  return uid !== undefined && gid !== undefined ? { uid, gid } : undefined;
}

function createApiDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: API_DIR_MODE });
  fs.chmodSync(dir, API_DIR_MODE);
  const owner = process.getuid?.() === 0 ? lookupOwner('hacluster', 'haclient') : undefined;
  if (owner !== undefined) fs.chownSync(dir, owner.uid, owner.gid);
}

/** Removes a leftover socket file; anything that is not a socket is left alone (listen then fails). */
function removeStaleSocket(p: string): void {
  try {
    if (fs.lstatSync(p).isSocket()) fs.unlinkSync(p);
  } catch {
    /* absent */
  }
}
