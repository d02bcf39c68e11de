/**
 * A long-lived, named API client (ipfail): it signs on under a client name,
 * so it may send cluster messages and hears cluster events (status changes,
 * messages for its name). Replies to its requests come back in order; every
 * other message goes to `onMessage`. The counterpart of the original's
 * client_lib.c for a client with callbacks.
 */
import * as net from 'node:net';
import * as os from 'node:os';
import { HaMessage } from '../wire/message.js';
import { decodeApiBody, encodeApiMessage, IpcFrameReader } from './framing.js';
import { AF, DEFAULT_RUN_DIR, REGISTER_SOCKET_ENV, REGISTER_SOCKET_SUBPATH, Req, Result, T_APIREQ, T_APIRESP } from './protocol.js';

interface Pending {
  readonly multi: boolean;
  readonly got: HaMessage[];
  readonly resolve: (replies: HaMessage[] | undefined) => void;
}

export interface NodeEntry {
  readonly name: string;
  readonly type: string | undefined;
  readonly status: string | undefined;
}

/** The register socket a child of heartbeat talks to: HEARTBEAT_API_SOCKET, else HEARTBEAT_RUN_DIR's, else /var/run's. */
export function apiSocketFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const s = env[REGISTER_SOCKET_ENV];
  if (s !== undefined && s !== '') return s;
  const run = env['HEARTBEAT_RUN_DIR'];
  return `${run !== undefined && run !== '' ? run : DEFAULT_RUN_DIR}/${REGISTER_SOCKET_SUBPATH}`;
}

export class NamedApiClient {
  private readonly pending: Pending[] = [];
  private readonly reader = new IpcFrameReader();
  private closed = false;
  private node = os.hostname().toLowerCase();
  private readonly pid = String(process.pid);
  /** From the sign-on reply. */
  deadtimeMs = 0;
  keepaliveMs = 0;
  /** Cluster messages that arrived before a handler was set (during start-up requests). */
  private backlog: HaMessage[] | undefined = [];
  private handler: (m: HaMessage) => void = () => {};
  /** The daemon closed the connection. */
  onClose: () => void = () => {};

  private constructor(
    private readonly socket: net.Socket,
    readonly clientId: string,
  ) {
    socket.on('data', (chunk: Buffer) => {
      let bodies: Uint8Array[];
      try {
        bodies = this.reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      } catch {
        socket.destroy();
        return;
      }
      for (const b of bodies) {
        let m: HaMessage;
        try {
          m = decodeApiBody(b);
        } catch {
          continue;
        }
        this.take(m);
      }
    });
    const gone = (): void => {
      if (this.closed) return;
      this.closed = true;
      for (const p of this.pending.splice(0)) p.resolve(undefined);
      this.onClose();
    };
    socket.on('close', gone);
    socket.on('error', gone);
  }

  /** Connects and signs on as `clientId`; the reason in `error` when refused. */
  static async signon(socketPath: string, clientId: string): Promise<{ client: NamedApiClient } | { error: string }> {
    let socket: net.Socket;
    try {
      socket = await new Promise<net.Socket>((resolve, reject) => {
        const s = net.createConnection(socketPath);
        s.once('connect', () => {
          s.removeAllListeners('error');
          resolve(s);
        });
        s.once('error', reject);
      });
    } catch {
      return { error: "hb_api_signon: Can't initiate connection to heartbeat" };
    }
    const c = new NamedApiClient(socket, clientId);
    const reply = await c.request(
      c.boilerplate(Req.signon).add(AF.uid, String(process.geteuid?.() ?? 0)).add(AF.gid, String(process.getegid?.() ?? 0)),
    );
    if (reply === undefined) return { error: 'no answer to sign-on' };
    if (reply.get(AF.result) !== Result.ok) {
      c.socket.destroy();
      return { error: reply.get(AF.comment) ?? 'sign-on refused' };
    }
    const hex = (v: string | undefined): number => (v !== undefined && /^[0-9a-fA-F]+$/.test(v) ? parseInt(v, 16) : 0);
    c.deadtimeMs = hex(reply.get(AF.deadtime));
    c.keepaliveMs = hex(reply.get(AF.keepalive));
    const node = reply.get(AF.node);
    if (node !== undefined) c.node = node;
    return { client: c };
  }

  /** Where cluster messages and events (everything that is not a reply) go; earlier ones are handed over first. */
  set onMessage(fn: (m: HaMessage) => void) {
    this.handler = fn;
    const early = this.backlog ?? [];
    this.backlog = undefined;
    for (const m of early) fn(m);
  }

  get nodeName(): string {
    return this.node;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private boilerplate(reqtype: string): HaMessage {
    return new HaMessage().add(AF.type, T_APIREQ).add(AF.reqtype, reqtype).add(AF.to, this.node).add(AF.pid, this.pid).add(AF.fromId, this.clientId);
  }

  private take(m: HaMessage): void {
    if (m.type !== T_APIRESP) {
      if (this.backlog !== undefined) {
        // Bounded: a client that never listens must not grow without limit.
        if (this.backlog.length < 1000) this.backlog.push(m);
      } else this.handler(m);
      return;
    }
    const p = this.pending[0];
    if (p === undefined) return;
    p.got.push(m);
    if (p.multi && m.get(AF.result) === Result.more) return;
    this.pending.shift();
    p.resolve(p.got);
  }

  private ask(req: HaMessage, multi: boolean): Promise<HaMessage[] | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.pending.push({ multi, got: [], resolve });
      this.socket.write(encodeApiMessage(req));
    });
  }

  private async request(req: HaMessage): Promise<HaMessage | undefined> {
    return (await this.ask(req, false))?.[0];
  }

  /** `getrsc`: none/local/foreign/all/transition, or undefined when resources are not managed. */
  async resources(): Promise<string | undefined> {
    const r = await this.request(this.boilerplate(Req.getrsc));
    return r?.get(AF.result) === Result.ok ? r.get(AF.resources) : undefined;
  }

  async parameter(name: string): Promise<string | undefined> {
    const r = await this.request(this.boilerplate(Req.getparm).add(AF.pname, name));
    return r?.get(AF.result) === Result.ok ? r.get(AF.pvalue) : undefined;
  }

  /** `setfmode(LLC_FILTER_DEFAULT)`. */
  async setDefaultFilter(): Promise<boolean> {
    const r = await this.request(this.boilerplate(Req.setfilter).add('fmask', '1'));
    return r?.get(AF.result) === Result.ok;
  }

  /** Every node with its type and status, in the daemon's order; undefined on failure. */
  async nodes(): Promise<NodeEntry[] | undefined> {
    const replies = await this.ask(this.boilerplate(Req.nodelist), true);
    if (replies === undefined) return undefined;
    const out: NodeEntry[] = [];
    for (const r of replies) {
      const name = r.get(AF.node);
      const result = r.get(AF.result);
      if (name === undefined || (result !== Result.ok && result !== Result.more)) return undefined;
      out.push({ name, type: r.get(AF.nodetype), status: r.get(AF.status) });
    }
    return out;
  }

  /** sendclustermsg: to every node. */
  sendCluster(fields: readonly (readonly [string, string])[]): void {
    if (!this.closed) this.socket.write(encodeApiMessage(HaMessage.of(fields)));
  }

  /** sendnodemsg: to one node (`dest`). */
  sendNode(node: string, fields: readonly (readonly [string, string])[]): void {
    if (!this.closed) this.socket.write(encodeApiMessage(HaMessage.of([...fields, ['dest', node]])));
  }

  /** signoff, then close. */
  async signoff(): Promise<void> {
    if (this.closed) return;
    this.socket.write(encodeApiMessage(this.boilerplate(Req.signoff)));
    await new Promise<void>((resolve) => this.socket.end(() => resolve()));
  }
}
