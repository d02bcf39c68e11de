/**
 * service=dns negotiate check (spec §5): the real is asked, as a name server
 * on the check port, for `request` (without its leading `/`): an address is
 * looked up as a PTR record (in-addr.arpa / ip6.arpa), anything else as an A
 * record. UDP, or TCP when the virtual's protocol is tcp. Up iff an answer
 * is an A record whose address, or a PTR record whose name, matches
 * `receive`; an empty receive is always down, as in the original.
 */
import { randomInt } from 'node:crypto';
import * as net from 'node:net';
import { receiveMatcher } from './regex.js';
import { down, up, withTimeout, type CheckContext, type CheckOutcome } from './types.js';
import { StreamReader, openStream } from './wire.js';
import { udpExchange } from './udp.js';

const TYPE_A = 1;
const TYPE_PTR = 12;

/** The name and type to ask for: addresses become reverse (PTR) names. */
export function dnsQuestion(request: string): { name: string; type: number } {
  const q = request.replace(/^\//, '');
  if (net.isIPv4(q)) return { name: `${q.split('.').reverse().join('.')}.in-addr.arpa`, type: TYPE_PTR };
  if (net.isIPv6(q)) {
    const groups = q.split('::');
    const head = groups[0] ? groups[0].split(':') : [];
    const tail = groups.length > 1 && groups[1] ? groups[1].split(':') : [];
    const full = [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail].map((g) => g.padStart(4, '0')).join('');
    return { name: `${[...full].reverse().join('.')}.ip6.arpa`, type: TYPE_PTR };
  }
  return { name: q.replace(/\.$/, ''), type: TYPE_A };
}

export function encodeQuery(id: number, name: string, type: number): Buffer {
  const labels = name === '' ? [] : name.split('.');
  const parts: Buffer[] = [Buffer.from([id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of labels) {
    const b = Buffer.from(l, 'latin1');
    if (b.length === 0 || b.length > 63) throw new Error(`bad DNS name ${JSON.stringify(name)}`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0, type >> 8, type & 255, 0, 1]));
  return Buffer.concat(parts);
}

/** A (possibly compressed) name at `off`; returns the name and the offset after it in the record. */
function readName(msg: Buffer, off: number): { name: string; next: number } {
  const labels: string[] = [];
  let next = -1;
  for (let hops = 0; hops < 64; hops++) {
    if (off >= msg.length) throw new Error('truncated name');
    const len = msg[off]!;
    if (len === 0) {
      if (next < 0) next = off + 1;
      return { name: labels.join('.'), next };
    }
    if ((len & 0xc0) === 0xc0) {
      if (next < 0) next = off + 2;
      off = ((len & 0x3f) << 8) | msg[off + 1]!;
      continue;
    }
    labels.push(msg.subarray(off + 1, off + 1 + len).toString('latin1'));
    off += 1 + len;
  }
  throw new Error('name compression loop');
}

export interface DnsAnswer {
  readonly type: number;
  /** A: the dotted address; PTR: the name; others: empty. */
  readonly value: string;
}

export function decodeResponse(msg: Buffer, id: number): { rcode: number; answers: DnsAnswer[] } {
  if (msg.length < 12) throw new Error('short DNS reply');
  if (msg.readUInt16BE(0) !== id) throw new Error('DNS reply with another id');
  if ((msg[2]! & 0x80) === 0) throw new Error('not a DNS reply');
  const rcode = msg[3]! & 0x0f;
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  let off = 12;
  for (let i = 0; i < qd; i++) off = readName(msg, off).next + 4;
  const answers: DnsAnswer[] = [];
  for (let i = 0; i < an; i++) {
    const n = readName(msg, off);
    off = n.next;
    const type = msg.readUInt16BE(off);
    const rdlen = msg.readUInt16BE(off + 8);
    const rdata = off + 10;
    if (rdata + rdlen > msg.length) throw new Error('truncated DNS record');
    let value = '';
    if (type === TYPE_A && rdlen === 4) value = [...msg.subarray(rdata, rdata + 4)].join('.');
    else if (type === TYPE_PTR) value = readName(msg, rdata).name;
    answers.push({ type, value });
    off = rdata + rdlen;
  }
  return { rcode, answers };
}

function udpQuery(host: string, port: number, query: Buffer, signal: AbortSignal): Promise<Buffer> {
  const id = query.readUInt16BE(0);
  // Not ours (another id): keep waiting.
  return udpExchange(host, port, signal, () => query, (msg) => msg.length >= 2 && msg.readUInt16BE(0) === id);
}

async function tcpQuery(host: string, port: number, query: Buffer, signal: AbortSignal): Promise<Buffer> {
  const s = await openStream(host, port, false, signal);
  try {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(query.length);
    s.write(Buffer.concat([len, query]));
    const r = new StreamReader(s);
    const head = await r.bytes(2);
    if (!head) throw new Error('connection closed');
    const body = await r.bytes(head.readUInt16BE(0));
    if (!body) throw new Error('connection closed');
    return body;
  } finally {
    s.destroy();
  }
}

export function dnsCheck(c: CheckContext): Promise<CheckOutcome> {
  const receive = c.real.receive;
  const matches = receiveMatcher(receive);
  return withTimeout(c, async (signal) => {
    const { name, type } = dnsQuestion(c.real.request);
    const id = randomInt(0, 65536);
    const query = encodeQuery(id, name, type);
    const send = c.virtual.protocol === 'tcp' ? tcpQuery : udpQuery;
    const { rcode, answers } = decodeResponse(await send(c.real.address, c.port, query, signal), id);
    if (rcode !== 0) return down(`rcode ${rcode} for ${name}`);
    if (receive === '') return down('receive is empty');
    const hit = answers.find((a) => (a.type === TYPE_A || a.type === TYPE_PTR) && matches(a.value));
    return hit ? up(`${name}: ${hit.value}`) : down(`Response mismatch for ${name}`);
  }, 'Connection timed out');
}
