/**
 * The answers to signed-on clients' requests (hb_api.c's query handlers),
 * one case per request type, from the ClusterView. A reply is built the way
 * the original builds it: `t`, `reqtype`, the handler's fields, then
 * `result` (and `info` after `result=badreq`).
 */
import { HaMessage } from '../wire/message.js';
import type { ApiEnv, ApiOutcome } from './handler.js';
import { AF, Req, Result, T_APIRESP, T_QCSTATUS, T_RCSTATUS } from './protocol.js';
import type { ApiNode } from './view.js';

export interface Query {
  readonly reqtype: string;
  readonly msg: HaMessage;
  /** The request's `from_id`, when it has one. */
  readonly fromId: string | undefined;
  readonly env: ApiEnv;
  readonly out: ApiOutcome;
}

const EINVAL = 'EINVAL';

/** ASCII lowercase, as the original lowercases node names before lookup. */
const asciiLower = (s: string): string => s.replace(/[A-Z]+/g, (c) => c.toLowerCase());

export function response(reqtype: string): HaMessage {
  return new HaMessage().add(AF.type, T_APIRESP).add(AF.reqtype, reqtype);
}

function badreq(resp: HaMessage, reason?: string): HaMessage {
  resp.add(AF.result, Result.badreq);
  if (reason !== undefined) resp.add(AF.comment, reason);
  return resp;
}

function ok(resp: HaMessage): HaMessage {
  return resp.setString(AF.result, Result.ok);
}

/** Answers one request into `out` (replies, cluster messages, close). */
export function answerQuery({ reqtype, msg, fromId, env, out }: Query): void {
  const resp = response(reqtype);
  const reply = (m: HaMessage): void => {
    out.replies.push(m);
  };
  const nodeOf = (name: string | undefined): ApiNode | undefined => {
    if (name === undefined) return undefined;
    const wanted = asciiLower(name);
    return env.view.nodes().find((n) => n.name === wanted);
  };
  switch (reqtype) {
    case Req.signoff:
      out.close = 'signoff';
      return;
    case Req.setfilter: {
      const mask = msg.get('fmask');
      return reply(mask !== undefined && /^\s*(0[xX])?[0-9a-fA-F]/.test(mask) && (parseInt(mask, 16) & 0x3f) !== 0 ? ok(resp) : badreq(resp, EINVAL));
    }
    case Req.setsignal: {
      const sig = msg.get('signal');
      const n = sig !== undefined && /^\s*\+?\d/.test(sig) ? parseInt(sig, 10) : -1;
      return reply(n >= 0 && n < 32 && n !== 9 && n !== 19 ? ok(resp) : badreq(resp));
    }
    case Req.setSendqlen:
      return;
    case Req.nodelist: {
      const nodes = env.view.nodes();
      nodes.forEach((n, i) => {
        resp.setString(AF.node, n.name).setString(AF.nodetype, n.type).setString(AF.status, n.status);
        resp.setString(AF.result, i === nodes.length - 1 ? Result.ok : Result.more);
        reply(resp.clone());
      });
      return;
    }
    case Req.nodestatus: {
      const n = nodeOf(msg.get(AF.node));
      return reply(n ? ok(resp.add(AF.status, n.status)) : badreq(resp, EINVAL));
    }
    case Req.nodeweight: {
      const n = nodeOf(msg.get(AF.node));
      return reply(n ? ok(resp.add(AF.weight, String(n.weight ?? 100))) : badreq(resp, EINVAL));
    }
    case Req.nodesite: {
      const n = nodeOf(msg.get(AF.node));
      return reply(n ? ok(resp.add(AF.site, n.site ?? '')) : badreq(resp, EINVAL));
    }
    case Req.nodetype: {
      const n = nodeOf(msg.get(AF.node));
      return reply(n ? ok(resp.add(AF.nodetype, n.type)) : badreq(resp, EINVAL));
    }
    case Req.numnodes:
      return reply(ok(resp.add(AF.numnodes, String(env.view.nodes().filter((n) => n.type === 'normal').length))));
    case Req.iflist: {
      const n = nodeOf(msg.get(AF.node));
      if (!n) return reply(badreq(resp, EINVAL));
      if (n.type === 'ping') {
        // A ping node has one link, named after the node itself.
        const link = n.links.find((l) => l.name === n.name);
        if (!link) return reply(badreq(resp, 'UhOh'));
        return reply(ok(resp.add(AF.ifname, link.name).add(AF.status, link.status)));
      }
      // As the original: the OK goes with the last link unless that one is a
      // ping link, which is never listed (a node whose links are all ping
      // links gets no answer at all, and the client times out).
      let last = n.links.length - 1;
      if (last >= 0 && n.links[last]!.isPing === true) last--;
      n.links.forEach((l, j) => {
        if (j > last || l.isPing === true) return;
        resp.setString(AF.ifname, l.name).setString(AF.status, l.status);
        resp.setString(AF.result, j === last ? Result.ok : Result.more);
        reply(resp.clone());
      });
      return;
    }
    case Req.ifstatus: {
      const n = nodeOf(msg.get(AF.node));
      const ifname = msg.get(AF.ifname);
      const link = n && ifname !== undefined ? n.links.find((l) => l.name === ifname) : undefined;
      return reply(link ? ok(resp.add(AF.status, link.status)) : badreq(resp, EINVAL));
    }
    case Req.clientstatus: {
      const nodeName = msg.get(AF.node);
      const cname = msg.get(AF.clientName);
      const n = nodeOf(nodeName);
      if (nodeName === undefined || cname === undefined || fromId === undefined || !n) return reply(badreq(resp, EINVAL));
      resp.add(AF.subtype, T_RCSTATUS);
      if (nodeName === env.view.localNode()) {
        const online = env.clientSignedOn(cname) || env.view.localClients().includes(cname);
        return reply(ok(resp.add(AF.clientStatus, online ? 'online' : 'offline')));
      }
      if (n.status !== 'active') return reply(ok(resp.add(AF.clientStatus, 'offline')));
      // The answer comes from the other node as respond-cstatus, if ever.
      out.toCluster.push(new HaMessage().add(AF.type, T_QCSTATUS).add(AF.to, nodeName).add(AF.clientName, cname).add(AF.fromId, fromId));
      return;
    }
    case Req.getparm: {
      const pname = msg.get(AF.pname);
      if (pname === undefined) return reply(badreq(resp, EINVAL));
      const value = env.view.parameter(pname === 'crm' ? AF.pacemaker : pname);
      if (value !== undefined) resp.add(AF.pvalue, value);
      return reply(ok(resp));
    }
    case Req.getrsc: {
      const state = env.view.resourceState();
      if (state === undefined) return reply(badreq(resp, 'Resource is managed by crm. Use crm tool to query resource'));
      return reply(ok(resp.add(AF.resources, state)));
    }
    case Req.getuuid:
      // Node UUIDs are not part of the view yet: answered as for an unknown name.
      return reply(msg.get(AF.queryName) === undefined ? badreq(resp, 'no query node name found') : ok(resp));
    case Req.getnodename:
      return reply(msg.field(AF.queryUuid) === undefined ? badreq(resp, 'no query node name found') : ok(resp));
    default:
      return reply(badreq(resp));
  }
}
