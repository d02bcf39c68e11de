/**
 * Auth tokens against the outputs of the Debian plugins recorded in
 * heartbeat-wire.md §2.2 and the worked example of §2.6.
 */
import { describe, expect, it } from 'vitest';
import {
  HaMessage,
  classicAuthInput,
  computeAuthToken,
  decodeAuthenticPacket,
  decodePacket,
  encodeNetstringBody,
  encodeSignedClassic,
  encodeSignedNetstring,
  heartbeatCrcToken,
  signInner,
  verifyPacket,
  verifyTrailer,
  type AuthKey,
} from '../../lib/heartbeat/wire/index.js';

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

describe('tokens as the Debian plugins compute them', () => {
  const data = bytes('hello world');
  it('sha1, md5, crc of "hello world" with key "secretkey"', () => {
    expect(computeAuthToken('sha1', 'secretkey', data)).toBe('5d33f10ce687bf59ab9b03619f12eb7a0d07a707');
    expect(computeAuthToken('md5', 'secretkey', data)).toBe('cc7db04e1554c3947cd47c7591f43237');
    expect(computeAuthToken('crc', undefined, data)).toBe('8c850d51');
  });
  it('crc prints without zero padding', () => {
    // Find a short input whose CRC is below 0x10000000 and check the text has no leading zero.
    for (let i = 0; i < 5000; i++) {
      const t = heartbeatCrcToken(bytes(String(i)));
      expect(t).toMatch(/^[1-9a-f][0-9a-f]{0,7}$|^0$/);
    }
  });
  it('keys longer than the hash block are hashed first (RFC 2104)', () => {
    const long = 'k'.repeat(70);
    expect(computeAuthToken('sha1', long, data)).toHaveLength(40);
    expect(computeAuthToken('sha1', long, data)).not.toBe(computeAuthToken('sha1', long.slice(0, 64), data));
  });
});

/** heartbeat-wire.md §2.6: node alpha, key mysecret. */
function workedExample(): HaMessage {
  return new HaMessage()
    .add('t', 'status')
    .add('st', 'active')
    .add('dt', '7530')
    .add('protocol', '1')
    .add('src', 'alpha')
    .addBinary('srcuuid', Uint8Array.from([0x6f, 0x1c, 0x2a, 0x8e, 0x11, 0x22, 0x4d, 0x33, 0x9a, 0xbc, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab]))
    .add('seq', '1f')
    .add('hg', '4')
    .add('ts', '65f00000')
    .add('ld', '0.08 0.03 0.01 1/187 1234')
    .add('ttl', '3');
}

const SHA1: AuthKey = { index: 1, method: 'sha1', key: 'mysecret' };

describe('worked example (heartbeat-wire.md §2.6)', () => {
  it('inner auth input is the 143 documented bytes', () => {
    const input = classicAuthInput(workedExample());
    expect(input.length).toBe(143);
    expect(text(input)).toBe(
      't=status\nst=active\ndt=7530\nprotocol=1\nsrc=alpha\n(1)srcuuid=bxwqjhEiTTOavAEjRWeJqw==\nseq=1f\nhg=4\nts=65f00000\nld=0.08 0.03 0.01 1/187 1234\nttl=3\n',
    );
  });

  it('sha1: the 303-byte packet with inner field and trailer', () => {
    const packet = encodeSignedNetstring(workedExample(), { key: SHA1 });
    expect(packet.length).toBe(303);
    const expected =
      '###\n11:(0)t=status,12:(0)st=active,10:(0)dt=7530,13:(0)protocol=1,12:(0)src=alpha,' +
      '27:(1)srcuuid=\x6f\x1c\x2a\x8e\x11\x22\x4d\x33\x9a\xbc\x01\x23\x45\x67\x89\xab,' +
      '9:(0)seq=1f,7:(0)hg=4,14:(0)ts=65f00000,31:(0)ld=0.08 0.03 0.01 1/187 1234,8:(0)ttl=3,' +
      '50:(0)auth=1 3ad3db713f184d9310b83cad4f0dd73ec27800e4,%%%\n' +
      '42:1 3f61894a8c63be26a7bc41270a7bc2a994465e2e,';
    expect(text(packet)).toBe(expected);
    expect(decodeAuthenticPacket(packet, [SHA1]).message.get('auth')).toBe('1 3ad3db713f184d9310b83cad4f0dd73ec27800e4');
  });

  it('md5 and crc give the documented inner fields and trailers', () => {
    const md5 = text(encodeSignedNetstring(workedExample(), { key: { index: 1, method: 'md5', key: 'mysecret' } }));
    expect(md5).toContain('(0)auth=1 cb2d06682641ada4e76cc0afff4789c3,');
    expect(md5.endsWith('%%%\n34:1 4973eae3be835c16268157690ecf360d,')).toBe(true);
    const crc = text(encodeSignedNetstring(workedExample(), { key: { index: 1, method: 'crc' } }));
    expect(crc).toContain('(0)auth=1 1bef209e,');
    expect(crc.endsWith('%%%\n10:1 c7e136e8,')).toBe(true);
  });

  it('the classic form carries the same inner field and verifies', () => {
    const packet = encodeSignedClassic(workedExample(), { key: SHA1 });
    expect(text(packet)).toBe('>>>\n' + text(classicAuthInput(workedExample())) + 'auth=1 3ad3db713f184d9310b83cad4f0dd73ec27800e4\n<<<\n');
    expect(decodeAuthenticPacket(packet, [SHA1]).format).toBe('classic');
  });

  it('signing replaces an existing auth field in place', () => {
    const m = workedExample();
    signInner(m, SHA1);
    m.add('extra', 'x');
    signInner(m, SHA1);
    expect(m.fields.filter((f) => f.name === 'auth')).toHaveLength(1);
    expect(m.fields[m.size - 1]!.name).toBe('extra');
  });

  it('netstring without the inner field (msgfmt netstring) still verifies by trailer', () => {
    const packet = encodeSignedNetstring(workedExample(), { key: SHA1, innerAuth: false });
    expect(text(packet)).not.toContain('auth=');
    expect(verifyPacket(decodePacket(packet), [SHA1])).toEqual({ ok: true, index: 1 });
  });
});

describe('key rotation', () => {
  const oldKey: AuthKey = { index: 1, method: 'sha1', key: 'old' };
  const newKey: AuthKey = { index: 2, method: 'sha1', key: 'new' };

  it('a trailer is checked with the key of the index it names', () => {
    const p = decodePacket(encodeSignedNetstring(workedExample(), { key: newKey }));
    expect(verifyPacket(p, [oldKey, newKey])).toEqual({ ok: true, index: 2 });
  });

  it("trailerKey 'active' reproduces the 3.0.6 receiver: the local active key is used", () => {
    const p = decodePacket(encodeSignedNetstring(workedExample(), { key: newKey }));
    if (p.format !== 'netstring') throw new Error('netstring expected');
    expect(verifyTrailer(p.signedBytes, p.trailer, [oldKey, newKey], { trailerKey: 'active', activeIndex: 1 })).toMatchObject({ ok: false, code: 'WIRE_AUTH_MISMATCH' });
    expect(verifyTrailer(p.signedBytes, p.trailer, [oldKey, newKey], { trailerKey: 'active', activeIndex: 2 })).toEqual({ ok: true, index: 2 });
  });

  it('the trailer covers the inner field', () => {
    const m = workedExample();
    signInner(m, SHA1);
    const body = encodeNetstringBody(m);
    expect(text(body)).toContain('auth=1 ');
  });
});
