import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CMD, CMD_FLAG, ERRNO, HS_FLAG, INFO, NbdServerDecoder, OPT, OPT_REPLY_MAGIC, REP, TF,
  decodeGoData, encodeGoData, encodeOption, encodeRequest, encodeServerGreeting, encodeSimpleReply,
} from '../../lib/replication/nbd/codec.js';
import { checkRequest, handleOption, type ExportCatalog, type ExportInfo } from '../../lib/replication/nbd/negotiate.js';

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

const rw: ExportInfo = { name: 'r0', size: 1n << 20n, readOnly: false };
const ro: ExportInfo = { name: 'r1', size: 1n << 20n, readOnly: true, readOnlyReason: 'drbd1 is Secondary' };
const catalog: ExportCatalog = { list: () => [rw, ro], lookup: (n) => (n === '' ? rw : [rw, ro].find((e) => e.name === n)) };

function optionReplies(bytes: Uint8Array): { option: number; type: number; data: Buffer }[] {
  const b = Buffer.from(bytes);
  const out = [];
  let o = 0;
  while (o < b.length) {
    expect(b.readBigUInt64BE(o)).toBe(OPT_REPLY_MAGIC);
    const len = b.readUInt32BE(o + 16);
    out.push({ option: b.readUInt32BE(o + 8), type: b.readUInt32BE(o + 12), data: b.subarray(o + 20, o + 20 + len) });
    o += 20 + len;
  }
  return out;
}

describe('NBD codec', () => {
  it('greets with NBDMAGIC, IHAVEOPT and fixed newstyle + no zeroes', () => {
    expect(Buffer.from(encodeServerGreeting()).toString('hex')).toBe('4e42444d41474943' + '49484156454f5054' + '0003');
  });

  it('refuses a client without fixed newstyle', () => {
    const d = new NbdServerDecoder();
    expect(d.push(u32(0))[0]!.kind).toBe('protocol-error');
    expect(d.dead).toBe(true);
  });

  it('splits options and requests arriving in arbitrary chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ type: fc.constantFrom(CMD.READ, CMD.WRITE, CMD.FLUSH, CMD.TRIM), handle: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), offset: fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }), len: fc.integer({ min: 0, max: 600 }), flags: fc.constantFrom(0, CMD_FLAG.FUA) }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
        (reqs, cuts) => {
          const reqBytes = reqs.map((r) =>
            encodeRequest({ type: r.type, handle: r.handle, offset: r.offset, length: r.len, flags: r.flags, ...(r.type === CMD.WRITE ? { data: new Uint8Array(r.len).fill(7) } : {}) }),
          );
          const stream = Buffer.concat([u32(HS_FLAG.FIXED_NEWSTYLE), encodeOption(OPT.LIST), encodeOption(OPT.GO, encodeGoData('r0')), ...reqBytes]);
          const d = new NbdServerDecoder();
          const events = [];
          let pos = 0;
          let i = 0;
          while (pos < stream.length) {
            const n = cuts[i++ % cuts.length]!;
            for (const ev of d.push(stream.subarray(pos, pos + n))) {
              events.push(ev);
              if (ev.kind === 'option' && ev.option === OPT.GO) {
                d.startTransmission();
                events.push(...d.drain());
              }
            }
            pos += n;
          }
          expect(events.map((e) => e.kind)).toEqual(['client-flags', 'option', 'option', ...reqs.map(() => 'request')]);
          const got = events.filter((e) => e.kind === 'request').map((e) => (e.kind === 'request' ? e.request : undefined)!);
          got.forEach((g, k) => {
            expect(g.type).toBe(reqs[k]!.type);
            expect(g.handle).toBe(reqs[k]!.handle);
            expect(g.offset).toBe(reqs[k]!.offset);
            expect(g.length).toBe(reqs[k]!.len);
            if (g.type === CMD.WRITE) expect(g.data!.length).toBe(reqs[k]!.len);
          });
        },
      ),
    );
  });

  it('never throws on garbage', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), (chunks) => {
        const d = new NbdServerDecoder();
        for (const c of chunks) d.push(c);
      }),
    );
  });

  it('GO data round-trips', () => {
    fc.assert(
      fc.property(fc.string(), fc.array(fc.integer({ min: 0, max: 65535 }), { maxLength: 5 }), (name, infos) => {
        expect(decodeGoData(encodeGoData(name, infos))).toEqual({ name, infos });
      }),
    );
  });

  it('simple reply layout', () => {
    expect(Buffer.from(encodeSimpleReply(ERRNO.EPERM, 0x0102030405060708n)).toString('hex')).toBe('67446698' + '00000001' + '0102030405060708');
  });
});

describe('NBD negotiation', () => {
  it('GO on a Primary: export info (size, writable flags), then ACK', () => {
    const out = handleOption(OPT.GO, encodeGoData('r0', [INFO.BLOCK_SIZE]), 3, catalog);
    expect(out.export).toBe(rw);
    const reps = optionReplies(Buffer.concat(out.replies.map((r) => Buffer.from(r))));
    expect(reps.map((r) => r.type)).toEqual([REP.INFO, REP.INFO, REP.ACK]);
    expect(reps[0]!.data.readBigUInt64BE(2)).toBe(1n << 20n);
    const flags = reps[0]!.data.readUInt16BE(10);
    expect(flags & TF.READ_ONLY).toBe(0);
    expect(flags & (TF.SEND_FLUSH | TF.SEND_FUA | TF.SEND_TRIM | TF.SEND_WRITE_ZEROES)).toBe(TF.SEND_FLUSH | TF.SEND_FUA | TF.SEND_TRIM | TF.SEND_WRITE_ZEROES);
  });

  it('GO on a Secondary: read-only flag and the reason as description', () => {
    const out = handleOption(OPT.GO, encodeGoData('r1', [INFO.DESCRIPTION]), 3, catalog);
    const reps = optionReplies(Buffer.concat(out.replies.map((r) => Buffer.from(r))));
    expect(reps[0]!.data.readUInt16BE(10) & TF.READ_ONLY).toBe(TF.READ_ONLY);
    expect(reps[1]!.data.subarray(2).toString()).toBe('drbd1 is Secondary');
  });

  it('INFO does not end negotiation; unknown export is ERR_UNKNOWN; unknown option ERR_UNSUP; ABORT closes', () => {
    expect(handleOption(OPT.INFO, encodeGoData('r0'), 3, catalog).export).toBeUndefined();
    expect(optionReplies(handleOption(OPT.GO, encodeGoData('nope'), 3, catalog).replies[0]!)[0]!.type).toBe(REP.ERR_UNKNOWN);
    expect(optionReplies(handleOption(OPT.STRUCTURED_REPLY, new Uint8Array(0), 3, catalog).replies[0]!)[0]!.type).toBe(REP.ERR_UNSUP);
    const ab = handleOption(OPT.ABORT, new Uint8Array(0), 3, catalog);
    expect(ab.close).toBe(true);
    expect(optionReplies(ab.replies[0]!)[0]!.type).toBe(REP.ACK);
  });

  it('LIST names every export', () => {
    const reps = optionReplies(Buffer.concat(handleOption(OPT.LIST, new Uint8Array(0), 3, catalog).replies.map((r) => Buffer.from(r))));
    expect(reps.map((r) => r.type)).toEqual([REP.SERVER, REP.SERVER, REP.ACK]);
    expect(reps[1]!.data.subarray(4, 4 + reps[1]!.data.readUInt32BE(0)).toString()).toBe('r1');
  });

  it('EXPORT_NAME: size + flags (+124 zero bytes unless NO_ZEROES); unknown name closes', () => {
    expect(handleOption(OPT.EXPORT_NAME, Buffer.from('r0'), 1, catalog).replies[0]!.length).toBe(134);
    expect(handleOption(OPT.EXPORT_NAME, Buffer.from('r0'), 3, catalog).replies[0]!.length).toBe(10);
    expect(handleOption(OPT.EXPORT_NAME, Buffer.from('zz'), 3, catalog).close).toBe(true);
  });

  it('request checks: writes to a Secondary are EPERM, beyond the end EINVAL/ENOSPC, reads fine', () => {
    const w = { type: CMD.WRITE, flags: 0, handle: 1n, offset: 0n, length: 4, data: new Uint8Array(4) };
    expect(checkRequest(w, ro)).toBe(ERRNO.EPERM);
    expect(checkRequest({ ...w, type: CMD.WRITE_ZEROES }, ro)).toBe(ERRNO.EPERM);
    expect(checkRequest({ ...w, type: CMD.TRIM }, ro)).toBe(ERRNO.EPERM);
    expect(checkRequest({ ...w, type: CMD.READ }, ro)).toBeUndefined();
    expect(checkRequest(w, rw)).toBeUndefined();
    expect(checkRequest({ ...w, offset: (1n << 20n) - 2n }, rw)).toBe(ERRNO.ENOSPC);
    expect(checkRequest({ ...w, type: CMD.READ, offset: 1n << 20n }, rw)).toBe(ERRNO.EINVAL);
    expect(checkRequest({ ...w, type: 99 }, rw)).toBe(ERRNO.EINVAL);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.constantFrom(CMD.READ, CMD.TRIM, CMD.WRITE_ZEROES), (offset, length, type) => {
        const v = checkRequest({ type, flags: 0, handle: 0n, offset, length }, rw);
        if (v === undefined) expect(offset + BigInt(length) <= rw.size).toBe(true);
      }),
    );
  });
});
