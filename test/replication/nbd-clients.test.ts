/**
 * NBD conformance with independent clients: libnbd's nbdinfo, nbdcopy and nbdfuse,
 * and QEMU's qemu-img, against our server backed by a real file (AttachedDisk).
 * The clients run asynchronously: the server lives in this very process.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { itWithTools } from '../helpers/env.js';
import { waitFor } from '../shared/wait-for.js';
import { AttachedDisk, createMd } from '../../lib/replication/metadata/store.js';
import { NbdServer, type NbdExport } from '../../lib/replication/nbd/server.js';
import { CMD, ERRNO, OPT, encodeGoData, encodeOption, encodeRequest } from '../../lib/replication/nbd/codec.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;

let dir: string;
let disk: AttachedDisk;
let server: NbdServer;
let sock: string;
let roSock: string;
let tcpPort: number;
let readOnly = false;
const refused: string[] = [];

function exportOf(name: string, ro: () => boolean): NbdExport {
  return {
    name,
    description: 'test export',
    size: BigInt(disk.sizeBytes),
    get readOnly() {
      return ro();
    },
    readOnlyReason: `${name} is Secondary: writes are refused`,
    backend: {
      read: (o, l) => disk.read(o, l),
      write: (o, d, fua) => disk.write(o, d, fua),
      flush: () => disk.flush(),
      trim: (o, l, fua) => disk.writeZeroes(o, l, fua),
      writeZeroes: (o, l, fua) => disk.writeZeroes(o, l, fua),
    },
  };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h7-nbd-'));
  const img = path.join(dir, 'disk.img');
  fs.writeFileSync(img, '');
  fs.truncateSync(img, 32 * MiB);
  await createMd({ disk: img, metaDisk: img, placement: { kind: 'internal' } }, { alExtents: 61 });
  disk = await AttachedDisk.open({ disk: img, metaDisk: img, placement: { kind: 'internal' } });
  server = new NbdServer({ exports: () => [exportOf('r0', () => readOnly)], isReadOnly: () => readOnly, onLog: (_l, m) => refused.push(m) });
  sock = path.join(dir, 'r0.sock');
  await server.listenUnix(sock);
  tcpPort = await server.listenTcp(0);
  const roServer = new NbdServer({ exports: () => [exportOf('r1', () => true)], onLog: (_l, m) => refused.push(m) });
  roSock = path.join(dir, 'r1.sock');
  await roServer.listenUnix(roSock);
});

afterAll(async () => {
  await server?.close();
  await disk?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const uri = (s: string, name = 'r0') => `nbd+unix:///${name}?socket=${s}`;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('NBD server with real clients', () => {
  itWithTools(['nbdinfo'], 'nbdinfo: size, flags, export list, read-only Secondary', async () => {
    const info = JSON.parse((await run('nbdinfo', ['--json', uri(sock)])).stdout);
    const e = info.exports[0];
    expect(e['export-size']).toBe(disk.sizeBytes);
    expect(e['is_read_only']).toBe(false);
    expect(e['can_flush']).toBe(true);
    expect(e['can_fua']).toBe(true);
    expect(e['can_trim']).toBe(true);
    expect(e['can_zero']).toBe(true);
    expect(info['protocol']).toBe('newstyle-fixed');
    const list = JSON.parse((await run('nbdinfo', ['--list', '--json', uri(sock)])).stdout);
    expect(list.exports.map((x: { 'export-name': string }) => x['export-name'])).toEqual(['r0']);
    const ro = JSON.parse((await run('nbdinfo', ['--json', uri(roSock, 'r1')])).stdout);
    expect(ro.exports[0]['is_read_only']).toBe(true);
    expect(ro.exports[0]['description']).toBe('r1 is Secondary: writes are refused');
    await expect(run('nbdinfo', ['--json', uri(sock, 'nosuch')])).rejects.toThrow(/error to opt_go request.*for export: nosuch/);
  });

  itWithTools(['nbdcopy'], 'nbdcopy: a file in and out again, byte for byte (multi-conn, flush)', async () => {
    const src = path.join(dir, 'src.bin');
    const back = path.join(dir, 'back.bin');
    const data = randomBytes(disk.sizeBytes);
    fs.writeFileSync(src, data);
    await run('nbdcopy', ['--flush', src, uri(sock)]);
    await run('nbdcopy', [uri(sock), back]);
    expect(sha(fs.readFileSync(back))).toBe(sha(data));
    // What reached the backing file itself.
    expect(sha(await disk.read(0, disk.sizeBytes))).toBe(sha(data));
  });

  itWithTools(['nbdcopy'], 'a write to a read-only (Secondary) export is refused with EPERM', async () => {
    const src = path.join(dir, 'small.bin');
    fs.writeFileSync(src, randomBytes(1 * MiB));
    const before = sha(await disk.read(0, MiB));
    const r = run('nbdcopy', [src, uri(roSock, 'r1')]);
    await expect(r).rejects.toThrow(/read-only|Operation not permitted|EPERM/i);
    expect(sha(await disk.read(0, MiB))).toBe(before);
    // A client connected while writable, then the node is demoted: its next write gets EPERM.
    const c = net.connect(sock);
    let got = Buffer.alloc(0);
    c.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    await new Promise<void>((r) => c.once('connect', () => r()));
    c.write(Buffer.concat([Buffer.from([0, 0, 0, 3]), encodeOption(OPT.GO, encodeGoData('r0'))]));
    // greeting (18) + INFO reply (20 + 12) + ACK (20)
    await waitFor(() => got.length >= 18 + 32 + 20, 5000, 'GO replies');
    refused.length = 0;
    readOnly = true;
    got = Buffer.alloc(0);
    try {
      c.write(encodeRequest({ type: CMD.WRITE, flags: 0, handle: 77n, offset: 0n, length: 4096, data: new Uint8Array(4096).fill(1) }));
      await waitFor(() => got.length >= 16, 5000, 'write reply');
    } finally {
      readOnly = false;
      c.destroy();
    }
    expect(got.readUInt32BE(0)).toBe(0x67446698);
    expect(got.readUInt32BE(4)).toBe(ERRNO.EPERM);
    expect(got.readBigUInt64BE(8)).toBe(77n);
    expect(refused.some((m) => m.includes('write refused: r0 is Secondary'))).toBe(true);
    expect(sha(await disk.read(0, MiB))).toBe(before);
  });

  itWithTools(['qemu-img'], 'qemu-img: info, convert in and out, compare (Unix socket and loopback TCP)', async () => {
    const info = JSON.parse((await run('qemu-img', ['info', '--output=json', `nbd:unix:${sock}:exportname=r0`])).stdout);
    expect(info['virtual-size']).toBe(disk.sizeBytes);
    const raw = path.join(dir, 'q.raw');
    fs.writeFileSync(raw, randomBytes(disk.sizeBytes));
    await run('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', raw, `nbd:unix:${sock}:exportname=r0`]);
    await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', raw, `nbd://127.0.0.1:${tcpPort}/r0`]);
    const out = path.join(dir, 'q.out');
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', `nbd://127.0.0.1:${tcpPort}/r0`, out]);
    expect(sha(fs.readFileSync(out))).toBe(sha(fs.readFileSync(raw)));
  });

  itWithTools(['nbdfuse', 'fusermount3'], 'nbdfuse: the export as a file; reads and writes go through', async () => {
    const mnt = path.join(dir, 'fuse');
    fs.mkdirSync(mnt);
    const child = spawn('nbdfuse', [mnt, '--unix', sock], { stdio: 'ignore' });
    try {
      const file = path.join(mnt, 'nbd');
      await waitFor(() => fs.existsSync(file), 10_000, 'nbdfuse file');
      expect(fs.statSync(file).size).toBe(disk.sizeBytes);
      const blk = randomBytes(8192);
      const fd = await fs.promises.open(file, 'r+');
      await fd.write(blk, 0, blk.length, 4096 * 5);
      await fd.sync();
      await fd.close();
      expect(sha(await disk.read(4096 * 5, 8192))).toBe(sha(blk));
    } finally {
      await run('fusermount3', ['-u', mnt]).catch(() => {});
      await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
    }
  }, 60_000);
});
