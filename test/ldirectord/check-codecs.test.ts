/**
 * The pure parts of the protocol checks: known vectors (RFC 7677 SCRAM, an
 * anonymous LDAP bind), RADIUS password hiding undone by the RFC 2865
 * recipe, DNS names and records, and decoders fed random bytes (they return
 * or throw an Error, never anything else, never loop).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeResponse, dnsQuestion, encodeQuery } from '../../lib/ldirectord/checks/dns.js';
import { ftpReply } from '../../lib/ldirectord/checks/ftp.js';
import { bindRequest, children, searchRequest } from '../../lib/ldirectord/checks/ldap.js';
import { accessRequest, hidePassword, replyValid } from '../../lib/ldirectord/checks/radius.js';
import { sipRequest } from '../../lib/ldirectord/checks/sip.js';
import { scramClientFinal } from '../../lib/ldirectord/checks/sql.js';
import { StreamReader } from '../../lib/ldirectord/checks/wire.js';
import { PassThrough } from 'node:stream';
import type * as net from 'node:net';

/** RFC 2865 §5.2 in reverse: what the server does. */
function revealPassword(hidden: Buffer, secret: string, authenticator: Buffer): string {
  const out = Buffer.alloc(hidden.length);
  let prev = authenticator;
  for (let i = 0; i < hidden.length; i += 16) {
    const h = createHash('md5').update(secret).update(prev).digest();
    for (let j = 0; j < 16; j++) out[i + j] = hidden[i + j]! ^ h[j]!;
    prev = hidden.subarray(i, i + 16);
  }
  return out.toString('utf8').replace(/\0+$/, '');
}

describe('RADIUS', () => {
  it('hides the password so that the server recovers it; blocks of 16 bytes', () => {
    fc.assert(fc.property(fc.string({ maxLength: 120 }).filter((s) => !s.includes('\0')), fc.string({ minLength: 1, maxLength: 40 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (pw, secret, auth) => {
      const hidden = hidePassword(pw, secret, Buffer.from(auth));
      expect(hidden.length % 16).toBe(0);
      expect(hidden.length).toBeGreaterThanOrEqual(16);
      expect(revealPassword(hidden, secret, Buffer.from(auth))).toBe(pw);
    }));
  });

  it('builds an Access-Request with its length, attributes and a valid Message-Authenticator; checks reply authenticators', () => {
    const auth = Buffer.alloc(16, 7);
    const p = accessRequest(42, auth, 'alice', 'secret', 's3', '127.0.0.1');
    expect([p[0], p[1], p.readUInt16BE(2)]).toEqual([1, 42, p.length]);
    expect(p.includes(Buffer.from([1, 7, ...Buffer.from('alice')]))).toBe(true);
    expect(p.includes(Buffer.from([4, 6, 127, 0, 0, 1]))).toBe(true);
    const reply = Buffer.concat([Buffer.from([3, 42, 0, 20]), Buffer.alloc(16)]);
    createHash('md5').update(reply.subarray(0, 4)).update(auth).update('s3').digest().copy(reply, 4);
    expect(replyValid(reply, 42, auth, 's3')).toBe(true);
    expect(replyValid(reply, 42, auth, 'other')).toBe(false);
    expect(replyValid(reply, 41, auth, 's3')).toBe(false);
  });
});

describe('DNS', () => {
  it('asks PTR for addresses and A for names', () => {
    expect(dnsQuestion('/10.1.2.3')).toEqual({ name: '3.2.1.10.in-addr.arpa', type: 12 });
    expect(dnsQuestion('/www.example.test')).toEqual({ name: 'www.example.test', type: 1 });
    const v6 = dnsQuestion('/2001:db8::1');
    expect(v6.type).toBe(12);
    expect(v6.name).toBe(`1.${'0.'.repeat(23)}8.b.d.0.1.0.0.2.ip6.arpa`);
  });

  it('decodes A and compressed PTR answers', () => {
    const q = encodeQuery(0x1234, 'www.example.test', 1);
    const header = Buffer.from(q.subarray(0, 12));
    header[2] = 0x81;
    header[3] = 0x80;
    header.writeUInt16BE(2, 6);
    const question = q.subarray(12);
    const a = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 1, 2, 3]);
    const ptr = Buffer.from([0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 60, 0, 6, 3, ...Buffer.from('abc'), 0xc0, 16]);
    const msg = Buffer.concat([header, question, a, ptr]);
    expect(decodeResponse(msg, 0x1234)).toEqual({ rcode: 0, answers: [{ type: 1, value: '10.1.2.3' }, { type: 12, value: 'abc.example.test' }] });
    expect(() => decodeResponse(msg, 0x4321)).toThrow(/another id/);
  });

  it('random replies: a result or an Error, never a hang or a crash of another kind', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const b = Buffer.from(bytes);
      if (b.length >= 2) b.writeUInt16BE(7, 0);
      try {
        decodeResponse(b, 7);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
      }
    }));
  });
});

describe('LDAP', () => {
  it('encodes an anonymous bind and a base search as LDAPv3 BER', () => {
    expect(bindRequest(1, '', '').toString('hex')).toBe('300c020101600702010304008000');
    const search = children(children(searchRequest(2, 'dc=x'))[0]!.content)[1]!;
    expect(search.tag).toBe(0x63);
    expect(children(search.content).map((e) => e.tag)).toEqual([0x04, 0x0a, 0x0a, 0x02, 0x02, 0x01, 0x87, 0x30]);
  });

  it('random BER: a result or an Error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      try {
        children(Buffer.from(bytes));
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
      }
    }));
  });
});

describe('PostgreSQL SCRAM-SHA-256', () => {
  it('matches the RFC 7677 example', () => {
    const r = scramClientFinal('pencil', 'n=user,r=rOprNGfwEbeRWgbNEkqO', 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
    expect(r.message).toBe('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    expect(r.serverSignature.toString('base64')).toBe('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  });
});

describe('SIP and FTP', () => {
  it('OPTIONS has the original\'s header lines in order', () => {
    const lines = sipRequest('ldirectord@director', '127.0.0.1', 5070).split('\r\n');
    expect(lines.map((l) => l.split(':')[0])).toEqual(['OPTIONS sip', 'Via', 'Max-Forwards', 'To', 'From', 'Call-ID', 'CSeq', 'Contact', 'Accept', 'Content-Length', '', '']);
    expect(lines[1]).toBe('Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKhjhs8ass877');
    expect(lines[4]).toBe('From: <sip:ldirectord@director>;tag=1928301774');
  });

  it('reads multi-line FTP replies to their last line', async () => {
    const stream = new PassThrough();
    const r = new StreamReader(stream as unknown as net.Socket);
    stream.end('220-Welcome\r\n220-more\r\n220 ready\r\n331 password\r\n');
    expect(await ftpReply(r)).toEqual({ code: 220, text: '220-Welcome' });
    expect(await ftpReply(r)).toEqual({ code: 331, text: '331 password' });
    expect(await ftpReply(r)).toBeUndefined();
  });
});
