/**
 * The `heartbeat` command as a daemon on this host: daemonizing with a pid
 * file, -s, -k, already running, SIGHUP, generation raised per start, exit
 * codes. A one-node cluster on loopback; every path in a temporary folder
 * (HA_DIR, HEARTBEAT_RUN_DIR, HEARTBEAT_STATE_DIR), a random udpport.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from '../helpers/env.js';

let dir = '';
let env: NodeJS.ProcessEnv = {};
const file = (...p: string[]): string => path.join(dir, ...p);
const log = (): string => (existsSync(file('ha-log')) ? readFileSync(file('ha-log'), 'utf8') : '');
const hb = (...args: string[]) => runBin('heartbeat', args, { env });

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${log()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('heartbeat daemon surface (one node on loopback)', () => {
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hbd-surface-'));
    for (const d of ['ha.d', 'run', 'lib']) mkdirSync(file(d));
    const port = 20000 + Math.floor(Math.random() * 20000);
    writeFileSync(
      file('ha.d/ha.cf'),
      `logfile ${file('ha-log')}\nlogfacility none\nuse_logd yes\nkeepalive 100ms\ndeadtime 1\nwarntime 500ms\ninitdead 2\nudpport ${port}\nucast lo 127.0.0.1\nnode solo\ncrm off\n`,
    );
    writeFileSync(file('ha.d/authkeys'), 'auth 1\n1 sha1 somesecret\n');
    chmodSync(file('ha.d/authkeys'), 0o600);
    writeFileSync(file('ha.d/haresources'), '');
    writeFileSync(file('ha.d/nodeinfo'), 'solo\n');
    env = { HA_DIR: file('ha.d'), HEARTBEAT_RUN_DIR: file('run'), HEARTBEAT_STATE_DIR: file('lib') };
  });
  afterAll(() => {
    hb('-k');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts in the background, reports status, refuses a second start, reloads, stops gracefully', async () => {
    expect(hb('-s')).toMatchObject({ status: 3, stdout: 'heartbeat is stopped. No process\n' });
    const start = hb();
    expect(start.status).toBe(0);
    const pid = Number(readFileSync(file('run/heartbeat.pid'), 'utf8').trim());
    expect(readFileSync(file('run/heartbeat.pid'), 'utf8')).toMatch(/^ {0,9}\d+\n$/);
    const s = hb('-s');
    expect(s.status).toBe(0);
    expect(s.stdout).toMatch(new RegExp(`^heartbeat OK \\[pid ${pid} et al\\] is running on \\S+ \\[solo\\]\\.\\.\\.\\n$`));
    const g1 = Number(readFileSync(file('lib/hb_generation'), 'latin1').trim());

    const again = hb();
    expect(again.status).toBe(0);
    expect(again.stderr).toContain(`info: heartbeat: already running [pid ${pid}].`);

    // One node: comm-up after initdead-free links-up (no live peer), then the API socket.
    await waitFor(() => log().includes("Local status now set to: 'active'"), 5000, 'active');
    await waitFor(() => existsSync(file('run/heartbeat/register')), 5000, 'the API socket');
    expect(runBin('cl_status', ['nodestatus', 'solo'], { env: { HEARTBEAT_API_SOCKET: file('run/heartbeat/register') } }).stdout).toBe('active\n');

    const r = hb('-r');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`info: Signalling heartbeat pid ${pid} to reread config files`);
    await waitFor(() => log().includes('info: Configuration unchanged.'), 5000, 'the reload');
    writeFileSync(file('ha.d/authkeys'), 'auth 2\n1 sha1 somesecret\n2 md5 anothersecret\n');
    expect(hb('-r').status).toBe(0);
    await waitFor(() => log().includes('info: Rereading authentication file.'), 5000, 'the authkeys reload');
    expect(log()).not.toContain('anothersecret');

    const k = hb('-k');
    expect(k.status).toBe(0);
    expect(existsSync(file('run/heartbeat.pid'))).toBe(false);
    expect(log()).toContain('info: solo Heartbeat shutdown complete.');
    expect(hb('-s').status).toBe(3);
    expect(hb('-k')).toMatchObject({ status: 0, stderr: 'INFO: Heartbeat already stopped.\n' });

    // The next start raises the generation.
    expect(hb().status).toBe(0);
    expect(Number(readFileSync(file('lib/hb_generation'), 'latin1').trim())).toBe(g1 + 1);
    expect(hb('-k').status).toBe(0);
  }, 30_000);

  it('HUP with a changed ha.cf: new log file, debug level and keepalive in the same process; a broken one is refused', async () => {
    const hacf = file('ha.d/ha.cf');
    const original = readFileSync(hacf, 'utf8');
    const api = { env: { HEARTBEAT_API_SOCKET: file('run/heartbeat/register') } };
    try {
      expect(hb().status).toBe(0);
      const pid = Number(readFileSync(file('run/heartbeat.pid'), 'utf8').trim());
      await waitFor(() => existsSync(file('run/heartbeat/register')), 5000, 'the API socket');
      expect(runBin('cl_status', ['hbparameter', '-p', 'debug'], api).stdout).toBe('0\n');
      const gen = readFileSync(file('lib/hb_generation'), 'latin1');

      writeFileSync(hacf, original.replace(`logfile ${file('ha-log')}`, `logfile ${file('ha-log.new')}\ndebugfile ${file('ha-debug')}\ndebug 1`).replace('keepalive 100ms', 'keepalive 200ms'));
      expect(hb('-r').status).toBe(0);
      await waitFor(() => log().includes('info: log destinations (logfile, debugfile, logfacility) reopened as configured'), 5000, 'the reload');
      expect(log()).toContain('info: keepalive now 200 ms (was 100 ms)');
      expect(log()).toContain('info: debug now 1 (was 0)');
      // Lines after the switch go to the new files; the old one gets no more.
      const newLog = (): string => (existsSync(file('ha-log.new')) ? readFileSync(file('ha-log.new'), 'utf8') : '');
      const oldLength = log().length;
      expect(runBin('cl_status', ['hbparameter', '-p', 'debug'], api).stdout).toBe('1\n');
      expect(runBin('cl_status', ['hbparameter', '-p', 'keepalive'], api).stdout).toBe('200ms\n');
      process.kill(pid, 'SIGHUP');
      await waitFor(() => newLog().includes('info: Configuration unchanged.'), 5000, 'the second reload in the new file');
      expect(log().length).toBe(oldLength);
      // The new debugfile gets every line too.
      expect(readFileSync(file('ha-debug'), 'utf8')).toContain('info: Configuration unchanged.');

      writeFileSync(hacf, original.replace('keepalive 100ms', 'keepalive fast'));
      process.kill(pid, 'SIGHUP');
      await waitFor(() => newLog().includes('keeps running with the old one'), 5000, 'the refusal');
      expect(newLog()).toMatch(new RegExp(`ERROR: ${file('ha.d/ha.cf').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: `));
      expect(runBin('cl_status', ['hbparameter', '-p', 'keepalive'], api).stdout).toBe('200ms\n');
      expect(readFileSync(file('run/heartbeat.pid'), 'utf8').trim()).toBe(String(pid));
      expect(readFileSync(file('lib/hb_generation'), 'latin1')).toBe(gen);
    } finally {
      writeFileSync(hacf, original);
      hb('-k');
    }
  }, 30_000);

  it('a broken configuration does not start: exit 6 with the diagnostics', () => {
    const bad = mkdtempSync(path.join(tmpdir(), 'hbd-bad-'));
    try {
      writeFileSync(path.join(bad, 'ha.cf'), 'keepalive banana\n');
      const r = runBin('heartbeat', [], { env: { ...env, HA_DIR: bad } });
      expect(r.status).toBe(6);
      expect(r.stderr).toContain('ha.cf');
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
