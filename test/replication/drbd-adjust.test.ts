/**
 * drbdadm adjust against two running drbdd (loopback, device not exposed): during a
 * slow initial sync (resync-rate 1M) the file changes protocol C -> A, resync-rate
 * to 200M and both addresses' port; adjust on both nodes reconnects them on the
 * new port with the new options, the Primary stays Primary and the sync finishes
 * at the new rate.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { itWithTools, runBin } from '../helpers/env.js';
import { waitFor } from '../shared/wait-for.js';

const MiB = 1024 * 1024;
let dir: string;
let conf: string;
const minor = 250 + Math.floor(Math.random() * 50);
const port = 20000 + Math.floor(Math.random() * 20000);
type Node = 'a' | 'b';

const nodeEnv = (n: Node): NodeJS.ProcessEnv => ({
  DRBD_HOSTNAME: `h12j${n}`,
  DRBD_LOCAL_ADDRESSES: n === 'a' ? '127.0.0.1' : '127.0.0.2',
  DRBD_TS_RUN_DIR: path.join(dir, `run-${n}`),
  DRBD_TS_LOG: path.join(dir, `${n}.log`),
  DRBD_TS_SYSLOG: '0',
  DRBD_TS_EXPOSE: 'none',
});
const adm = (n: Node, ...args: string[]) => runBin('drbdadm', ['-c', conf, ...args], { env: nodeEnv(n) });
const proc = (n: Node) => fs.readFileSync(path.join(dir, `run-${n}`, 'proc-drbd'), 'utf8');
const log = (n: Node) => fs.readFileSync(path.join(dir, `${n}.log`), 'utf8');

async function until(n: Node, cmd: string, want: string, ms = 60_000): Promise<void> {
  let last = '';
  await waitFor(() => (last = adm(n, cmd, 'r0').stdout.trim()) === want, ms, `${n} ${cmd} = ${want} (last: ${last})`);
}

function writeConf(rate: string, proto = 'C', p = port): void {
  fs.writeFileSync(
    conf,
    `resource r0 {
  net { protocol ${proto}; ping-int 1; connect-int 1; }
  disk { resync-rate ${rate}; }
  on h12ja { device /dev/drbd${minor} minor ${minor}; disk ${dir}/a.img; address 127.0.0.1:${p}; meta-disk internal; }
  on h12jb { device /dev/drbd${minor} minor ${minor}; disk ${dir}/b.img; address 127.0.0.2:${p}; meta-disk internal; }
}
`,
  );
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h12-adjust-'));
  for (const n of ['a', 'b']) {
    fs.writeFileSync(path.join(dir, `${n}.img`), '');
    fs.truncateSync(path.join(dir, `${n}.img`), 16 * MiB);
  }
  conf = path.join(dir, 'drbd.conf');
  writeConf('1M');
});

afterAll(() => {
  for (const n of ['a', 'b'] as const) {
    adm(n, 'down', 'r0');
    const pidFile = path.join(dir, `run-${n}`, 'drbdd.pid');
    if (fs.existsSync(pidFile)) {
      try {
        process.kill(Number(fs.readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('adjust', () => {
  itWithTools(['ss'], 'new protocol, resync-rate and port reach the running resource', async () => {
    for (const n of ['a', 'b'] as const) {
      expect(adm(n, 'create-md', 'r0').status).toBe(0);
      expect(adm(n, 'up', 'r0').status).toBe(0);
    }
    await until('a', 'cstate', 'Connected');
    expect(adm('a', 'primary', '--force', 'r0').status).toBe(0);
    await until('a', 'cstate', 'SyncSource');
    expect(proc('a')).toContain(' C r-----');
    // Unchanged file: adjust changes nothing.
    expect(adm('a', 'adjust', 'r0').status).toBe(0);
    expect(log('a')).not.toContain('adjust:');

    const port2 = port + 1;
    writeConf('200M', 'A', port2);
    for (const n of ['a', 'b'] as const) {
      const r = adm(n, 'adjust', 'r0');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
    expect(log('a')).toContain(`block drbd${minor}: adjust: net/disk options or addresses changed; reconnecting`);
    // 16 MiB at 1M would take ~16 s; at 200M the rest is done well within 10 s.
    await until('b', 'dstate', 'UpToDate/UpToDate', 10_000);
    await until('a', 'dstate', 'UpToDate/UpToDate', 10_000);
    expect(adm('a', 'role', 'r0').stdout).toBe('Primary/Secondary\n');
    expect(proc('a')).toMatch(/cs:Connected ro:Primary\/Secondary ds:UpToDate\/UpToDate A r-----/);
    const ss = spawnSync('ss', ['-Htn', 'state', 'established', `( sport = :${port2} or dport = :${port2} )`], { encoding: 'utf8' });
    expect(ss.stdout.trim()).not.toBe('');
    const old = spawnSync('ss', ['-Htln', `( sport = :${port} )`], { encoding: 'utf8' });
    expect(old.stdout.trim()).toBe('');
    expect(adm('a', 'secondary', 'r0').status).toBe(0);
    for (const n of ['a', 'b'] as const) expect(adm(n, 'down', 'r0').status).toBe(0);
  }, 120_000);
});
