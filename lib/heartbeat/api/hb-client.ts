/**
 * The client side of the API as Heartbeat's client library (lib/hbclient/
 * client_lib.c) behaves towards cl_status: sign-on, the node and link walks
 * (lists are built by prepending, so they come out in reverse reply order),
 * the per-node and per-link caches filled by those walks, and `errmsg()`, the
 * text cl_status prints after `REASON:`.
 */
import * as os from 'node:os';
import { HaMessage } from '../wire/message.js';
import { ApiConnection } from './client.js';
import { AF, Req, Result, T_APIREQ, T_APIRESP, T_RCSTATUS } from './protocol.js';

interface NodeEntry {
  readonly name: string;
  readonly status: string | undefined;
  readonly type: string | undefined;
}
interface IfEntry {
  readonly name: string;
  readonly status: string | undefined;
}

const isResp = (m: HaMessage): boolean => m.type === T_APIRESP;

export class HbClient {
  private conn: ApiConnection | undefined;
  private signedOn = false;
  private log = '';
  private readonly pid = String(process.pid);
  private ourNode = os.hostname().replace(/[A-Z]+/g, (c) => c.toLowerCase());
  /** From the sign-on reply; 0 until one arrived (cl_status tells "stopped" from "refused" by it). */
  deadtimeMs = 0;
  keepaliveMs = 0;
  private hbversion: string | undefined;
  private pacemaker: string | undefined;
  private nodes: NodeEntry[] = [];
  private nodeCursor = 0;
  private currentNode: NodeEntry | undefined;
  private ifs: IfEntry[] = [];
  private ifHost: string | undefined;
  private ifCursor = 0;
  private currentIf: IfEntry | undefined;

  constructor(private readonly socketPath: string) {}

  /** The client library's error text (its messages joined by newlines). */
  errmsg(): string {
    return this.log;
  }

  /** Our node name: uname's, lowercased, until the sign-on reply names it. */
  myNodeId(): string {
    return this.ourNode;
  }

  private clearLog(): void {
    this.log = '';
  }

  private apiLog(text: string): void {
    this.log = this.log === '' || this.log.endsWith('\n') ? this.log + text : `${this.log}\n${text}`;
  }

  private boilerplate(reqtype: string): HaMessage {
    return new HaMessage().add(AF.type, T_APIREQ).add(AF.reqtype, reqtype).add(AF.to, this.ourNode).add(AF.pid, this.pid).add(AF.fromId, this.pid);
  }

  /** Request and wait for the next API reply (no time limit: cl_status has its own alarm). */
  private async ask(req: HaMessage): Promise<HaMessage | undefined> {
    this.conn!.send(req);
    return this.conn!.next(isResp);
  }

  async signon(): Promise<boolean> {
    this.clearLog();
    const req = this.boilerplate(Req.signon)
      .add(AF.uid, String(process.geteuid?.() ?? 0))
      .add(AF.gid, String(process.getegid?.() ?? 0));
    try {
      this.conn = await ApiConnection.connect(this.socketPath);
    } catch {
      this.apiLog("hb_api_signon: Can't initiate connection to heartbeat");
      return false;
    }
    const reply = await this.ask(req);
    if (reply === undefined) return false;
    const result = reply.get(AF.result);
    if (result === undefined) return false;
    let ok = false;
    if (result === Result.ok) ok = true;
    else {
      const why = reply.get(AF.comment);
      if (why !== undefined) this.apiLog(why);
    }
    const dt = scanHex(reply.get(AF.deadtime));
    if (dt === undefined) {
      this.apiLog("hb_api_signon: Can't get deadtime ");
      return false;
    }
    this.deadtimeMs = dt;
    const ka = scanHex(reply.get(AF.keepalive));
    if (ka === undefined) {
      this.apiLog("hb_api_signon: Can't get keepalive time ");
      return false;
    }
    this.keepaliveMs = ka;
    const node = reply.get(AF.node);
    if (node === undefined || Buffer.byteLength(node) >= 256) {
      this.apiLog("hb_api_signon: Can't get local node name");
      return false;
    }
    this.ourNode = node;
    this.hbversion = reply.get(AF.hbversion);
    this.pacemaker = reply.get(AF.pacemaker);
    this.signedOn = ok;
    return ok;
  }

  async signoff(): Promise<void> {
    if (this.conn === undefined) return;
    if (this.signedOn) this.conn.send(this.boilerplate(Req.signoff));
    this.signedOn = false;
    await this.conn.end();
  }

  async initNodewalk(): Promise<boolean> {
    this.clearLog();
    if (!this.checkSignedOn()) return false;
    this.nodes = [];
    this.conn!.send(this.boilerplate(Req.nodelist));
    for (;;) {
      const reply = await this.conn!.next(isResp);
      const result = reply?.get(AF.result);
      const name = reply?.get(AF.node);
      if (reply === undefined) this.apiLog('General read_api_msg() failure');
      else if (result === undefined) this.apiLog('API reply missing result field.');
      else if (result !== Result.more && result !== Result.ok) this.apiLog(`Unexpected API result value: [${result}]`);
      else if (name === undefined) this.apiLog('No nodename in API reply');
      else {
        this.nodes.unshift({ name, status: reply!.get(AF.status), type: reply!.get(AF.nodetype) });
        if (result === Result.ok) {
          this.nodeCursor = 0;
          return true;
        }
        continue;
      }
      this.nodes = [];
      return false;
    }
  }

  nextNode(): string | undefined {
    this.clearLog();
    const n = this.nodes[this.nodeCursor];
    if (n === undefined) return undefined;
    this.nodeCursor++;
    this.currentNode = n;
    return n.name;
  }

  endNodewalk(): boolean {
    this.clearLog();
    this.nodes = [];
    return this.checkSignedOn();
  }

  async initIfwalk(host: string): Promise<boolean> {
    this.clearLog();
    if (!this.checkSignedOn()) return false;
    this.ifs = [];
    this.ifHost = undefined;
    this.conn!.send(this.boilerplate(Req.iflist).add(AF.node, host));
    for (;;) {
      const reply = await this.conn!.next(isResp);
      if (reply === undefined) return false;
      const result = reply.get(AF.result);
      const ifname = reply.get(AF.ifname);
      if ((result === Result.more || result === Result.ok) && ifname !== undefined) {
        if (!this.ifs.some((i) => i.name === ifname)) this.ifs.unshift({ name: ifname, status: reply.get(AF.status) });
        if (result === Result.ok) {
          this.ifCursor = 0;
          this.ifHost = host;
          return true;
        }
        continue;
      }
      this.ifs = [];
      const why = reply.get(AF.comment);
      if (why !== undefined) this.apiLog(why);
      return false;
    }
  }

  nextIf(): string | undefined {
    this.clearLog();
    const i = this.ifs[this.ifCursor];
    if (i === undefined) return undefined;
    this.ifCursor++;
    this.currentIf = i;
    return i.name;
  }

  endIfwalk(): boolean {
    this.clearLog();
    this.ifs = [];
    return this.checkSignedOn();
  }

  /** One value from a single-reply request: the field when result is OK, else undefined. */
  private async query(req: HaMessage, field: string): Promise<string | undefined> {
    const reply = await this.ask(req);
    if (reply === undefined) return undefined;
    return reply.get(AF.result) === Result.ok ? reply.get(field) : undefined;
  }

  async nodeStatus(host: string): Promise<string | undefined> {
    this.clearLog();
    if (!this.checkSignedOn()) return undefined;
    // The walk just returned this node: its status came with the list.
    if (this.currentNode?.name === host && this.currentNode.status !== undefined) return this.currentNode.status;
    return this.query(this.boilerplate(Req.nodestatus).add(AF.node, host), AF.status);
  }

  async nodeType(host: string): Promise<string | undefined> {
    this.clearLog();
    if (!this.checkSignedOn()) return undefined;
    if (this.currentNode?.name === host && this.currentNode.type !== undefined) return this.currentNode.type;
    return this.query(this.boilerplate(Req.nodetype).add(AF.node, host), AF.nodetype);
  }

  /** -1 on failure, like the library. */
  async nodeWeight(host: string): Promise<number> {
    this.clearLog();
    if (!this.checkSignedOn()) return -1;
    const w = await this.query(this.boilerplate(Req.nodeweight).add(AF.node, host), AF.weight);
    return w === undefined ? -1 : cAtoi(w);
  }

  async nodeSite(host: string): Promise<string | undefined> {
    this.clearLog();
    if (!this.checkSignedOn()) return undefined;
    return this.query(this.boilerplate(Req.nodesite).add(AF.node, host), AF.site);
  }

  async ifStatus(host: string, ifname: string): Promise<string | undefined> {
    this.clearLog();
    if (!this.checkSignedOn()) return undefined;
    if (this.ifHost === host && this.currentIf?.name === ifname && this.currentIf.status !== undefined) return this.currentIf.status;
    return this.query(this.boilerplate(Req.ifstatus).add(AF.node, host).add(AF.ifname, ifname), AF.status);
  }

  async clientStatus(host: string, client: string, timeoutMs: number): Promise<string | undefined> {
    this.clearLog();
    if (!this.checkSignedOn()) return undefined;
    if (host === '') {
      this.apiLog('client status : bad nodename');
      return undefined;
    }
    this.conn!.send(this.boilerplate(Req.clientstatus).add(AF.node, host).add(AF.clientName, client));
    const isAnswer = (m: HaMessage) => m.type === T_RCSTATUS || m.get(AF.subtype) === T_RCSTATUS;
    const reply = await this.conn!.next(isAnswer, timeoutMs);
    if (reply === undefined) {
      this.apiLog('No timely response.');
      return undefined;
    }
    const cs = reply.get(AF.result) === Result.ok ? reply.get(AF.clientStatus) : undefined;
    if (cs === undefined) this.apiLog('received wrong type of msg: Success');
    return cs;
  }

  async parameter(name: string): Promise<string | undefined> {
    this.clearLog();
    if (!this.checkSignedOn()) return undefined;
    // Cached at sign-on, as the library does.
    if (name === AF.hbversion && this.hbversion !== undefined) return this.hbversion;
    if (name === AF.pacemaker && this.pacemaker !== undefined) return this.pacemaker;
    return this.query(this.boilerplate(Req.getparm).add(AF.pname, name), AF.pvalue);
  }

  async resources(): Promise<string | undefined> {
    this.clearLog();
    if (!this.checkSignedOn()) return undefined;
    const reply = await this.ask(this.boilerplate(Req.getrsc));
    if (reply === undefined) return undefined;
    const value = reply.get(AF.result) === Result.ok ? reply.get(AF.resources) : undefined;
    if (value === undefined) {
      const why = reply.get(AF.comment);
      if (why !== undefined) this.apiLog(why);
    }
    return value;
  }

  private checkSignedOn(): boolean {
    if (!this.signedOn) this.apiLog('not signed on');
    return this.signedOn;
  }
}

/** sscanf("%lx"): blanks, optional 0x, hex digits. */
function scanHex(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const m = /^[ \t\n\v\f\r]*([+-]?)(?:0[xX])?([0-9a-fA-F]+)/.exec(s);
  if (!m) return undefined;
  const n = parseInt(m[2]!, 16);
  return m[1] === '-' ? -n : n;
}

function cAtoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m ? parseInt(m[1]!, 10) | 0 : 0;
}
