import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, FrameDecoder } from '../../../lib/replication/protocol/codec.js';
import { crc32c, crc32cBytewise } from '../../../lib/shared/crc32c.js';
import { digest, hmac, parseDigestAlg, parseHmacAlg } from '../../../lib/replication/protocol/digest.js';
import { ReplError } from '../../../lib/replication/protocol/errors.js';
import { FRAME_MAGIC, HEADER_BYTES, MAX_FRAME_BODY, type Message } from '../../../lib/replication/protocol/messages.js';
import { MemoryBitmap } from '../../../lib/replication/protocol/memory.js';
import { decodeBitmapChunk, encodeBitmap } from '../../../lib/replication/protocol/rle.js';
import { arbMessage } from './arbitraries.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('crc32c', () => {
  it('matches the standard check values', () => {
    expect(crc32c(enc('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    // RFC 3720 B.4: 32 bytes of zeros, of 0xff, and 0..31.
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
  });
  it('the sliced form equals the bytewise form and continues across chunks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), (data, cut) => {
        const k = Math.min(cut, data.length);
        expect(crc32c(data)).toBe(crc32cBytewise(data));
        expect(crc32c(data.subarray(k), crc32c(data.subarray(0, k)))).toBe(crc32c(data));
      }),
    );
  });
  it('digests and HMACs by kernel name', () => {
    expect(parseDigestAlg('crc32c')).toBe('crc32c');
    expect(parseDigestAlg('SHA1')).toBe('sha1');
    expect(parseHmacAlg('hmac(sha256)')).toBe('sha256');
    expect(() => parseDigestAlg('whirlpool')).toThrow(ReplError);
    expect(() => parseHmacAlg('crc32c')).toThrow(ReplError);
    expect(Buffer.from(digest('md5', enc('abc'))).toString('hex')).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(Buffer.from(digest('sha1', enc('abc'))).toString('hex')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(Buffer.from(digest('crc32c', enc('123456789'))).toString('hex')).toBe('e3069283');
    expect(hmac('sha1', 'secret', enc('x')).length).toBe(20);
  });
});

/** Decodes bytes whatever they are: a message or a typed error, nothing else. */
function decodeAny(bytes: Uint8Array): Message | ReplError {
  try {
    return decodeFrame(bytes);
  } catch (e) {
    if (e instanceof ReplError) return e;
    throw e;
  }
}

describe('codec', () => {
  it('round-trips every message', () => {
    fc.assert(
      fc.property(arbMessage, (m) => {
        expect(decodeFrame(encodeFrame(m))).toEqual(m);
      }),
      { numRuns: 600 },
    );
  });

  it('random bytes decode to a message or a typed error, never a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        decodeAny(bytes);
      }),
      { numRuns: 5000 },
    );
  });

  it('a valid header over random bodies gives a message or a typed error', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), fc.uint8Array({ maxLength: 300 }), (type, body) => {
        const f = new Uint8Array(HEADER_BYTES + body.length);
        const v = new DataView(f.buffer);
        v.setUint32(0, FRAME_MAGIC);
        v.setUint16(4, type);
        v.setUint32(8, body.length);
        f.set(body, HEADER_BYTES);
        decodeAny(f);
      }),
      { numRuns: 5000 },
    );
  });

  it('mutated valid frames decode to a message or a typed error', () => {
    fc.assert(
      fc.property(arbMessage, fc.nat(), fc.integer({ min: 0, max: 255 }), (m, at, byte) => {
        const f = encodeFrame(m).slice();
        f[at % f.length] = byte;
        decodeAny(f);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses oversized frames from the header alone, with stable codes', () => {
    const h = new Uint8Array(HEADER_BYTES);
    const v = new DataView(h.buffer);
    v.setUint32(0, FRAME_MAGIC);
    v.setUint16(4, 8);
    v.setUint32(8, MAX_FRAME_BODY + 1);
    const d = new FrameDecoder();
    const [r] = d.push(h);
    expect(r?.ok).toBe(false);
    expect(r && !r.ok && r.error.code).toBe('REPL_TOO_LARGE');
    expect(d.push(encodeFrame({ type: 'ping' }))).toEqual([]);
    const bad = encodeFrame({ type: 'ping' }).slice();
    bad[0] = 0;
    expect((decodeAny(bad) as ReplError).code).toBe('REPL_BAD_MAGIC');
    const unaligned = encodeFrame({ type: 'rsRequest', id: 1, offset: 512, length: 512 }).slice();
    unaligned[HEADER_BYTES + 4 + 7] = 1; // offset 513
    expect((decodeAny(unaligned) as ReplError).code).toBe('REPL_BAD_FIELD');
    expect((decodeAny(encodeFrame({ type: 'ping' }).subarray(0, 5)) as ReplError).code).toBe('REPL_TRUNCATED');
  });

  it('the stream decoder splits any chunking of a frame sequence the same way', () => {
    fc.assert(
      fc.property(fc.array(arbMessage, { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1 }), (msgs, cuts) => {
        const all = Buffer.concat(msgs.map((m) => encodeFrame(m)));
        const d = new FrameDecoder();
        const got: Message[] = [];
        let pos = 0;
        let i = 0;
        while (pos < all.length) {
          const n = cuts[i++ % cuts.length]!;
          for (const r of d.push(new Uint8Array(all.subarray(pos, pos + n)))) {
            expect(r.ok).toBe(true);
            if (r.ok) got.push(r.message);
          }
          pos += n;
        }
        expect(got).toEqual(msgs);
        expect(d.pending).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('random byte streams never crash the stream decoder', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), (chunks) => {
        const d = new FrameDecoder();
        for (const c of chunks) for (const r of d.push(c)) if (!r.ok) expect(r.error).toBeInstanceOf(ReplError);
      }),
    );
  });
});

describe('bitmap RLE', () => {
  const arbBitmap = fc.integer({ min: 0, max: 3000 }).chain((n) =>
    fc.tuple(fc.constant(n), fc.array(fc.tuple(fc.nat(n), fc.integer({ min: 1, max: 200 })), { maxLength: 30 })),
  );
  it('round-trips any bitmap, in small and large chunks', () => {
    fc.assert(
      fc.property(arbBitmap, fc.constantFrom(16, 20, 64, 65536), ([n, runs], chunk) => {
        const a = new MemoryBitmap(n);
        for (const [f, c] of runs) a.mark(f, c);
        const msgs = encodeBitmap(a, chunk);
        expect(msgs.at(-1)!.last).toBe(true);
        const b = new MemoryBitmap(n);
        for (const m of msgs) decodeBitmapChunk(m, n, (f, c) => b.mark(f, c));
        expect(b.countDirty()).toBe(a.countDirty());
        const bits = (x: MemoryBitmap): boolean[] => Array.from({ length: n }, (_, i) => x.isDirty(i));
        expect(bits(b)).toEqual(bits(a));
      }),
      { numRuns: 200 },
    );
  });
  it('compresses: a 1 GiB device with one dirty run costs a few bytes', () => {
    const bm = new MemoryBitmap(262144);
    bm.mark(1000, 50);
    const msgs = encodeBitmap(bm);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.rle.length).toBeLessThan(10);
  });
  it('refuses runs that do not add up, with REPL_BAD_BITMAP', () => {
    fc.assert(
      fc.property(fc.nat(100), fc.nat(100), fc.uint8Array({ maxLength: 20 }), (start, bits, rle) => {
        try {
          decodeBitmapChunk({ type: 'bitmap', startBit: start, bits, last: true, rle }, 150, () => undefined);
        } catch (e) {
          expect((e as ReplError).code).toBe('REPL_BAD_BITMAP');
        }
      }),
    );
  });
});
