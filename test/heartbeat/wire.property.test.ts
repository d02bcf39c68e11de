/** fast-check properties of the wire codec and auth. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HaMessage,
  WireError,
  decodeClassic,
  decodeNetstring,
  decodePacket,
  encodeClassic,
  encodeNetstring,
  encodeSignedClassic,
  encodeSignedNetstring,
  fieldNameProblem,
  messagesEqual,
  reencodePacket,
  verifyPacket,
  type AuthKey,
  type HaField,
} from '../../lib/heartbeat/wire/index.js';

/** WIRE_PROPERTY_SCALE=50 for a long soak; CI runs the default. */
const SCALE = Number(process.env.WIRE_PROPERTY_SCALE ?? '1');
const runs = (n: number) => ({ numRuns: Math.round(n * SCALE) });
const RUNS = runs(300);

const nameArb = fc
  .string({ unit: fc.integer({ min: 0x21, max: 0xff }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 12 })
  .filter((n) => fieldNameProblem(n) === undefined && n !== 'auth');

interface ValueRules {
  /** Bytes a string value may hold. */
  readonly stringByte: fc.Arbitrary<number>;
  /** Bytes a list element may hold. */
  readonly listByte: fc.Arbitrary<number>;
}

/** Netstring carries any bytes (list elements are C strings: no NUL). */
const NETSTRING_RULES: ValueRules = {
  stringByte: fc.integer({ min: 0, max: 255 }),
  listByte: fc.integer({ min: 1, max: 255 }),
};

/** Classic has no room for NUL, 0x13 in strings, newlines in lists, nor the nesting symbols 0x0f-0x1f. */
const notIn = (...ranges: [number, number][]) => (c: number) => !ranges.some(([lo, hi]) => c >= lo && c <= hi);
const CLASSIC_RULES: ValueRules = {
  stringByte: fc.integer({ min: 1, max: 255 }).filter(notIn([0x0f, 0x1f])),
  listByte: fc.integer({ min: 1, max: 255 }).filter(notIn([0x0a, 0x0a], [0x0f, 0x1f])),
};

function messageArb(rules: ValueRules, depth: number): fc.Arbitrary<HaMessage> {
  const bytesOf = (byte: fc.Arbitrary<number>, min: number, max: number) =>
    fc.array(byte, { minLength: min, maxLength: max }).map((a) => Uint8Array.from(a));
  const options: fc.Arbitrary<HaField>[] = [
    fc.record({ name: nameArb, kind: fc.constant('string' as const), value: bytesOf(rules.stringByte, 0, 30) }),
    fc.record({ name: nameArb, kind: fc.constant('binary' as const), value: fc.uint8Array({ maxLength: 24 }) }),
    fc.record({ name: nameArb, kind: fc.constant('list' as const), value: fc.array(bytesOf(rules.listByte, 1, 8), { minLength: 1, maxLength: 4 }) }),
  ];
  if (depth > 0) options.push(fc.record({ name: nameArb, kind: fc.constant('struct' as const), value: messageArb(rules, depth - 1) }));
  return fc.array(fc.oneof(...options), { maxLength: 8 }).map((fields) => {
    const m = new HaMessage();
    for (const f of fields) m.push(f);
    return m;
  });
}

const KEY_ARB: fc.Arbitrary<AuthKey> = fc.oneof(
  fc.record({ index: fc.integer({ min: 0, max: 15 }), method: fc.constant('sha1' as const), key: fc.string({ minLength: 1, maxLength: 20 }) }),
  fc.record({ index: fc.integer({ min: 0, max: 15 }), method: fc.constant('md5' as const), key: fc.string({ minLength: 1, maxLength: 20 }) }),
  fc.record({ index: fc.integer({ min: 0, max: 15 }), method: fc.constant('crc' as const) }),
);

/** Runs `f`; anything thrown must be a WireError. Returns the code or 'ok'. */
function outcome(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    expect(e.code).toMatch(/^WIRE_[A-Z0-9_]+$/);
    // WIRE_INTERNAL would mean the decoder itself tripped over the input.
    expect(e.code).not.toBe('WIRE_INTERNAL');
    return e.code;
  }
}

describe('round trips', () => {
  it('netstring: decode(encode(m)) == m, and re-encoding is byte-identical', () => {
    fc.assert(
      fc.property(messageArb(NETSTRING_RULES, 3), (m) => {
        const wire = encodeNetstring(m);
        const back = decodeNetstring(wire).message;
        expect(messagesEqual(back, m)).toBe(true);
        expect(Buffer.from(encodeNetstring(back)).equals(Buffer.from(wire))).toBe(true);
      }),
      RUNS,
    );
  });

  it('classic: decode(encode(m)) == m, and re-encoding is byte-identical', () => {
    fc.assert(
      fc.property(messageArb(CLASSIC_RULES, 3), fc.boolean(), (m, nul) => {
        const wire = encodeClassic(m, { trailingNul: nul });
        const back = decodeClassic(wire);
        expect(back.trailingNul).toBe(nul);
        expect(messagesEqual(back.message, m)).toBe(true);
        expect(Buffer.from(encodeClassic(back.message, { trailingNul: nul })).equals(Buffer.from(wire))).toBe(true);
      }),
      RUNS,
    );
  });

  it('signed packets of both formats verify with their key', () => {
    fc.assert(
      fc.property(messageArb(CLASSIC_RULES, 2), KEY_ARB, (m, key) => {
        for (const wire of [encodeSignedNetstring(m, { key }), encodeSignedClassic(m, { key })]) {
          const p = decodePacket(wire);
          expect(verifyPacket(p, [key])).toEqual({ ok: true, index: key.index });
          expect(Buffer.from(reencodePacket(p)).equals(Buffer.from(wire))).toBe(true);
        }
      }),
      runs(150),
    );
  });
});

describe('hostile input', () => {
  it('random bytes give a decoded message or a WireError, never another exception', () => {
    const prefix = fc.constantFrom('', '###\n', '>>>\n', '###\n5:(0)', '>>>\n(2)a=>>>\x14');
    fc.assert(
      fc.property(prefix, fc.uint8Array({ maxLength: 200 }), (p, tail) => {
        const input = Uint8Array.from([...Buffer.from(p, 'latin1'), ...tail]);
        outcome(() => decodePacket(input));
      }),
      runs(2000),
    );
  });

  it('mutated valid packets (flips, cuts, splices) never throw anything but WireError', () => {
    const packet = fc
      .tuple(messageArb(CLASSIC_RULES, 3), fc.boolean())
      .map(([m, ns]) => (ns ? encodeSignedNetstring(m, { key: { index: 1, method: 'sha1', key: 'k' } }) : encodeClassic(m)));
    fc.assert(
      fc.property(packet, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'insert')), { maxLength: 4 }), (wire, edits) => {
        let b = [...wire];
        for (const [at, byte, op] of edits) {
          const i = b.length === 0 ? 0 : at % b.length;
          if (op === 'set') b[i] = byte;
          else if (op === 'cut') b = b.slice(0, i);
          else b.splice(i, 0, byte);
        }
        const input = Uint8Array.from(b);
        const code = outcome(() => decodePacket(input));
        // Whatever decodes re-encodes to the very same bytes: decoding is canonical-only.
        if (code === 'ok') expect(Buffer.from(reencodePacket(decodePacket(input))).equals(Buffer.from(input))).toBe(true);
      }),
      runs(1000),
    );
  });

  it('any single bit flip in a signed packet breaks decoding or verification', () => {
    fc.assert(
      fc.property(messageArb(CLASSIC_RULES, 2), KEY_ARB, fc.boolean(), fc.nat(), fc.integer({ min: 0, max: 7 }), (m, key, ns, at, bit) => {
        const wire = ns ? encodeSignedNetstring(m, { key }) : encodeSignedClassic(m, { key });
        const bad = Uint8Array.from(wire);
        const i = at % bad.length;
        bad[i] = bad[i]! ^ (1 << bit);
        let verdict = 'ok';
        const code = outcome(() => {
          const v = verifyPacket(decodePacket(bad), [key]);
          if (!v.ok) verdict = v.code;
        });
        expect(code === 'ok' ? verdict : code).not.toBe('ok');
      }),
      runs(1000),
    );
  });
});
