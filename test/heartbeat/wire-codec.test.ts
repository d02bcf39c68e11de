/** Codec behaviour on hand-made input: formats, nesting, limits and every decode error code. */
import { describe, expect, it } from 'vitest';
import {
  HaMessage,
  MAX_WIRE_MESSAGE_BYTES,
  WireError,
  addControlFields,
  decodeClassic,
  decodeNetstring,
  decodePacket,
  encodeClassic,
  encodeNetstring,
  messagesEqual,
  reencodePacket,
} from '../../lib/heartbeat/wire/index.js';

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof WireError) return e.code;
    throw e;
  }
  return 'no error';
}
const decodeCode = (s: string): string => codeOf(() => decodePacket(bytes(s)));

describe('netstring format', () => {
  it('encodes every field with its (type) prefix and exact length', () => {
    const m = new HaMessage().add('t', 'x').add('empty', '').addBinary('b', bytes('\0\n,')).addList('l', ['abc', 'de']);
    expect(text(encodeNetstring(m))).toBe('###\n6:(0)t=x,9:(0)empty=,8:(1)b=\0\n,,16:(3)l=3:abc,2:de,,%%%\n');
  });

  it('nests messages as complete ###..%%% blocks', () => {
    const inner = new HaMessage().add('a', '1');
    const m = new HaMessage().add('t', 'x').addStruct('child', inner);
    const wire = text(encodeNetstring(m));
    expect(wire).toBe('###\n6:(0)t=x,26:(2)child=###\n6:(0)a=1,%%%\n,%%%\n');
    const back = decodeNetstring(bytes(wire)).message;
    expect(messagesEqual(back, m)).toBe(true);
  });

  it('keeps raw bytes and repeated names, in order', () => {
    const m = new HaMessage().add('x', bytes('a\nb\0c\xff')).add('x', '2');
    const back = decodeNetstring(encodeNetstring(m)).message;
    expect(back.get('x')).toBe('a\nb\0c\ufffd');
    expect(back.getBytes('x')).toEqual(bytes('a\nb\0c\xff'));
    expect(back.fields.map((f) => f.name)).toEqual(['x', 'x']);
  });

  it.each([
    ['', 'WIRE_TRUNCATED'],
    ['##', 'WIRE_TRUNCATED'],
    ['hello world', 'WIRE_BAD_START'],
    ['###\n', 'WIRE_TRUNCATED'],
    ['###\n6:(0)t=x,', 'WIRE_TRUNCATED'],
    ['###\n6:(0)t=x,%%', 'WIRE_TRUNCATED'],
    ['###\nx:(0)t=x,%%%\n', 'WIRE_BAD_NETSTRING'],
    ['###\n06:(0)t=x,%%%\n', 'WIRE_BAD_NETSTRING'],
    ['###\n6;(0)t=x,%%%\n', 'WIRE_BAD_NETSTRING'],
    ['###\n5:(0)t=x,%%%\n', 'WIRE_BAD_NETSTRING'],
    ['###\n99:(0)t=x,%%%\n', 'WIRE_TRUNCATED'],
    ['###\n4:0t=x,%%%\n', 'WIRE_BAD_FIELD'],
    ['###\n6:(x)t=x,%%%\n', 'WIRE_BAD_FIELD'],
    ['###\n6:(6)t=x,%%%\n', 'WIRE_BAD_FIELD_TYPE'],
    ['###\n6:(4)t=x,%%%\n', 'WIRE_BAD_FIELD_TYPE'],
    ['###\n6:(0)tax,%%%\n', 'WIRE_BAD_FIELD'],
    ['###\n5:(0)=x,%%%\n', 'WIRE_BAD_FIELD'],
    ['###\n8:(2)s=abc,%%%\n', 'WIRE_BAD_START'],
    ['###\n16:(2)s=###\n%%%\nxyz,%%%\n', 'WIRE_BAD_FIELD'],
    ['###\n8:(3)l=0:,,%%%\n', 'WIRE_BAD_LIST'],
    ['###\n7:(3)l=ab,%%%\n', 'WIRE_BAD_LIST'],
    ['###\n%%%\n5:1 abc', 'WIRE_TRUNCATED'],
    ['###\n%%%\n5:1 abc,x', 'WIRE_TRAILING_DATA'],
    ['###\n%%%\n4:1abc,', 'WIRE_BAD_TRAILER'],
    ['###\n%%%\n5:01 ab,', 'WIRE_BAD_TRAILER'],
    ['###\n%%%\nzz', 'WIRE_BAD_TRAILER'],
  ])('%j -> %s', (input, code) => {
    expect(decodeCode(input)).toBe(code);
  });

  it('refuses nesting deeper than 16 and input larger than 256 KiB', () => {
    let m = new HaMessage().add('a', '1');
    for (let i = 0; i < 17; i++) m = new HaMessage().addStruct('s', m);
    expect(codeOf(() => encodeNetstring(m))).toBe('WIRE_UNENCODABLE');
    let wire = '###\n6:(0)a=1,%%%\n';
    for (let i = 0; i < 17; i++) wire = `###\n${wire.length + 5}:(2)s=${wire},%%%\n`;
    expect(decodeCode(wire)).toBe('WIRE_TOO_DEEP');
    const big = new Uint8Array(MAX_WIRE_MESSAGE_BYTES + 1);
    big.set(bytes('###\n'));
    expect(codeOf(() => decodePacket(big))).toBe('WIRE_TOO_LARGE');
    expect(codeOf(() => encodeNetstring(new HaMessage().add('x', 'y'.repeat(MAX_WIRE_MESSAGE_BYTES))))).toBe('WIRE_TOO_LARGE');
  });

  it('accepts a trailer-less message (IPC, nested) and an empty one', () => {
    expect(decodePacket(bytes('###\n%%%\n'))).toMatchObject({ format: 'netstring', trailer: undefined });
  });
});

describe('classic format', () => {
  it('writes strings with newline as 0x13 and binary as base64', () => {
    const m = new HaMessage().add('t', 'x').add('info', 'line1\nline2').addBinary('u', bytes('\x01\x02\x03')).add('eq', 'a=b');
    expect(text(encodeClassic(m))).toBe('>>>\nt=x\ninfo=line1\x13line2\n(1)u=AQID\neq=a=b\n<<<\n');
    expect(decodeClassic(encodeClassic(m)).message.get('info')).toBe('line1\nline2');
  });

  it('nests messages with the per-depth newline symbol', () => {
    const m = new HaMessage().addStruct('c', new HaMessage().add('a', '1').addStruct('d', new HaMessage().add('b', '2')));
    const wire = text(encodeClassic(m));
    expect(wire).toBe('>>>\n(2)c=>>>\x14a=1\x14(2)d=>>>\x15b=2\x15<<<\x15\x14<<<\x14\n<<<\n');
    expect(messagesEqual(decodeClassic(bytes(wire)).message, m)).toBe(true);
  });

  it('keeps the NUL that IPC and old UDP senders append', () => {
    const p = decodePacket(bytes('>>>\nt=x\n<<<\n\0'));
    expect(p).toMatchObject({ format: 'classic', trailingNul: true });
    expect(text(reencodePacket(p))).toBe('>>>\nt=x\n<<<\n\0');
  });

  it('refuses what it cannot represent', () => {
    expect(codeOf(() => encodeClassic(new HaMessage().add('a', 'x\0y')))).toBe('WIRE_UNENCODABLE');
    expect(codeOf(() => encodeClassic(new HaMessage().add('a', 'x\x13y')))).toBe('WIRE_UNENCODABLE');
    expect(codeOf(() => encodeClassic(new HaMessage().addList('a', ['x\ny'])))).toBe('WIRE_UNENCODABLE');
    expect(codeOf(() => encodeClassic(new HaMessage().addStruct('s', new HaMessage().add('a', 'x\x14'))))).toBe('WIRE_UNENCODABLE');
  });

  it.each([
    ['>>', 'WIRE_TRUNCATED'],
    ['>>>\nt=x\n', 'WIRE_TRUNCATED'],
    ['>>>\nt=x', 'WIRE_TRUNCATED'],
    ['>>>\n\nt=x\n<<<\n', 'WIRE_BAD_LINE'],
    ['>>>\ntx\n<<<\n', 'WIRE_BAD_LINE'],
    ['>>>\n=x\n<<<\n', 'WIRE_BAD_FIELD'],
    ['>>>\nt=x\0\n<<<\n', 'WIRE_BAD_LINE'],
    ['>>>\n(0)t=x\n<<<\n', 'WIRE_BAD_FIELD'],
    ['>>>\n(1t=x\n<<<\n', 'WIRE_BAD_FIELD'],
    ['>>>\n(5)t=x\n<<<\n', 'WIRE_BAD_FIELD_TYPE'],
    ['>>>\n(1)u=AQI\n<<<\n', 'WIRE_BAD_BASE64'],
    ['>>>\n(1)u=AQJ=\n<<<\n', 'WIRE_BAD_BASE64'],
    ['>>>\n(2)s=xyz\n<<<\n', 'WIRE_BAD_START'],
    ['>>>\n(3)l=3:ab,\n<<<\n', 'WIRE_BAD_LIST'],
    ['>>>\nt=x\n<<<\nmore', 'WIRE_TRAILING_DATA'],
    ['>>>\n>>>=x\n<<<\n', 'WIRE_BAD_FIELD'],
  ])('%j -> %s', (input, code) => {
    expect(decodeCode(input)).toBe(code);
  });
});

describe('message model', () => {
  it('set replaces in place, remove removes every copy, typed accessors parse', () => {
    const m = HaMessage.of([
      ['t', 'status'],
      ['seq', '1f'],
      ['hg', 'zz'],
      ['ttl', '3'],
    ]);
    m.setString('t', 'NS_ackmsg').setHex('ackseq', 30);
    expect(m.fields.map((f) => f.name)).toEqual(['t', 'seq', 'hg', 'ttl', 'ackseq']);
    expect([m.type, m.seq, m.generation, m.ttl, m.get('ackseq')]).toEqual(['NS_ackmsg', 31, undefined, 3, '1e']);
    m.add('seq', '2');
    expect(m.remove('seq')).toBe(2);
    expect(m.seq).toBeUndefined();
  });

  it('refuses names the formats cannot carry', () => {
    for (const bad of ['', 'a=b', 'a\nb', '(1)x', '>>>x', 'a\0', 'x'.repeat(255), 'ü€']) {
      expect(codeOf(() => new HaMessage().add(bad, 'v'))).toBe('WIRE_BAD_FIELD');
    }
  });

  it('the last auth field is the one checked, like the original', () => {
    const m = HaMessage.of([
      ['auth', '1 aaa'],
      ['auth', '1 bbb'],
    ]);
    expect(m.auth).toBe('1 bbb');
  });
});

describe('control fields', () => {
  const base = { src: 'alpha', srcUuid: new Uint8Array(16), generation: 4, timestamp: 0x65f00000, load: '0.00 0.00 0.00 1/1 1', ttl: 3 };

  it('appends them in order; NS_ types get no seq or ld and keep their own', () => {
    const status = addControlFields(HaMessage.of([['t', 'status']]), { ...base, seq: 31 });
    expect(status.fields.map((f) => f.name)).toEqual(['t', 'src', 'srcuuid', 'seq', 'hg', 'ts', 'ld', 'ttl']);
    expect([status.get('seq'), status.get('hg'), status.get('ts'), status.get('ttl')]).toEqual(['1f', '4', '65f00000', '3']);
    const ack = addControlFields(HaMessage.of([['t', 'NS_ackmsg'], ['dest', 'beta'], ['ttl', '9']]), { ...base, destUuid: new Uint8Array(16).fill(1) });
    expect(ack.fields.map((f) => f.name)).toEqual(['t', 'dest', 'ttl', 'destuuid', 'src', 'srcuuid', 'hg', 'ts']);
    expect(ack.ttl).toBe(9);
  });

  it('replaces existing control fields of sequenced messages in place', () => {
    const m = addControlFields(HaMessage.of([['t', 'resource'], ['seq', 'ff'], ['rsc_hold', 'all']]), { ...base, seq: 2 });
    expect(m.fields.map((f) => f.name)).toEqual(['t', 'seq', 'rsc_hold', 'src', 'srcuuid', 'hg', 'ts', 'ld', 'ttl']);
    expect(m.seq).toBe(2);
  });

  it('refuses a message without type, a sequenced one without seq, and ts 0', () => {
    expect(codeOf(() => addControlFields(new HaMessage(), { ...base, seq: 1 }))).toBe('WIRE_UNENCODABLE');
    expect(codeOf(() => addControlFields(HaMessage.of([['t', 'status']]), base))).toBe('WIRE_UNENCODABLE');
    expect(codeOf(() => addControlFields(HaMessage.of([['t', 'status']]), { ...base, seq: 1, timestamp: 0 }))).toBe('WIRE_UNENCODABLE');
  });
});
