/**
 * service=ldap/ldaps negotiate check (spec §5), LDAPv3 over BER spoken
 * directly: a simple bind (with login and passwd when both are set, else
 * anonymous), a base-scope search of `request` (without its leading `/`)
 * for (objectClass=*), exactly one entry required, and when `receive` is
 * set the entry's DN must match it. ldaps is TLS without certificate checks.
 * Bounded by the smaller of checktimeout and negotiatetimeout, as the
 * original's alarm and client timeout.
 */
import { receiveMatcher } from './regex.js';
import { down, up, withTimeout, type CheckContext, type CheckOutcome } from './types.js';
import { StreamReader, openStream, send } from './wire.js';

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 255);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Buffer | Buffer[]): Buffer {
  const body = Array.isArray(content) ? Buffer.concat(content) : content;
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const int = (tag: number, n: number): Buffer => tlv(tag, Buffer.from(n < 128 ? [n] : [n >> 8, n & 255]));
const str = (tag: number, s: string): Buffer => tlv(tag, Buffer.from(s, 'utf8'));

export function bindRequest(id: number, dn: string, password: string): Buffer {
  return tlv(0x30, [int(0x02, id), tlv(0x60, [int(0x02, 3), str(0x04, dn), str(0x80, password)])]);
}

export function searchRequest(id: number, base: string): Buffer {
  return tlv(0x30, [
    int(0x02, id),
    tlv(0x63, [
      str(0x04, base),
      int(0x0a, 0), // scope base
      int(0x0a, 0), // never deref aliases
      int(0x02, 0), // no size limit
      int(0x02, 0), // no time limit
      tlv(0x01, Buffer.from([0])), // typesOnly false
      str(0x87, 'objectClass'), // (objectClass=*)
      tlv(0x30, [str(0x04, '1.1')]), // no attributes
    ]),
  ]);
}

export interface Ber {
  readonly tag: number;
  readonly content: Buffer;
}

/** The TLVs inside `buf`, in order. */
export function children(buf: Buffer): Ber[] {
  const out: Ber[] = [];
  let off = 0;
  while (off < buf.length) {
    const tag = buf[off]!;
    let len = buf[off + 1]!;
    off += 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n > 4) throw new Error('BER length too long');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[off + i]!;
      off += n;
    }
    if (off + len > buf.length) throw new Error('truncated BER element');
    out.push({ tag, content: buf.subarray(off, off + len) });
    off += len;
  }
  return out;
}

/** One LDAPMessage from the stream: its protocolOp element. */
async function readMessage(r: StreamReader): Promise<Ber | undefined> {
  const head = await r.bytes(2);
  if (!head) return undefined;
  if (head[0] !== 0x30) throw new Error('not an LDAP message');
  let len = head[1]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    const more = n > 0 && n <= 4 ? await r.bytes(n) : undefined;
    if (!more) throw new Error('bad LDAP message length');
    len = more.reduce((a, b) => a * 256 + b, 0);
  }
  if (len > 1 << 20) throw new Error('LDAP message too large');
  const body = await r.bytes(len);
  if (!body) return undefined;
  return children(body)[1];
}

/** resultCode and diagnosticMessage of an LDAPResult. */
function result(op: Ber): { code: number; message: string } {
  const parts = children(op.content);
  return { code: parts[0]?.content.reduce((a, b) => a * 256 + b, 0) ?? -1, message: parts[2]?.content.toString('utf8') ?? '' };
}

export function ldapCheck(c: CheckContext): Promise<CheckOutcome> {
  const v = c.virtual;
  const matches = receiveMatcher(c.real.receive);
  const bounded = { timeoutMs: Math.min(c.timeoutMs, v.checkTimeoutMs), signal: c.signal };
  return withTimeout(bounded, async (signal) => {
    const s = await openStream(c.real.address, c.port, v.service === 'ldaps', signal);
    const r = new StreamReader(s);
    try {
      const withLogin = v.login !== '' && v.passwd !== '';
      send(s, bindRequest(1, withLogin ? v.login : '', withLogin ? v.passwd : ''));
      const bound = await readMessage(r);
      if (!bound) return down('Connection failed');
      if (bound.tag !== 0x61 || result(bound).code !== 0) return down(`Bind failed${bound.tag === 0x61 ? `: ${result(bound).code} ${result(bound).message}` : ''}`);
      send(s, searchRequest(2, c.real.request.replace(/^\//, '')));
      const dns: string[] = [];
      for (;;) {
        const op = await readMessage(r);
        if (!op) return down('No answer received');
        if (op.tag === 0x64) dns.push(children(op.content)[0]?.content.toString('utf8') ?? '');
        else if (op.tag === 0x65) {
          const res = result(op);
          if (res.code !== 0 && dns.length === 0) return down(`search failed: ${res.code} ${res.message}`);
          break;
        }
      }
      send(s, tlv(0x30, [int(0x02, 3), Buffer.from([0x42, 0x00])]));
      if (dns.length !== 1) return down(`${dns.length} entries found`);
      return matches(dns[0]!) ? up(`found ${dns[0]}`) : down(`Response mismatch: ${dns[0]}`);
    } finally {
      s.destroy();
    }
  });
}
