/**
 * drbdadm adjust against two running drbdd (loopback, device not exposed): during a
 * slow initial sync (resync-rate 1M) the file changes protocol C -> A, resync-rate
 * to 200M and both addresses' port; adjust on both nodes reconnects them on the
 * new port with the new options, the Primary stays Primary and the sync finishes
 * at the new rate.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { itWithTools } from '../helpers/env.js';
import { LoopbackPair } from './loopback-pair.js';

let pair: LoopbackPair;
const writeConf = (rate: string, proto = 'C', port = pair.port): void =>
  pair.resource(`protocol ${proto}; ping-int 1; connect-int 1;`, `resync-rate ${rate};`, port);

beforeAll(() => {
  pair = new LoopbackPair('h12j', 16);
  writeConf('1M');
});
afterAll(() => pair.cleanup());

describe('adjust', () => {
  itWithTools(['ss'], 'new protocol, resync-rate and port reach the running resource', async () => {
    for (const n of ['a', 'b'] as const) {
      expect(pair.adm(n, 'create-md', 'r0').status).toBe(0);
      expect(pair.adm(n, 'up', 'r0').status).toBe(0);
    }
    await pair.until('a', 'cstate', 'Connected');
    expect(pair.adm('a', 'primary', '--force', 'r0').status).toBe(0);
    await pair.until('a', 'cstate', 'SyncSource');
    expect(pair.proc('a')).toContain(' C r-----');
    // Unchanged file: adjust changes nothing.
    expect(pair.adm('a', 'adjust', 'r0').status).toBe(0);
    expect(pair.log('a')).not.toContain('adjust:');

    const port2 = pair.port + 1;
    writeConf('200M', 'A', port2);
    for (const n of ['a', 'b'] as const) {
      const r = pair.adm(n, 'adjust', 'r0');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
    expect(pair.log('a')).toContain(`block drbd${pair.minor}: adjust: net/disk options or addresses changed; reconnecting`);
    // 16 MiB at 1M would take ~16 s; at 200M the rest is done well within 10 s.
    await pair.until('b', 'dstate', 'UpToDate/UpToDate', 10_000);
    await pair.until('a', 'dstate', 'UpToDate/UpToDate', 10_000);
    expect(pair.adm('a', 'role', 'r0').stdout).toBe('Primary/Secondary\n');
    expect(pair.proc('a')).toMatch(/cs:Connected ro:Primary\/Secondary ds:UpToDate\/UpToDate A r-----/);
    const ss = spawnSync('ss', ['-Htn', 'state', 'established', `( sport = :${port2} or dport = :${port2} )`], { encoding: 'utf8' });
    expect(ss.stdout.trim()).not.toBe('');
    const old = spawnSync('ss', ['-Htln', `( sport = :${pair.port} )`], { encoding: 'utf8' });
    expect(old.stdout.trim()).toBe('');
    expect(pair.adm('a', 'secondary', 'r0').status).toBe(0);
    for (const n of ['a', 'b'] as const) expect(pair.adm(n, 'down', 'r0').status).toBe(0);
  }, 120_000);
});
