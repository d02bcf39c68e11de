/**
 * Two drbdd in two network namespaces joined by a veth pair (drbdadm runs under
 * `ip netns exec`, so each daemon lives in its node's namespace; run folders,
 * logs and backing files are private per node). The link goes down while the
 * Primary takes writes; when it comes back only those blocks are resynced.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { REPO_ROOT, hasTool, itWithTools } from '../helpers/env.js';
import { waitFor } from '../shared/wait-for.js';
import { SyncWriter } from './nbd-client.js';

const MiB = 1024 * 1024;
const tag = (process.pid % 9000) + 100;
const NS = { a: `h7d${tag}a`, b: `h7d${tag}b` };
const IF = { a: `h7v${tag}a`, b: `h7v${tag}b` };
const NET = `10.97.${tag % 250}`;
const IP = { a: `${NET}.1`, b: `${NET}.2` };
const minor = 300 + (tag % 100);
type Node = 'a' | 'b';
let dir: string;
let conf: string;
let ready = false;

const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'ignore', timeout: 10_000 });

function adm(n: Node, ...args: string[]) {
  const r = spawnSync('ip', ['netns', 'exec', NS[n], path.join(REPO_ROOT, 'bin', 'drbdadm'), '-c', conf, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      ...process.env,
      DRBD_HOSTNAME: `h7n${n}`,
      DRBD_TS_RUN_DIR: path.join(dir, `run-${n}`),
      DRBD_TS_LOG: path.join(dir, `${n}.log`),
      DRBD_TS_SYSLOG: '0',
      DRBD_TS_EXPOSE: 'none',
    },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function until(n: Node, cmd: string, want: string, ms = 60_000): Promise<void> {
  let last = '';
  await waitFor(() => (last = adm(n, cmd, 'r0').stdout.trim()) === want, ms, `${n} ${cmd} = ${want} (last: ${last})`);
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h7-netns-'));
  if (!hasTool('ip') || process.getuid?.() !== 0) return;
  for (const n of ['a', 'b'] as const) ip('netns', 'add', NS[n]);
  ip('link', 'add', IF.a, 'type', 'veth', 'peer', 'name', IF.b);
  for (const n of ['a', 'b'] as const) {
    ip('link', 'set', IF[n], 'netns', NS[n]);
    ip('-n', NS[n], 'addr', 'add', `${IP[n]}/24`, 'dev', IF[n]);
    ip('-n', NS[n], 'link', 'set', IF[n], 'up');
    ip('-n', NS[n], 'link', 'set', 'lo', 'up');
    fs.writeFileSync(path.join(dir, `${n}.img`), '');
    fs.truncateSync(path.join(dir, `${n}.img`), 24 * MiB);
  }
  conf = path.join(dir, 'drbd.conf');
  fs.writeFileSync(
    conf,
    `resource r0 {
  net { protocol C; ping-int 1; ping-timeout 5; timeout 10; connect-int 1; }
  disk { resync-rate 100M; }
  on h7na { device /dev/drbd${minor} minor ${minor}; disk ${dir}/a.img; address ${IP.a}:7789; meta-disk internal; }
  on h7nb { device /dev/drbd${minor} minor ${minor}; disk ${dir}/b.img; address ${IP.b}:7789; meta-disk internal; }
}
`,
  );
  ready = true;
});

afterAll(() => {
  if (ready) {
    for (const n of ['a', 'b'] as const) {
      adm(n, 'down', 'r0');
      const pf = path.join(dir, `run-${n}`, 'drbdd.pid');
      if (fs.existsSync(pf)) {
        try {
          process.kill(Number(fs.readFileSync(pf, 'utf8').trim()), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }
  for (const n of ['a', 'b'] as const) {
    try {
      ip('netns', 'del', NS[n]);
    } catch {
      /* not created */
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('two drbdd in network namespaces (veth)', () => {
  itWithTools(['ip'], 'link down: writes go to the bitmap; link up: only those blocks are resynced', async () => {
    for (const n of ['a', 'b'] as const) {
      expect(adm(n, 'create-md', 'r0').status).toBe(0);
      const r = adm(n, 'up', 'r0');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
    await until('a', 'cstate', 'Connected');
    expect(adm('a', 'primary', '--force', 'r0').status).toBe(0);
    await until('b', 'dstate', 'UpToDate/UpToDate');

    const w = new SyncWriter();
    await w.open(path.join(dir, 'run-a', `drbd${minor}.nbd`));
    const blk = (k: number) => Buffer.alloc(4096, k + 1);
    for (const k of [1, 2, 3]) expect(await w.write(k * 4096, blk(k), BigInt(k))).toBe(true);

    ip('-n', NS.a, 'link', 'set', IF.a, 'down');
    await until('a', 'cstate', 'WFConnection', 30_000);
    const written = [100, 101, 700, 1500, 2500, 3000, 4000];
    for (const k of written) expect(await w.write(k * 4096, blk(k), BigInt(k))).toBe(true);
    const oos = () => Number(/oos:(\d+)/.exec(fs.readFileSync(path.join(dir, 'run-a', 'proc-drbd'), 'utf8'))![1]);
    await waitFor(() => oos() === written.length * 4, 10_000, `oos:${written.length * 4}`);

    const before = fs.readFileSync(path.join(dir, 'a.log'), 'utf8').length;
    ip('-n', NS.a, 'link', 'set', IF.a, 'up');
    await until('a', 'dstate', 'UpToDate/UpToDate');
    await until('b', 'dstate', 'UpToDate/UpToDate');
    const news = fs.readFileSync(path.join(dir, 'a.log'), 'utf8').slice(before);
    expect(news).toContain(`Began resync as SyncSource (will sync ${written.length * 4} KB [${written.length} bits set])`);
    w.close();
    expect(adm('a', 'secondary', 'r0').status).toBe(0);
    for (const n of ['a', 'b'] as const) expect(adm(n, 'down', 'r0').status).toBe(0);
    const dataBytes = 24 * MiB - 4096 - 32768 - 4096;
    const a = fs.readFileSync(path.join(dir, 'a.img')).subarray(0, dataBytes);
    const b = fs.readFileSync(path.join(dir, 'b.img')).subarray(0, dataBytes);
    expect(a.equals(b)).toBe(true);
    for (const k of written) expect(b.subarray(k * 4096, k * 4096 + 4096).equals(blk(k))).toBe(true);
  }, 180_000);
});
