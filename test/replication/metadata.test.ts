import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../lib/shared/crc32c.js';
import { ActivityLog, AL_CONTEXT_PER_TX, AL_MAX_EXTENTS, AL_RING_TXS, decodeAlTransaction, replayAlRing } from '../../lib/replication/metadata/activity-log.js';
import { Bitmap } from '../../lib/replication/metadata/bitmap.js';
import { AL_RING_SIZE, AL_TX_SIZE, computeLayout, internalMdSizeSect } from '../../lib/replication/metadata/layout.js';
import { MDF, SLOT_SIZE, UUID_JUST_CREATED, decodeSuperBlock, encodeSuperBlock, pickSuperBlock, superBlockWrite, type SuperBlock } from '../../lib/replication/metadata/superblock.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('crc32c', () => {
  it('matches the standard check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });
});

describe('layout: the same numbers drbdmeta measured (drbd-samples/out/meta-sizes.txt)', () => {
  const rows: [number, number, number, number, number][] = [
    [100 * MiB, 80, 104853504, 104820736, 104816640],
    [GiB, 136, 1073737728, 1073704960, 1073672192],
    [10 * GiB, 712, 10737414144, 10737381376, 10737053696],
    [100 * GiB, 6472, 107374178304, 107374145536, 107370868736],
    [1024 * GiB, 65608, 1099511623680, 1099511590912, 1099478036480],
    [4096 * GiB, 262216, 4398046507008, 4398046474240, 4397912256512],
  ];
  for (const [size, sect, mdOff, alOff, bmOff] of rows) {
    it(`internal, ${size} bytes`, () => {
      const l = computeLayout({ kind: 'internal' }, size);
      expect(l.mdSizeSect).toBe(sect);
      expect(internalMdSizeSect(size)).toBe(sect);
      expect(l.superOffset).toBe(mdOff);
      expect(l.alOffset).toBe(alOff);
      expect(l.bmOffset).toBe(bmOff);
      expect(l.dataBytes).toBe(bmOff);
    });
  }
  it('indexed: 128 MiB slots, super at +0, AL at +4 KiB, bitmap at +36 KiB', () => {
    for (const [i, md] of [[0, 0], [1, 134217728], [2, 268435456]] as const) {
      const l = computeLayout({ kind: 'indexed', index: i }, GiB);
      expect([l.superOffset, l.alOffset, l.bmOffset, l.mdSizeSect]).toEqual([md, md + 4096, md + 36864, 262144]);
      expect(l.dataBytes).toBe(GiB);
    }
    expect(() => computeLayout({ kind: 'indexed', index: 0 }, 5 * 1024 * GiB)).toThrow(/at most/);
    expect(() => computeLayout({ kind: 'indexed', index: 3 }, GiB, 3 * 128 * MiB)).toThrow(/no room for index 3/);
  });
  it('external flexible: from offset 0, refuses a too small meta device', () => {
    const l = computeLayout({ kind: 'external' }, GiB, MiB);
    expect([l.superOffset, l.alOffset, l.bmOffset, l.bmBytes, l.dataBytes]).toEqual([0, 4096, 36864, 32768, GiB]);
    expect(() => computeLayout({ kind: 'external' }, GiB, 64 * 1024)).toThrow(/too small/);
  });
  it('internal: data + meta data never exceed the device; the data area is 4 KiB aligned', () => {
    fc.assert(
      fc.property(fc.integer({ min: 200 * 1024, max: 2 ** 45 }), (size) => {
        const l = computeLayout({ kind: 'internal' }, size);
        expect(l.superOffset + 4096).toBeLessThanOrEqual(size);
        expect(l.dataBytes % 4096).toBe(0);
        expect(l.bmBytes * 8 * 4096).toBeGreaterThanOrEqual(l.dataBytes);
        expect(l.mdSizeSect * 512).toBe(l.superOffset + 4096 - l.bmOffset);
      }),
    );
  });
});

const sbArb: fc.Arbitrary<Omit<SuperBlock, 'seq'>> = fc.record({
  flags: fc.integer({ min: 0, max: 0x1ff }),
  current: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  bitmap: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  history: fc.tuple(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
  deviceUuid: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  laSizeSect: fc.bigInt({ min: 0n, max: 1n << 50n }),
  mdSizeSect: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  placement: fc.oneof(fc.constant({ kind: 'internal' as const }), fc.constant({ kind: 'external' as const }), fc.integer({ min: 0, max: 1000 }).map((index) => ({ kind: 'indexed' as const, index }))),
  alExtents: fc.integer({ min: 7, max: 6000 }),
  bmBytesPerBit: fc.constant(4096),
  nodeId: fc.integer({ min: -1, max: 31 }),
});

describe('super block', () => {
  it('round-trips', () => {
    fc.assert(
      fc.property(sbArb, fc.bigInt({ min: 1n, max: 1n << 60n }), (sb, seq) => {
        const r = decodeSuperBlock(encodeSuperBlock({ ...sb, seq }));
        expect(r.ok && r.sb).toEqual({ ...sb, seq });
      }),
    );
  });

  it('alternates slots; a torn write of the newer slot falls back to the older one', () => {
    fc.assert(
      fc.property(fc.array(sbArb, { minLength: 2, maxLength: 6 }), fc.integer({ min: 1, max: SLOT_SIZE - 1 }), (writes, tornAt) => {
        const area = new Uint8Array(4096);
        let pick: ReturnType<typeof pickSuperBlock> | undefined;
        let prev: SuperBlock | undefined;
        let last: SuperBlock | undefined;
        for (const w of writes) {
          const r = superBlockWrite(pick, w);
          area.set(r.bytes, r.slot * SLOT_SIZE);
          prev = last;
          last = r.sb;
          pick = pickSuperBlock(area);
          expect(pick.sb).toEqual(r.sb);
        }
        // Tear the next write: only a prefix of the new slot reaches the disk.
        const r = superBlockWrite(pick, writes[0]!);
        const torn = area.slice();
        const changed = r.bytes.slice(0, tornAt);
        torn.set(changed, r.slot * SLOT_SIZE);
        const after = pickSuperBlock(torn);
        // Either the torn slot still checks (prefix identical in effect) or the last complete write wins.
        expect([last, r.sb]).toContainEqual(after.sb);
        expect(prev === undefined || after.sb.seq >= last!.seq).toBe(true);
      }),
    );
  });

  it('refuses empty and foreign (DRBD v08) meta data with distinct codes', () => {
    expect(() => pickSuperBlock(new Uint8Array(4096))).toThrow(expect.objectContaining({ code: 'META_NOT_FOUND' }));
    const drbd = Buffer.alloc(4096);
    drbd.writeUInt32BE(0x83740267 + 4, 60);
    expect(() => pickSuperBlock(drbd)).toThrow(expect.objectContaining({ code: 'META_FOREIGN' }));
    expect(MDF.Consistent | MDF.WasUpToDate).toBe(0x11);
    expect(UUID_JUST_CREATED).toBe(4n);
  });
});

describe('bitmap', () => {
  it('set/clear ranges keep count() equal to the number of set bits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70000 }), fc.array(fc.tuple(fc.boolean(), fc.nat(300 * 1024 * 1024), fc.nat(16 * 4096)), { maxLength: 30 }), (bits, ops) => {
        const bm = new Bitmap(bits);
        const model = new Set<number>();
        for (const [on, off, len] of ops) {
          if (on) bm.setRange(off, len);
          else bm.clearRange(off, len);
          if (len === 0) continue;
          let a = Math.floor(off / 4096);
          let b = Math.floor((off + len - 1) / 4096);
          if (!on) {
            if (off % 4096) a++;
            if ((off + len) % 4096) b--;
          }
          for (let x = a; x <= Math.min(b, bits - 1); x++) on ? model.add(x) : model.delete(x);
        }
        expect(bm.count()).toBe(model.size);
        expect([...bm.setBits()]).toEqual([...model].sort((x, y) => x - y));
        const copy = new Bitmap(bits, bm.bytes);
        expect(copy.count()).toBe(model.size);
      }),
    );
  });
  it('an AL extent covers 1024 blocks; bits past the end are dropped', () => {
    const bm = new Bitmap(2000);
    expect(bm.setExtent(0)).toBe(1024);
    expect(bm.setExtent(1)).toBe(2000 - 1024);
    expect(bm.setExtent(5)).toBe(0);
    const junk = new Uint8Array(4096).fill(0xff);
    expect(new Bitmap(13, junk).count()).toBe(13);
  });
});

describe('activity log', () => {
  function persist(ring: Uint8Array, w: ReturnType<ActivityLog['begin']>) {
    if (w === 'busy') return;
    for (const tx of w.txs) ring.set(tx.bytes, tx.index * AL_TX_SIZE);
  }

  it('replaying the ring always yields the active set (any write sequence)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 7, max: 2000 }), fc.array(fc.array(fc.nat(5000), { minLength: 1, maxLength: 3 }), { maxLength: 200 }), (n, writes) => {
        const al = new ActivityLog(n);
        const ring = new Uint8Array(AL_RING_SIZE);
        persist(ring, al.resetTransactions() as never);
        for (const w of writes) {
          const ext = [...new Set(w)];
          const r = al.begin(ext);
          expect(r).not.toBe('busy');
          persist(ring, r);
          al.release(ext);
          // What a crash right now would apply: a superset of what is in flight, equal to the active set.
          expect(replayAlRing(ring, n).extents).toEqual(al.active());
        }
        expect(al.active().length).toBeLessThanOrEqual(n);
      }),
      { numRuns: 60 },
    );
  });

  it('a torn (unfinished) transaction is ignored: the previous state is replayed', () => {
    const al = new ActivityLog(10);
    const ring = new Uint8Array(AL_RING_SIZE);
    persist(ring, al.resetTransactions() as never);
    persist(ring, al.begin([1, 2]));
    const before = replayAlRing(ring, 10).extents;
    const r = al.begin([3]);
    if (r === 'busy') throw new Error('busy');
    const torn = r.txs[0]!.bytes.slice();
    torn[100] = torn[100]! ^ 0xff;
    ring.set(torn, r.txs[0]!.index * AL_TX_SIZE);
    expect(decodeAlTransaction(torn)).toBeUndefined();
    expect(replayAlRing(ring, 10).extents).toEqual(before);
  });

  it('evicts the least recently used idle extent; busy when all are in flight', () => {
    const al = new ActivityLog(7);
    for (let e = 0; e < 7; e++) al.begin([e]);
    expect(al.begin([100])).toBe('busy');
    al.release([3]);
    const r = al.begin([100]);
    expect(r !== 'busy' && r.evicted).toEqual([3]);
    for (const e of [0, 1, 2, 4, 5, 6, 100]) al.release([e]);
    al.begin([0]);
    al.release([0]);
    const r2 = al.begin([200]);
    expect(r2 !== 'busy' && r2.evicted).toEqual([1]);
  });

  it('the largest al-extents still fits the ring; larger is refused', () => {
    expect(AL_MAX_EXTENTS).toBe(AL_CONTEXT_PER_TX * (AL_RING_TXS - 1));
    expect(() => new ActivityLog(AL_MAX_EXTENTS + 1)).toThrow(/out of range/);
    expect(() => new ActivityLog(1237)).not.toThrow();
  });
});
