/**
 * The request side of the local client API, as a pure core: one ApiSession
 * per connection takes decoded messages and returns what to send back, what
 * to forward to the cluster and whether to drop the connection. It answers
 * from an injected ClusterView and never throws on client input: a malformed
 * or unexpected request gets the reply (or the silence) Heartbeat 3.0.6's
 * hb_api.c gives it.
 */
import { HaMessage } from '../wire/message.js';
import { AF, Req, Result, T_APICLISTAT, T_APIREQ } from './protocol.js';
import { answerQuery, response } from './queries.js';
import type { ClusterView } from './view.js';

export interface ApiClient {
  readonly pid: number;
  /** `from_id`; casual clients (cl_status) use their pid. */
  readonly clientId: string;
  /** A casual client may only query; a named one may also send cluster messages. */
  readonly casual: boolean;
  readonly uid: number;
  readonly gid: number;
}

/** What the session needs from outside besides the view. */
export interface ApiEnv {
  readonly view: ClusterView;
  /** Whether a process exists (kill(pid, 0)); the original refuses sign-on for a dead pid. */
  pidExists(pid: number): boolean;
  /** Whether a client of that id is signed on over any connection. */
  clientSignedOn(clientId: string): boolean;
  /** The next client generation (a server-wide counter, bumped at every sign-on attempt); 0 when absent. */
  nextClientGeneration?(): number;
}

export interface ApiOutcome {
  /** Replies in order (nodelist/iflist answer with several). */
  readonly replies: HaMessage[];
  /** Messages for the cluster: named clients' traffic and remote client-status queries. */
  readonly toCluster: HaMessage[];
  /** Drop the connection after sending the replies; the reason is for the log. */
  close?: string;
  /** Why a request got no answer, for a rate-limited debug log. */
  ignored?: string;
}


/** C's atoi: optional blanks and sign, then leading digits; 0 when none. */
export function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  if (!m) return 0;
  const n = parseInt(m[1]!, 10);
  return Math.max(-2147483648, Math.min(2147483647, n));
}

/** sscanf("%ld") succeeded: blanks, optional sign, at least one digit. */
const scansLong = (s: string): boolean => /^[ \t\n\v\f\r]*[+-]?\d/.test(s);





/**
 * `hbapi-clstat`: a named client joined or left, told to the cluster (and,
 * when it leaves, to the client itself) so that peers' clients such as
 * ipfail learn about it. Casual clients are never announced.
 */
export function clientStatusMessage(client: ApiClient, status: 'join' | 'leave', reason: string, localNode: string, generation: number): HaMessage {
  return new HaMessage()
    .add(AF.type, T_APICLISTAT)
    .add(AF.status, status)
    .add(AF.fromId, client.clientId)
    .add(AF.toId, client.clientId)
    .add('src', localNode)
    .add(AF.comment, reason)
    .add(AF.clientGeneration, String(generation));
}

export class ApiSession {
  private signedOn: ApiClient | undefined;
  private generation = 0;

  /** The signed-on client of this connection, if any. */
  get client(): ApiClient | undefined {
    return this.signedOn;
  }

  handle(msg: HaMessage, env: ApiEnv): ApiOutcome {
    const out: ApiOutcome = { replies: [], toCluster: [] };
    if (this.signedOn === undefined) this.signon(msg, env, out);
    else this.request(this.signedOn, msg, env, out);
    if (out.close !== undefined && this.signedOn !== undefined) this.leaveInto(out.close === 'signoff' ? 'signoff' : 'badclient', env, out);
    return out;
  }

  /**
   * The connection is gone (`EOF`) or being dropped: a named client's
   * departure is announced. Idempotent; nothing for casual clients.
   */
  leave(reason: string, env: ApiEnv): ApiOutcome {
    const out: ApiOutcome = { replies: [], toCluster: [] };
    this.leaveInto(reason, env, out);
    return out;
  }

  private leaveInto(reason: string, env: ApiEnv, out: ApiOutcome): void {
    const client = this.signedOn;
    if (client === undefined) return;
    this.signedOn = undefined;
    if (client.casual) return;
    const m = clientStatusMessage(client, 'leave', reason, env.view.localNode(), this.generation);
    out.replies.push(m);
    out.toCluster.push(m.clone());
  }

  // ---- sign-on (api_process_registration_msg, api_add_client) ----

  private signon(msg: HaMessage, env: ApiEnv, out: ApiOutcome): void {
    const reqtype = msg.get(AF.reqtype);
    if (msg.type !== T_APIREQ || reqtype !== Req.signon) {
      out.ignored = 'first message is not a sign-on';
      return;
    }
    const fromId = msg.get(AF.fromId);
    const pidText = msg.get(AF.pid);
    if (fromId === undefined && pidText === undefined) {
      out.ignored = 'sign-on without from_id and pid';
      return;
    }
    this.generation = env.nextClientGeneration?.() ?? 0;
    const pid = pidText === undefined ? 0 : atoi(pidText);
    const resp = response(reqtype);
    let failure: string | undefined;
    let client: ApiClient | undefined;
    const uidText = msg.get(AF.uid);
    const gidText = msg.get(AF.gid);
    if (pid <= 0 || !env.pidExists(pid)) failure = 'bad pid';
    else if (fromId !== undefined && env.clientSignedOn(fromId)) failure = 'duplicate add request';
    else if (uidText === undefined || gidText === undefined || !scansLong(uidText) || !scansLong(gidText)) failure = 'invalid id info';
    else {
      // SO_PEERCRED is out of reach from Node: who may connect is decided by
      // the permissions of the socket's directory (see server.ts).
      client = {
        pid,
        clientId: fromId ?? String(pid),
        casual: fromId === undefined || atoi(fromId) === pid,
        uid: atoi(uidText),
        gid: atoi(gidText),
      };
    }
    if (failure !== undefined) resp.add(AF.comment, failure);
    resp.add(AF.result, failure === undefined ? Result.ok : Result.badreq);
    const info = env.view.signonInfo();
    resp.add(AF.deadtime, Math.max(0, Math.trunc(info.deadtimeMs)).toString(16));
    resp.add(AF.keepalive, Math.max(0, Math.trunc(info.keepaliveMs)).toString(16));
    resp.add(AF.node, env.view.localNode());
    resp.add(AF.hbversion, info.hbVersion);
    // The original cannot build its reply without a pacemaker value; we leave
    // the field out instead, and the client then asks `getparm pacemaker`.
    const pacemaker = env.view.parameter(AF.pacemaker);
    if (pacemaker !== undefined) resp.add(AF.pacemaker, pacemaker);
    resp.add(AF.logfacility, String(Math.trunc(info.logFacility)));
    out.replies.push(resp);
    if (client === undefined) {
      out.close = `sign-on refused: ${failure}`;
      return;
    }
    this.signedOn = client;
    if (!client.casual) out.toCluster.push(clientStatusMessage(client, 'join', Req.signon, env.view.localNode(), this.generation));
  }

  // ---- requests (api_process_request and the query handlers) ----

  private request(client: ApiClient, msg: HaMessage, env: ApiEnv, out: ApiOutcome): void {
    const type = msg.type;
    if (type === undefined) {
      out.ignored = 'message without a type';
      return;
    }
    if (type !== T_APIREQ) {
      if (client.casual) {
        out.close = 'badclient: general message from a casual client';
        return;
      }
      const fwd = msg
        .clone()
        .setString(AF.fromId, client.clientId)
        .setString(AF.toId, client.clientId)
        .setString(AF.clientGeneration, String(this.generation));
      out.toCluster.push(fwd);
      return;
    }
    const fromId = msg.get(AF.fromId);
    const pidText = msg.get(AF.pid);
    const reqtype = msg.get(AF.reqtype);
    if ((fromId === undefined && pidText === undefined) || reqtype === undefined) {
      out.ignored = 'request without from_id/pid or reqtype';
      return;
    }
    const sameClient = fromId !== undefined ? fromId === client.clientId : atoi(pidText!) === client.pid;
    if (!sameClient) {
      out.ignored = 'request names another client';
      return;
    }
    answerQuery({ reqtype, msg, fromId, env, out });
  }
}
