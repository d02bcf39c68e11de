/**
 * service=radius negotiate check (spec §5): an Access-Request (RFC 2865)
 * with User-Name = login, User-Password = passwd hidden with `secret`,
 * NAS-IP-Address = our address, and a Message-Authenticator (RFC 3579, what
 * servers hardened against BlastRADIUS look for). Any reply counts as up
 * (accept or reject), as the original, provided its Response Authenticator
 * shows the server shares our secret (a reply signed with another secret is
 * down, with that reason). Bounded by the smaller of
 * checktimeout and negotiatetimeout, as the original's alarm and client.
 */
import { createHash, createHmac, randomBytes, randomInt } from 'node:crypto';
import * as net from 'node:net';
import { down, up, withTimeout, type CheckContext, type CheckOutcome } from './types.js';
import { udpExchange } from './udp.js';

const ACCESS_REQUEST = 1;
const CODES: Record<number, string> = { 2: 'Access-Accept', 3: 'Access-Reject', 11: 'Access-Challenge' };

function attr(type: number, value: Buffer): Buffer {
  if (value.length > 253) throw new Error(`RADIUS attribute ${type} too long`);
  return Buffer.concat([Buffer.from([type, value.length + 2]), value]);
}

/** RFC 2865 §5.2: the password padded to 16-byte blocks, each XORed with MD5(secret + previous block). */
export function hidePassword(password: string, secret: string, authenticator: Buffer): Buffer {
  const p = Buffer.from(password, 'utf8');
  const padded = Buffer.alloc(Math.max(16, Math.ceil(p.length / 16) * 16));
  p.copy(padded);
  const out = Buffer.alloc(padded.length);
  let prev = authenticator;
  for (let i = 0; i < padded.length; i += 16) {
    const h = createHash('md5').update(Buffer.from(secret, 'utf8')).update(prev).digest();
    for (let j = 0; j < 16; j++) out[i + j] = padded[i + j]! ^ h[j]!;
    prev = out.subarray(i, i + 16);
  }
  return out;
}

export function accessRequest(id: number, authenticator: Buffer, login: string, passwd: string, secret: string, nasIp: string): Buffer {
  const attrs = [attr(1, Buffer.from(login, 'utf8')), attr(2, hidePassword(passwd, secret, authenticator))];
  if (net.isIPv4(nasIp)) attrs.push(attr(4, Buffer.from(nasIp.split('.').map(Number))));
  attrs.push(attr(80, Buffer.alloc(16)));
  const body = Buffer.concat(attrs);
  const packet = Buffer.concat([Buffer.from([ACCESS_REQUEST, id, 0, 0]), authenticator, body]);
  packet.writeUInt16BE(packet.length, 2);
  const mac = createHmac('md5', Buffer.from(secret, 'utf8')).update(packet).digest();
  mac.copy(packet, packet.length - 16);
  return packet;
}

/** Whether a reply belongs to our request: same identifier and a Response Authenticator made with our secret. */
export function replyValid(reply: Buffer, id: number, requestAuthenticator: Buffer, secret: string): boolean {
  if (reply.length < 20 || reply[1] !== id || reply.readUInt16BE(2) > reply.length) return false;
  const len = reply.readUInt16BE(2);
  const expect = createHash('md5')
    .update(reply.subarray(0, 4))
    .update(requestAuthenticator)
    .update(reply.subarray(20, len))
    .update(Buffer.from(secret, 'utf8'))
    .digest();
  return expect.equals(reply.subarray(4, 20));
}

export function radiusCheck(c: CheckContext): Promise<CheckOutcome> {
  const v = c.virtual;
  const bounded = { timeoutMs: Math.min(c.timeoutMs, v.checkTimeoutMs), signal: c.signal };
  const id = randomInt(0, 256);
  const authenticator = randomBytes(16);
  return withTimeout(bounded, async (signal) => {
    const msg = await udpExchange(
      c.real.address,
      c.port,
      signal,
      (local) => accessRequest(id, authenticator, v.login, v.passwd, v.secret, local.address),
      (m) => m.length >= 20 && m[1] === id, // a stray datagram: keep waiting
    );
    if (!replyValid(msg, id, authenticator, v.secret)) return down('reply with a wrong Response Authenticator (secret differs)');
    return up(CODES[msg[0]!] ?? `code ${msg[0]}`);
  });
}
