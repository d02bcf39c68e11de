/**
 * The device types for real: external with a recording script (arguments,
 * parameters in the environment, gethosts, reset, status, refusal of a
 * group-writable program, the timeout), null, ssh with a stand-in ssh
 * command, meatware answered by our meatclient.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/env.js';
import { S, configurePositional, createDevice, listTypes } from '../../lib/stonith/index.js';
import { installPlugin, lines, testEnv } from './helpers.js';

let root: string;
let plugins: string;
let state: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'hbts-stonith-'));
  plugins = path.join(root, 'plugins');
  state = path.join(root, 'state');
  installPlugin(plugins, 'recorder', state);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fresh = (): void => {
  for (const f of ['calls.log', 'resets.log', 'fail', 'hang', 'status-bad']) rmSync(path.join(state, f), { force: true });
};

describe('external plugins', () => {
  it('passes the positional parameters by name in the environment and follows the command contract', async () => {
    fresh();
    const { env, logs } = testEnv({ externalDirs: [path.join(root, 'nowhere'), plugins], timeoutMs: 10_000 });
    const d = createDevice('external/recorder', env)!;
    expect(d.configured).toBe(false);
    expect(await configurePositional(d, 'node1,node2 a tag with blanks')).toBe(S.OK);
    expect(await d.hosts()).toEqual(['node1', 'node2']);
    expect(await d.status()).toBe(S.OK);
    expect(await d.reset('node1')).toBe(S.OK);
    const calls = lines(path.join(state, 'calls.log')).map((l) => l.replace(/^\S+ /, ''));
    expect(calls).toEqual([
      'getconfignames hostlist= tag= logtag=external/recorder',
      'gethosts hostlist=node1,node2 tag=a tag with blanks logtag=external/recorder',
      'status hostlist=node1,node2 tag=a tag with blanks logtag=external/recorder',
      'reset node1 hostlist=node1,node2 tag=a tag with blanks logtag=external/recorder',
    ]);
    expect(lines(path.join(state, 'resets.log')).map((l) => l.replace(/^\S+ /, ''))).toEqual(['reset node1']);
    expect(logs).toContainEqual({ level: 'info', text: "external_run_cmd: 'external/recorder reset node1' output: reset node1 done" });
    // The program's own parameters are not left in our environment.
    expect(process.env['hostlist']).toBeUndefined();
  });

  it('a failed reset is RESETFAIL and logged with the program\'s stderr; a failed status is reported', async () => {
    fresh();
    writeFileSync(path.join(state, 'fail'), '1');
    writeFileSync(path.join(state, 'status-bad'), '');
    const { env, logs } = testEnv({ externalDirs: [plugins], timeoutMs: 10_000 });
    const d = createDevice('external/recorder', env)!;
    await configurePositional(d, 'node1 t');
    expect(await d.reset('node1')).toBe(S.RESETFAIL);
    expect(logs).toContainEqual({ level: 'info', text: 'external/recorder: cannot reach the power switch' });
    expect(logs).toContainEqual({ level: 'CRIT', text: "external_reset_req: 'external/recorder reset' for host node1 failed with rc 1" });
    expect(await d.status()).toBe(S.OOPS);
    // The counter is used up: the next attempt works.
    expect(await d.reset('node1')).toBe(S.OK);
  });

  it('refuses a program that group or others may write, or that does not exist', async () => {
    const dir = path.join(root, 'unsafe');
    installPlugin(dir, 'writable', path.join(root, 'unsafe-state'));
    chmodSync(path.join(dir, 'writable'), 0o775);
    const { env, logs } = testEnv({ externalDirs: [dir] });
    const d = createDevice('external/writable', env)!;
    expect(await d.configNames()).toBeUndefined();
    expect(logs.some((l) => l.level === 'CRIT' && l.text.includes('found to be writable by group/others, NOT executing'))).toBe(true);
    expect(lines(path.join(root, 'unsafe-state', 'calls.log'))).toEqual([]);
    const missing = createDevice('external/absent', env)!;
    expect(await missing.hosts()).toBeUndefined();
    expect(listTypes({ externalDirs: [dir, plugins] })).toEqual(['external/recorder', 'meatware', 'null', 'ssh']);
  });

  it('a program that hangs is killed at the timeout and the reset fails', async () => {
    fresh();
    writeFileSync(path.join(state, 'hang'), '');
    const { env } = testEnv({ externalDirs: [plugins], timeoutMs: 500 });
    const d = createDevice('external/recorder', env)!;
    await configurePositional(d, 'node1 t');
    const t0 = Date.now();
    expect(await d.reset('node1')).toBe(S.RESETFAIL);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(lines(path.join(state, 'resets.log'))).toEqual([]);
  });
});

describe('null', () => {
  it('needs a host list, reports it, and always resets', async () => {
    const { env, logs } = testEnv({ externalDirs: [] });
    const d = createDevice('null', env)!;
    expect(await d.reset('node1')).toBe(S.OOPS);
    expect(await configurePositional(d, '')).toBe(S.BADCONFIG);
    expect(await configurePositional(d, 'node1 node2')).toBe(S.OK);
    expect(await d.hosts()).toEqual(['node1', 'node2']);
    expect(await d.status()).toBe(S.OK);
    expect(await d.reset('node1')).toBe(S.OK);
    expect(logs).toContainEqual({ level: 'info', text: 'Host null-reset: node1' });
    expect(d.deviceId).toBe('NULL STONITH device');
  });
});

describe('ssh (for testing only)', () => {
  it('logs in to a listed host with the reboot command, then succeeds once the host stops answering ping', async () => {
    const rec = path.join(root, 'ssh-calls');
    const fake = path.join(root, 'fake-ssh');
    writeFileSync(fake, `#!/bin/sh\necho "$*" >> '${rec}'\n`);
    chmodSync(fake, 0o755);
    const { env, logs } = testEnv({ externalDirs: [], sshCommand: [fake, '-l', 'root'], sshPingTries: 2, timeoutMs: 10_000 });
    const d = createDevice('ssh', env)!;
    await configurePositional(d, 'gone.invalid 127.0.0.1');
    expect(await d.reset('other')).toBe(S.BADHOST);
    expect(await d.reset('gone.invalid', 'on')).toBe(S.INVAL);
    // An unresolvable name never answers ping: the reset "worked".
    expect(await d.reset('gone.invalid')).toBe(S.OK);
    expect(lines(rec)[0]).toMatch(/^-l root gone\.invalid setsid sh -c 'sleep 2; reboot -nf'/);
    expect(logs).toContainEqual({ level: 'info', text: 'Initiating ssh-reset on host: gone.invalid' });
    // A host that still answers after the tries: the reset failed.
    expect(await d.reset('127.0.0.1')).toBe(S.RESETFAIL);
    expect(logs).toContainEqual({ level: 'CRIT', text: 'still able to ping 127.0.0.1 after 2 tries, stonith did not work' });
  }, 20_000);
});

describe('meatware and meatclient', () => {
  const meatclient = (dir: string, host: string, answer: string): Promise<{ code: number; out: string }> =>
    new Promise((resolve) => {
      const p = spawn(path.join(REPO_ROOT, 'bin/meatclient'), ['-c', host], { env: { ...process.env, HA_MEATWARE_DIR: dir } });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (out += d));
      p.stdin.end(answer);
      p.on('close', (code) => resolve({ code: code ?? -1, out }));
    });
  const waitFor = async (cond: () => boolean, ms: number): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error('condition not met');
      await new Promise((r) => setTimeout(r, 20)); // poll interval of a bounded condition wait
    }
  };

  it('waits for the operator: a refusal keeps it waiting, a confirmation resets', async () => {
    const dir = mkdtempSync(path.join(root, 'mw-'));
    const { env, logs } = testEnv({ externalDirs: [], meatwareDir: dir });
    const d = createDevice('meatware', env)!;
    await configurePositional(d, 'node1');
    expect((await meatclient(dir, 'node1', 'y\n')).code).toBe(S.BADHOST); // nothing pending yet
    let settled: number | undefined;
    const reset = d.reset('Node1').then((rc) => (settled = rc));
    const fifo = path.join(dir, 'meatware.node1');
    // The FIFO is open for reading once the operator is asked (the line comes just before the open).
    await waitFor(() => logs.some((l) => l.text === 'OPERATOR INTERVENTION REQUIRED to reset node1.'), 5_000);
    expect(existsSync(fifo)).toBe(true);
    expect(logs).toContainEqual({ level: 'CRIT', text: 'Run "meatclient -c node1" AFTER power-cycling the machine.' });
    const no = await meatclient(dir, 'node1', 'n\n');
    expect(no.code).toBe(S.INVAL);
    expect(no.out).toContain('Meatware_client: operation canceled.');
    expect(settled).toBeUndefined();
    const yes = await meatclient(dir, 'NODE1', 'y\n');
    expect(yes.out).toContain('PROCEED? [yN] ');
    expect(yes.out).toContain('Meatware_client: reset confirmed.');
    expect(yes.code).toBe(S.OK);
    expect(await reset).toBe(S.OK);
    expect(logs).toContainEqual({ level: 'info', text: 'node Meatware-reset: node1' });
    expect(existsSync(fifo)).toBe(false);
  });

  it('meatclient usage errors exit 3', async () => {
    const p = spawn(path.join(REPO_ROOT, 'bin/meatclient'), ['node1']);
    const code = await new Promise<number>((r) => p.on('close', (c) => r(c ?? -1)));
    expect(code).toBe(S.INVAL);
  });
});
