import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttachedDisk, createMd, readAllMeta } from '../../lib/replication/metadata/store.js';
import { blockStoreOf, dirtyBitmapOf, generationStoreOf } from '../../lib/replication/daemon/engine-ports.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h7-ports-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('engine ports over an attached disk', () => {
  it('bitmap, generations and block store reach the meta data and the backing file', async () => {
    const img = path.join(dir, 'd.img');
    fs.writeFileSync(img, '');
    fs.truncateSync(img, 16 << 20);
    const t = { disk: img, metaDisk: img, placement: { kind: 'internal' as const } };
    await createMd(t, { alExtents: 7 });
    const d = await AttachedDisk.open(t);
    const bm = dirtyBitmapOf(d);
    bm.mark(10, 3);
    bm.mark(100, 1);
    expect(bm.countDirty()).toBe(4);
    expect([bm.isDirty(9), bm.isDirty(10), bm.isDirty(12), bm.isDirty(13)]).toEqual([false, true, true, false]);
    expect(bm.nextDirty(0)).toBe(10);
    expect(bm.nextDirty(13)).toBe(100);
    expect(bm.nextDirty(101)).toBe(-1);
    expect(bm.nextClean(10)).toBe(13);
    bm.clear(11, 1);
    expect(bm.countDirty()).toBe(3);
    await bm.sync!();

    const gs = generationStoreOf(d);
    const g = gs.load();
    expect(g.uuids.current).toBe(4n);
    expect(g.flags.consistent).toBe(false);
    await gs.save({ uuids: { current: 0xabcn, bitmap: 4n, history1: 0n, history2: 0n }, flags: { ...g.flags, consistent: true, wasUpToDate: true } });

    const bs = blockStoreOf(d);
    await bs.write(8192, new Uint8Array(4096).fill(9));
    await bs.flush();
    expect((await bs.read(8192, 4096)).every((x) => x === 9)).toBe(true);
    await d.close();

    const m = await readAllMeta(t);
    expect(m.pick.sb.current).toBe(0xabcn);
    expect(m.pick.sb.flags & 0x11).toBe(0x11);
    expect([...m.bitmap.setBits()]).toEqual([10, 12, 100]);
  });
});
