/**
 * bin/stonith and bin/meatclient, and both against cluster-glue's own
 * programs: the original meatclient confirms our meatware device, ours
 * confirms the original's, and `stonith -l` lists the same hosts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itWithTools, runBin } from '../helpers/env.js';
import { S, configurePositional, createDevice } from '../../lib/stonith/index.js';
import { installPlugin, lines, testEnv } from './helpers.js';

const ORIG_STONITH = '/usr/sbin/stonith';
const ORIG_MEATCLIENT = '/usr/sbin/meatclient';

let root: string;
let plugins: string;
let state: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'hbts-stonith-cli-'));
  plugins = path.join(root, 'plugins');
  state = path.join(root, 'state');
  installPlugin(plugins, 'recorder', state);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const env = (): NodeJS.ProcessEnv => ({ HA_STONITH_EXTERNAL_DIR: plugins });

const waitFor = async (cond: () => boolean, ms: number): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 20)); // poll interval of a bounded condition wait
  }
};

describe('bin/stonith', () => {
  it('-L lists the built-in types and the plugins of the plugin folders', () => {
    const r = runBin('stonith', ['-L'], { env: env() });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('external/recorder\nmeatware\nnull\nssh\n');
  });

  it('-n, -l, -S and -T reset with -p parameters; exit codes are the S_* codes', () => {
    expect(runBin('stonith', ['-t', 'external/recorder', '-n'], { env: env() }).stdout).toBe('hostlist  tag\n');
    const l = runBin('stonith', ['-t', 'null', '-p', 'node1 node2', '-l']);
    expect([l.status, l.stdout]).toEqual([0, 'node1\nnode2\n']);
    const s = runBin('stonith', ['-t', 'external/recorder', '-p', 'node1 x', '-S'], { env: env() });
    expect(s.status).toBe(0);
    expect(s.stderr).toContain('external/recorder device OK.');
    const t = runBin('stonith', ['-t', 'external/recorder', 'hostlist=node1', 'tag=y', '-T', 'reset', 'NODE1'], { env: env() });
    expect(t.status).toBe(0);
    expect(lines(path.join(state, 'resets.log')).at(-1)).toMatch(/ reset node1$/);
    expect(runBin('stonith', ['-t', 'ssh', '-p', 'node1', 'node9']).status).toBe(S.BADHOST);
    expect(runBin('stonith', ['-t', 'nosuch', '-l']).status).toBe(S.OOPS);
    expect(runBin('stonith', ['-t', 'null', '-l']).status).toBe(1); // no parameters given
    expect(runBin('stonith', ['-t', 'null', '-p', 'a', '-T', 'bogus', 'a']).status).toBe(1);
  });

  itWithTools([ORIG_STONITH], 'lists the same hosts and parameter names as cluster-glue\'s stonith for its own external/ssh plugin', () => {
    for (const args of [['-t', 'external/ssh', '-p', 'alpha,beta gamma', '-l'], ['-t', 'null', '-p', 'n1 n2', '-l'], ['-t', 'meatware', '-n']]) {
      const ours = runBin('stonith', args, { env: { HA_STONITH_EXTERNAL_DIR: '' } });
      const orig = spawnSync(ORIG_STONITH, args, { encoding: 'utf8', timeout: 20_000 });
      expect([ours.status, ours.stdout.trim().split(/\s+/)]).toEqual([orig.status, orig.stdout.trim().split(/\s+/)]);
    }
  });
});

describe('meatware against cluster-glue', () => {
  const host = `hbts-mw-${process.pid}`;
  const fifo = `/var/run/meatware.${host}`;

  itWithTools([ORIG_MEATCLIENT], 'the original meatclient confirms a reset our meatware device waits for', async () => {
    const { env: e, logs } = testEnv({ externalDirs: [], meatwareDir: '/var/run' });
    const d = createDevice('meatware', e)!;
    await configurePositional(d, host);
    const reset = d.reset(host);
    try {
      // The FIFO is open for reading once the operator is asked (the line comes just before the open).
      await waitFor(() => logs.some((l) => l.text.startsWith('OPERATOR INTERVENTION REQUIRED')), 5_000);
      const mc = spawn(ORIG_MEATCLIENT, ['-c', host], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      mc.stdout.on('data', (d) => (out += d));
      mc.stdin.end('y\n');
      const code = await new Promise<number>((r) => mc.on('close', (c) => r(c ?? -1)));
      expect(out).toContain('reset confirmed');
      expect(code).toBe(0);
      expect(await reset).toBe(S.OK);
      expect(logs).toContainEqual({ level: 'info', text: `node Meatware-reset: ${host}` });
    } finally {
      rmSync(fifo, { force: true });
    }
  });

  itWithTools([ORIG_STONITH], 'our meatclient confirms a reset the original meatware device waits for', async () => {
    const orig = spawn(ORIG_STONITH, ['-t', 'meatware', '-p', host, '-T', 'reset', host], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number>((r) => orig.on('close', (c) => r(c ?? -1)));
    try {
      await waitFor(() => existsSync(fifo), 10_000);
      // The original opens its FIFO after creating it; -w retries until it does.
      const ours = runBin('meatclient', ['-w', '-c', host], { input: 'y\n', env: { HA_MEATWARE_DIR: '/var/run' } });
      expect(ours.stdout).toContain('Meatware_client: reset confirmed.');
      expect(ours.status).toBe(0);
      expect(await exited).toBe(0);
    } finally {
      orig.kill('SIGKILL');
      rmSync(fifo, { force: true });
    }
  });
});

describe('bin/meatclient', () => {
  it('no pending request: exit 4 with the FIFO named', () => {
    const dir = mkdtempSync(path.join(root, 'mw-'));
    const r = runBin('meatclient', ['-c', 'node1'], { env: { HA_MEATWARE_DIR: dir } });
    expect(r.status).toBe(S.BADHOST);
    expect(r.stderr).toContain(`Meatware_IPC failed: ${dir}/meatware.node1`);
  });
});
