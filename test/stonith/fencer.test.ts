/**
 * The daemon's Fencer: devices from ha.cf lines, the host a device applies to
 * (its gethosts list), parameters inline or from a `stonith TYPE FILE` file,
 * the result codes of the t=stonith message, and the status check lines.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHaCf } from '../../lib/config/hacf/parse.js';
import { Fencer, deviceSpecs } from '../../lib/stonith/index.js';
import { installPlugin, lines, testEnv } from './helpers.js';

let root: string;
let plugins: string;
let state: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'hbts-fencer-'));
  plugins = path.join(root, 'plugins');
  state = path.join(root, 'state');
  installPlugin(plugins, 'recorder', state);
  mkdirSync(path.join(root, 'ha.d'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const HACF = 'node node1 node2\nucast eth0 10.0.0.2\nlogfile /dev/null\n';
const fencer = (extra: string, me = 'node2', statusIntervalMs?: number) => {
  const hacf = parseHaCf(HACF + extra, 'ha.cf').config;
  const { env, logs } = testEnv({ externalDirs: [plugins], timeoutMs: 10_000 });
  const f = new Fencer({ specs: deviceSpecs(hacf, me), haDir: path.join(root, 'ha.d'), env, ...(statusIntervalMs !== undefined ? { statusIntervalMs } : {}) });
  return { f, logs };
};
const clean = (): void => {
  for (const x of ['calls.log', 'resets.log', 'fail']) rmSync(path.join(state, x), { force: true });
};

describe('Fencer', () => {
  it('resets with the device whose host list names the node; other devices are not asked to reset', async () => {
    clean();
    const { f, logs } = fencer('stonith_host * null node3\nstonith_host * external/recorder node1 t\n');
    expect(f.label).toBe('NULL STONITH device');
    expect(await f.fence('NODE1')).toEqual({ ok: true, result: 'OK' });
    expect(lines(path.join(state, 'resets.log')).map((l) => l.split(' ').slice(1).join(' '))).toEqual(['reset node1']);
    expect(logs.some((l) => l.text.startsWith('Host null-reset'))).toBe(false);
  });

  it('no device lists the node: badhost, said once by the first device', async () => {
    clean();
    const { f, logs } = fencer('stonith_host * null node3\n');
    expect(await f.fence('node1')).toEqual({ ok: false, result: 'badhost' });
    expect(logs).toContainEqual({ level: 'ERROR', text: 'Device NULL STONITH device cannot reset host node1.' });
  });

  it('a failing device: bad, and the next attempt is made afresh', async () => {
    clean();
    writeFileSync(path.join(state, 'fail'), '1');
    const { f } = fencer('stonith_host node2 external/recorder node1 t\n');
    expect(await f.fence('node1')).toEqual({ ok: false, result: 'bad' });
    expect(await f.fence('node1')).toEqual({ ok: true, result: 'OK' });
    // getconfignames only once: the device stays configured.
    expect(lines(path.join(state, 'calls.log')).filter((l) => l.includes(' getconfignames ')).length).toBe(1);
  });

  it('stonith_host lines for another node are not ours; an unknown type is an error and fences nothing', async () => {
    const other = fencer('stonith_host node1 null node2\n');
    expect(other.f.configured).toBe(false);
    const unknown = fencer('stonith_host * apcsmart /dev/ttyS0 node1\n');
    expect(unknown.logs).toContainEqual({ level: 'ERROR', text: 'Invalid Stonith type [apcsmart]' });
    expect(await unknown.f.fence('node1')).toEqual({ ok: false, result: 'bad' });
  });

  it('`stonith TYPE FILE`: the first non-comment line of the file (relative to the ha.d folder) holds the parameters', async () => {
    clean();
    writeFileSync(path.join(root, 'ha.d', 'recorder.cfg'), '# test switch\n\nnode1,node2 from-file\n');
    const { f } = fencer('stonith external/recorder recorder.cfg\n');
    expect(await f.fence('node1')).toEqual({ ok: true, result: 'OK' });
    expect(lines(path.join(state, 'calls.log')).some((l) => l.includes('reset node1 hostlist=node1,node2 tag=from-file'))).toBe(true);
    const missing = fencer('stonith external/recorder absent.cfg\n');
    expect(await missing.f.fence('node1')).toEqual({ ok: false, result: 'bad' });
    expect(missing.logs).toContainEqual({ level: 'ERROR', text: 'Invalid Stonith config file [absent.cfg]' });
  });

  it('status check: one line per device, and the original\'s error lines when it fails', async () => {
    const good = fencer('stonith_host * null node1\n');
    expect(await good.f.checkStatus()).toBe(true);
    expect(good.logs.map((l) => `${l.level}: ${l.text}`)).toEqual(['info: Checking status of STONITH device [NULL STONITH device]']);
    const bad = fencer('stonith_host * null\n');
    expect(await bad.f.checkStatus()).toBe(false);
    expect(bad.logs.map((l) => `${l.level}: ${l.text}`)).toEqual([
      'info: Checking status of STONITH device [NULL STONITH device]',
      'ERROR: Invalid Stonith config info for null (ha.cf line 4)',
      'ERROR: STONITH device NULL STONITH device not operational!',
      'ERROR: STONITH status operation failed.',
      'info: This may mean that the STONITH device has failed!',
    ]);
  });

  it('status checks repeat at the interval until closed', async () => {
    const { f, logs } = fencer('stonith_host * null node1\n', 'node2', 50);
    f.startStatusChecks();
    const deadline = Date.now() + 5_000;
    while (logs.filter((l) => l.text.startsWith('Checking status')).length < 3) {
      if (Date.now() > deadline) throw new Error('status checks did not repeat');
      await new Promise((r) => setTimeout(r, 10)); // poll interval of a bounded condition wait
    }
    f.close();
    const n = logs.length;
    await new Promise((r) => setTimeout(r, 200)); // proves silence after close: several intervals pass
    expect(logs.length).toBe(n);
  });
});
