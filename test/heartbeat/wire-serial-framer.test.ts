/** The serial framer against the recorded serial link and hostile streams. */
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SerialFramer, decodeAuthenticPacket } from '../../lib/heartbeat/wire/index.js';
import { REFERENCE } from '../helpers/env.js';
import { readSocatDump, splitClassicMessages } from '../helpers/socat-dump.js';

const dump = readSocatDump(path.join(REFERENCE, 'vectors', 'serial-2node', 'socat-hexdump.txt'));
const KEYS = [{ index: 1, method: 'sha1' as const, key: 'somesecret' }];
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function frameInChunks(stream: Uint8Array, cuts: number[], framer = new SerialFramer()): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 0;
  for (const c of [...cuts.map((x) => x % (stream.length + 1))].sort((a, b) => a - b)) {
    out.push(...framer.push(stream.subarray(pos, Math.max(pos, c))));
    pos = Math.max(pos, c);
  }
  out.push(...framer.push(stream.subarray(pos)));
  return out;
}

describe('serial framer', () => {
  it('finds every recorded message, however the stream is chunked, and each is authentic', () => {
    for (const stream of [dump.forward, dump.backward]) {
      const expected = splitClassicMessages(stream).map(hex);
      expect(frameInChunks(stream, []).map(hex)).toEqual(expected);
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
          expect(frameInChunks(stream, cuts).map(hex)).toEqual(expected);
        }),
        { numRuns: 50 },
      );
      for (const m of frameInChunks(stream, [])) decodeAuthenticPacket(m, KEYS);
    }
  });

  it('skips noise and a half message before the first start line', () => {
    const f = new SerialFramer();
    const got = f.push(bytes('garbage\nt=x\n<<<\n>>>\nt=status\n<<<\n'));
    expect(got.map((m) => Buffer.from(m).toString('latin1'))).toEqual(['>>>\nt=status\n<<<\n']);
    expect(f.stats.skippedBytes).toBe(16);
  });

  it('drops a message that grows past the limit, then finds the next one', () => {
    const f = new SerialFramer({ maxMessageBytes: 64 });
    expect(f.push(bytes('>>>\n' + 'a=' + 'x'.repeat(100) + '\n<<<\n'))).toEqual([]);
    expect(f.stats.oversized).toBe(1);
    expect(f.push(bytes('>>>\nt=x\n<<<\n')).length).toBe(1);
  });

  it('keeps memory bounded on an endless line', () => {
    const f = new SerialFramer({ maxMessageBytes: 1000 });
    for (let i = 0; i < 100; i++) f.push(new Uint8Array(10_000).fill(0x41));
    expect(f.push(bytes('\n>>>\nt=x\n<<<\n')).length).toBe(1);
    expect(f.stats.skippedBytes).toBeGreaterThanOrEqual(1_000_000);
  });
});
