/**
 * drbdd through NBD: sequential 1 MiB writes and 4 KiB queue-depth-1 FUA writes
 * against the Primary's NBD export, protocols A and C, two drbdd in two network
 * namespaces joined by a veth pair (root and `ip` needed; otherwise loopback,
 * 127.0.0.1 / 127.0.0.2, and the header says so), each as a ratio to nbdkit's file plugin serving a file
 * on the same disk in the same run; the initial sync against a plain copy
 * (dd conv=fsync) of the backing file.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { CMD, CMD_FLAG, OPT, encodeGoData, encodeOption, encodeRequest } from '../lib/replication/nbd/codec.js';

const MiB = 1024 * 1024;

class Client {
  private sock!: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private want: { n: number; res: (b: Buffer) => void; rej: (e: Error) => void } | undefined;
  async open(socketPath: string): Promise<void> {
    this.sock = net.connect(socketPath);
    this.sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.pump();
    });
    this.sock.on('error', (e) => this.want?.rej(e));
    await this.read(18);
    this.sock.write(Buffer.concat([Buffer.from([0, 0, 0, 3]), encodeOption(OPT.GO, encodeGoData(''))]));
    for (;;) {
      const h = await this.read(20);
      const len = h.readUInt32BE(16);
      if (len > 0) await this.read(len);
      const t = h.readUInt32BE(12);
      if (t === 1) return;
      if (t >= 0x80000000) throw new Error('NBD GO refused');
    }
  }
  private pump(): void {
    if (this.want !== undefined && this.buf.length >= this.want.n) {
      const w = this.want;
      this.want = undefined;
      const out = this.buf.subarray(0, w.n);
      this.buf = this.buf.subarray(w.n);
      w.res(out);
    }
  }
  private read(n: number): Promise<Buffer> {
    return new Promise((res, rej) => {
      this.want = { n, res, rej };
      this.pump();
    });
  }
  async request(type: number, offset: number, data: Uint8Array | undefined, flags = 0, length = data?.length ?? 0): Promise<void> {
    this.sock.write(encodeRequest({ type, flags, handle: 1n, offset: BigInt(offset), length, ...(data ? { data } : {}) }));
    const r = await this.read(16);
    if (r.readUInt32BE(4) !== 0) throw new Error(`NBD error ${r.readUInt32BE(4)}`);
  }
  close(): void {
    this.sock.destroy();
  }
}

export interface IoFigures {
  readonly target: string;
  readonly seqMiBs: number;
  readonly fuaIops: number;
  readonly fuaP50Ms: number;
}

async function measure(target: string, socketPath: string, sizeBytes: number, seconds: number): Promise<IoFigures> {
  const c = new Client();
  await c.open(socketPath);
  const chunk = Buffer.alloc(MiB, 0x5a);
  const total = Math.min(sizeBytes, 256 * MiB);
  let t0 = performance.now();
  for (let o = 0; o + MiB <= total; o += MiB) await c.request(CMD.WRITE, o, chunk);
  await c.request(CMD.FLUSH, 0, undefined);
  const seqMiBs = total / MiB / ((performance.now() - t0) / 1000);
  const small = Buffer.alloc(4096, 0x33);
  const lat: number[] = [];
  t0 = performance.now();
  const end = t0 + seconds * 1000;
  let k = 0;
  while (performance.now() < end) {
    const s = performance.now();
    await c.request(CMD.WRITE, ((k++ * 7919) % (total / 4096)) * 4096, small, CMD_FLAG.FUA);
    lat.push(performance.now() - s);
  }
  const fuaIops = lat.length / ((performance.now() - t0) / 1000);
  lat.sort((a, b) => a - b);
  c.close();
  return { target, seqMiBs, fuaIops, fuaP50Ms: lat[Math.floor(lat.length / 2)] ?? 0 };
}

async function waitUntil(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface DrbdBenchResult {
  readonly io: IoFigures[];
  readonly link?: string;
  readonly syncMiBs?: number;
  readonly copyMiBs?: number;
  readonly skipped?: string;
}

export async function benchDrbd(repoRoot: string, sizeMiB: number, seconds: number): Promise<DrbdBenchResult> {
  if (spawnSync('sh', ['-c', 'command -v nbdkit'], { stdio: 'ignore' }).status !== 0) return { io: [], skipped: 'nbdkit is not installed (apt-get install nbdkit)' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-drbd-'));
  const io: IoFigures[] = [];
  let syncMiBs: number | undefined;
  let copyMiBs: number | undefined;
  const size = sizeMiB * MiB;
  const useNs = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v ip'], { stdio: 'ignore' }).status === 0;
  const tag = process.pid % 9000;
  const NS = { a: `bdrbd${tag}a`, b: `bdrbd${tag}b` };
  const IF = { a: `bdv${tag}a`, b: `bdv${tag}b` };
  const ADDR = useNs ? { a: '10.99.7.1', b: '10.99.7.2' } : { a: '127.0.0.1', b: '127.0.0.2' };
  const ip = (...a: string[]) => {
    const r = spawnSync('ip', a, { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
  };
  try {
    if (useNs) {
      for (const n of ['a', 'b'] as const) ip('netns', 'add', NS[n]);
      ip('link', 'add', IF.a, 'type', 'veth', 'peer', 'name', IF.b);
      for (const n of ['a', 'b'] as const) {
        ip('link', 'set', IF[n], 'netns', NS[n]);
        ip('-n', NS[n], 'addr', 'add', `${ADDR[n]}/24`, 'dev', IF[n]);
        ip('-n', NS[n], 'link', 'set', IF[n], 'up');
        ip('-n', NS[n], 'link', 'set', 'lo', 'up');
      }
    }
    // Reference: nbdkit's file plugin on the same disk.
    const ref = path.join(dir, 'ref.img');
    fs.writeFileSync(ref, '');
    fs.truncateSync(ref, size);
    const refSock = path.join(dir, 'nbdkit.sock');
    const kit: ChildProcess = spawn('nbdkit', ['-f', '-U', refSock, 'file', `file=${ref}`], { stdio: 'ignore' });
    try {
      await waitUntil(() => fs.existsSync(refSock), 10_000, 'nbdkit socket');
      io.push(await measure('nbdkit file plugin', refSock, size, seconds));
    } finally {
      kit.kill();
    }
    for (const proto of ['C', 'A'] as const) {
      const port = 30000 + Math.floor(Math.random() * 20000);
      const conf = path.join(dir, `drbd-${proto}.conf`);
      for (const n of ['a', 'b']) {
        fs.writeFileSync(path.join(dir, `${n}.img`), '');
        fs.truncateSync(path.join(dir, `${n}.img`), size);
      }
      fs.writeFileSync(
        conf,
        `resource r0 {\n  net { protocol ${proto}; }\n  disk { resync-rate 4000M; }\n` +
          `  on bencha { device /dev/drbd250 minor 250; disk ${dir}/a.img; address ${ADDR.a}:${port}; meta-disk internal; }\n` +
          `  on benchb { device /dev/drbd250 minor 250; disk ${dir}/b.img; address ${ADDR.b}:${port}; meta-disk internal; }\n}\n`,
      );
      const env = (n: string): NodeJS.ProcessEnv => ({
        ...process.env,
        DRBD_HOSTNAME: `bench${n}`,
        ...(useNs ? {} : { DRBD_LOCAL_ADDRESSES: n === 'a' ? '127.0.0.1' : '127.0.0.2' }),
        DRBD_TS_RUN_DIR: path.join(dir, `run-${n}`),
        DRBD_TS_LOG: path.join(dir, `${n}.log`),
        DRBD_TS_SYSLOG: '0',
        DRBD_TS_EXPOSE: 'none',
      });
      const bin = path.join(repoRoot, 'bin/drbdadm');
      const adm = (n: 'a' | 'b', ...a: string[]) =>
        useNs
          ? spawnSync('ip', ['netns', 'exec', NS[n], bin, '-c', conf, ...a], { env: env(n), encoding: 'utf8', timeout: 60_000 })
          : spawnSync(bin, ['-c', conf, ...a], { env: env(n), encoding: 'utf8', timeout: 60_000 });
      try {
        for (const n of ['a', 'b'] as const) {
          adm(n, 'create-md', '--force', 'r0');
          const r = adm(n, 'up', 'r0');
          if (r.status !== 0) throw new Error(`up on ${n}: ${r.stderr}`);
        }
        await waitUntil(() => adm('a', 'cstate', 'r0').stdout.trim() === 'Connected', 30_000, 'Connected');
        const t0 = performance.now();
        adm('a', 'primary', '--force', 'r0');
        await waitUntil(() => adm('b', 'dstate', 'r0').stdout.trim() === 'UpToDate/UpToDate', 600_000, 'initial sync');
        if (proto === 'C') syncMiBs = sizeMiB / ((performance.now() - t0) / 1000);
        io.push(await measure(`drbdd protocol ${proto}`, path.join(dir, 'run-a', 'drbd250.nbd'), size - 4 * MiB, seconds));
      } finally {
        for (const n of ['a', 'b'] as const) {
          adm(n, 'down', 'r0');
          const pf = path.join(dir, `run-${n}`, 'drbdd.pid');
          try {
            process.kill(Number(fs.readFileSync(pf, 'utf8').trim()), 'SIGKILL');
          } catch {
            /* down already stopped it */
          }
        }
      }
    }
    const t0 = performance.now();
    spawnSync('dd', [`if=${path.join(dir, 'a.img')}`, `of=${path.join(dir, 'copy.img')}`, 'bs=1M', 'conv=fsync', 'status=none']);
    copyMiBs = sizeMiB / ((performance.now() - t0) / 1000);
  } finally {
    if (useNs) for (const n of ['a', 'b'] as const) spawnSync('ip', ['netns', 'del', NS[n]], { stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { io, link: useNs ? 'veth between two network namespaces' : 'loopback',  ...(syncMiBs !== undefined ? { syncMiBs } : {}), ...(copyMiBs !== undefined ? { copyMiBs } : {}) };
}

export function printDrbd(r: DrbdBenchResult, sizeMiB: number): void {
  if (r.skipped) {
    console.log(`== drbd: skipped, ${r.skipped} ==`);
    return;
  }
  console.log(`== drbd: writes through NBD (two drbdd, ${r.link ?? 'loopback'}; reference: nbdkit file plugin, same disk, same run) ==`);
  const ref = r.io[0]!;
  console.log(`${'target'.padEnd(22)} ${'seq 1M MiB/s'.padStart(13)} ${'x ref'.padStart(6)} ${'4K QD1 FUA IOPS'.padStart(16)} ${'x ref'.padStart(6)} ${'p50 ms'.padStart(7)}`);
  for (const f of r.io) {
    console.log(`${f.target.padEnd(22)} ${f.seqMiBs.toFixed(1).padStart(13)} ${(f.seqMiBs / ref.seqMiBs).toFixed(2).padStart(6)} ${f.fuaIops.toFixed(0).padStart(16)} ${(f.fuaIops / ref.fuaIops).toFixed(2).padStart(6)} ${f.fuaP50Ms.toFixed(2).padStart(7)}`);
  }
  if (r.syncMiBs !== undefined && r.copyMiBs !== undefined) {
    console.log(`initial sync of ${sizeMiB} MiB: ${r.syncMiBs.toFixed(1)} MiB/s; dd conv=fsync copy of the backing file: ${r.copyMiBs.toFixed(1)} MiB/s; ratio ${(r.syncMiBs / r.copyMiBs).toFixed(2)}`);
  }
}
