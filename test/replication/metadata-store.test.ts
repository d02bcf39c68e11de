/**
 * The meta-data I/O shell on real files and a loop device: create-md, attach,
 * writes, a crash (files closed without the clean-detach writes) and the activity
 * log applied at the next attach, indexed external meta data on a loop device.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itWithTools } from '../helpers/env.js';
import { AttachedDisk, createMd, existingMeta, readAllMeta, readSuper, type MetaTarget } from '../../lib/replication/metadata/store.js';
import { AL_EXTENT_SIZE, SUPER_SIZE, computeLayout } from '../../lib/replication/metadata/layout.js';
import { MDF, SLOT_SIZE, UUID_JUST_CREATED } from '../../lib/replication/metadata/superblock.js';
import { dumpMdText } from '../../lib/replication/metadata/dump.js';

const MiB = 1024 * 1024;
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h7-md-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function sparse(name: string, size: number): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, '');
  fs.truncateSync(p, size);
  return p;
}

describe('meta data on a regular file', () => {
  it('create-md writes our super block where the layout says; the data area is untouched', async () => {
    const img = sparse('a.img', 100 * MiB);
    fs.writeFileSync(img, Buffer.alloc(4096, 0xab), { flag: 'r+' });
    const t: MetaTarget = { disk: img, metaDisk: img, placement: { kind: 'internal' } };
    expect(await existingMeta(t)).toBe('none');
    const { layout, sb } = await createMd(t, { alExtents: 127 });
    expect(layout.mdSizeSect).toBe(80);
    expect(sb.current).toBe(UUID_JUST_CREATED);
    expect(await existingMeta(t)).toBe('ours');
    const raw = fs.readFileSync(img);
    expect(raw.readUInt32BE(layout.superOffset)).toBe(0x48424d44);
    expect(raw.subarray(0, 4096).every((b) => b === 0xab)).toBe(true);
    const m = await readAllMeta(t);
    expect(m.pick.sb.flags & MDF.AlClean).toBe(MDF.AlClean);
    expect(m.bitmap.count()).toBe(0);
    expect(m.alExtents).toEqual([]);
    const dump = dumpMdText({ sb: m.pick.sb, layout: m.layout, bitmap: m.bitmap, alExtents: [], header: ['test'] });
    expect(dump).toContain('version "hbts-v1";');
    expect(dump).toContain('# md_size_sect 80');
    expect(dump).toContain('    0x0000000000000004; 0x0000000000000000; 0x0000000000000000; 0x0000000000000000;');
    expect(dump).toContain(`   ${Math.ceil(m.bitmap.bits / 64)} times 0x0000000000000000;`);
  });

  it('a crash after writes: the next attach marks the AL extents out of sync; a clean detach does not', async () => {
    const img = sparse('b.img', 64 * MiB);
    const t: MetaTarget = { disk: img, metaDisk: img, placement: { kind: 'internal' } };
    await createMd(t, { alExtents: 7 });
    let d = await AttachedDisk.open(t);
    const data = randomBytes(8192);
    // Writes in extents 0, 3 and 5 (4 MiB each).
    await d.write(0, data);
    await d.write(3 * AL_EXTENT_SIZE + 4096, data);
    await d.write(5 * AL_EXTENT_SIZE, data, true);
    expect(d.al.active()).toEqual([0, 3, 5]);
    await d.abandon(); // crash: no clean-detach writes
    const m = await readAllMeta(t);
    expect(m.pick.sb.flags & MDF.AlClean).toBe(0);
    expect(m.alExtents).toEqual([0, 3, 5]);
    d = await AttachedDisk.open(t);
    expect(d.appliedAl).toEqual([0, 3, 5]);
    expect(d.bitmap.count()).toBe(3 * 1024);
    expect(Buffer.from(await d.read(3 * AL_EXTENT_SIZE + 4096, 8192)).equals(data)).toBe(true);
    // Clean detach: the bitmap (now 3 extents) is kept, the AL is not applied again.
    await d.close();
    d = await AttachedDisk.open(t);
    expect(d.appliedAl).toEqual([]);
    expect(d.bitmap.count()).toBe(3 * 1024);
    d.bitmap.clearAll();
    await d.close();
  });

  it('the super block alternates slots; a torn newest slot falls back to the previous one', async () => {
    const img = sparse('c.img', 16 * MiB);
    const t: MetaTarget = { disk: img, metaDisk: img, placement: { kind: 'internal' } };
    await createMd(t, { alExtents: 7 });
    const d = await AttachedDisk.open(t);
    await d.writeSuper({ current: 0x1234n });
    const seq = d.sb.seq;
    await d.writeSuper({ current: 0x5678n });
    await d.abandon();
    const { layout, pick } = await readSuper(t);
    expect(pick.sb.current).toBe(0x5678n);
    const slot = pick.nextSlot === 0 ? 1 : 0;
    const fd = fs.openSync(img, 'r+');
    fs.writeSync(fd, Buffer.alloc(100, 0x55), 0, 100, layout.superOffset + slot * SLOT_SIZE + 200);
    fs.closeSync(fd);
    const after = await readSuper(t);
    expect(after.pick.sb.current).toBe(0x1234n);
    expect(after.pick.sb.seq).toBe(seq);
    expect(SUPER_SIZE).toBe(4096);
  });

  it('refuses foreign DRBD meta data and a missing super block with distinct errors', async () => {
    const img = sparse('d.img', 16 * MiB);
    const t: MetaTarget = { disk: img, metaDisk: img, placement: { kind: 'internal' } };
    await expect(AttachedDisk.open(t)).rejects.toMatchObject({ code: 'META_NOT_FOUND' });
    const l = computeLayout({ kind: 'internal' }, 16 * MiB);
    const b = Buffer.alloc(4);
    b.writeUInt32BE(0x83740267 + 4);
    const fd = fs.openSync(img, 'r+');
    fs.writeSync(fd, b, 0, 4, l.superOffset + 60);
    fs.closeSync(fd);
    expect(await existingMeta(t)).toBe('foreign');
    await expect(AttachedDisk.open(t)).rejects.toMatchObject({ code: 'META_FOREIGN' });
  });
});

describe('external meta data on a loop device', () => {
  itWithTools(['losetup'], 'indexed slots [0] and [1] on one loop device serve two backing files', async () => {
    const md = sparse('md.img', 2 * 128 * MiB);
    const loop = execFileSync('losetup', ['-f', '--show', md], { encoding: 'utf8' }).trim();
    try {
      const a = sparse('ea.img', 32 * MiB);
      const b = sparse('eb.img', 48 * MiB);
      const ta: MetaTarget = { disk: a, metaDisk: loop, placement: { kind: 'indexed', index: 0 } };
      const tb: MetaTarget = { disk: b, metaDisk: loop, placement: { kind: 'indexed', index: 1 } };
      await createMd(ta, { alExtents: 61 });
      await createMd(tb, { alExtents: 61 });
      const da = await AttachedDisk.open(ta);
      const db = await AttachedDisk.open(tb);
      expect(da.sizeBytes).toBe(32 * MiB);
      expect(db.sizeBytes).toBe(48 * MiB);
      da.bitmap.setRange(0, 8192);
      db.bitmap.setRange(40 * MiB, 4096);
      await da.close();
      await db.close();
      const ma = await readAllMeta(ta);
      const mb = await readAllMeta(tb);
      expect([...ma.bitmap.setBits()]).toEqual([0, 1]);
      expect([...mb.bitmap.setBits()]).toEqual([40 * 256]);
      expect(mb.layout.superOffset).toBe(128 * MiB);
      // The data files are untouched by meta data.
      expect(fs.readFileSync(a).every((x) => x === 0)).toBe(true);
      // Flexible external on the same device refuses nothing it can hold; index 2 does not fit.
      await expect(createMd({ disk: a, metaDisk: loop, placement: { kind: 'indexed', index: 2 } }, { alExtents: 61 })).rejects.toThrow(/no room for index 2/);
    } finally {
      execFileSync('losetup', ['-d', loop]);
    }
  });
});
