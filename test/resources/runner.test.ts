/**
 * The script-runner shell with real tiny scripts in a temp dir: lookup order,
 * arguments and environment, status judgement, timeouts, start skipped when
 * running, stop retries and the escalation outcome.
 */
import { chmodSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupCalls } from '../../lib/resources/index.js';
import type { LogLevel, ResourceAction } from '../../lib/resources/index.js';
import { ScriptRunner, buildScriptEnv, findScript, runScript, scriptDirs, statusSaysRunning, stopRetryMax } from '../../lib/resources/runner/index.js';
import { parseHaresources } from './manager-groups.js';

let root: string;
let rdir: string;
let idir: string;
let state: string;

function script(dir: string, name: string, body: string): void {
  const p = path.join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
}

/** A well-behaved heartbeat-style script keeping its state in a file; logs every call. */
const GOOD = (name: string) => `
f="${'$'}STATE/${name}"
echo "${name} $*" >> "${'$'}STATE/calls"
eval last=\\\${$#}
case "$last" in
  start) touch "$f";;
  stop) rm -f "$f";;
  status) if [ -e "$f" ]; then echo running; else echo stopped; fi;;
esac
exit 0`;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'hbts-runner-'));
  rdir = path.join(root, 'ha.d', 'resource.d');
  idir = path.join(root, 'init.d');
  state = path.join(root, 'state');
  for (const d of [rdir, idir, state]) mkdirSync(d, { recursive: true });
  script(rdir, 'svcA', GOOD('svcA'));
  script(rdir, 'svcB', GOOD('svcB'));
  script(idir, 'svcB', 'echo wrong-one; exit 1'); // resource.d wins
  script(idir, 'initsvc', GOOD('initsvc'));
  script(rdir, 'args', 'printf "%s|" "$@" > "$STATE/args"; env | grep -E "^(HA_|OCF_ROOT)" | sort > "$STATE/env"; exit 0');
  script(rdir, 'hang', 'case "$1" in status) echo stopped;; *) sleep 30;; esac');
  script(rdir, 'failstart', 'case "$1" in start) exit 1;; status) echo stopped;; esac; exit 0');
  // stop fails twice, then works
  script(rdir, 'flaky', 'case "$1" in stop) n=$(cat "$STATE/flaky" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$STATE/flaky"; [ $n -ge 3 ] || exit 1;; status) echo stopped;; esac; exit 0');
  // stop never works and status says it runs: escalation
  script(rdir, 'stuck', 'case "$1" in stop) exit 1;; status) echo "stuck is running";; esac; exit 0');
  // stop never works but it is not running: the "not LSB-compliant" warning
  script(rdir, 'badstop', 'case "$1" in stop) exit 1;; status) echo "badstop is not running";; esac; exit 0');
  writeFileSync(path.join(rdir, 'notexec'), '#!/bin/sh\nexit 0\n');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

function runner(extra: { timeoutMs?: number; env?: Record<string, string> } = {}) {
  const lines: string[] = [];
  const env = buildScriptEnv({ haDir: path.join(root, 'ha.d'), nodeName: 'Node1', base: { PATH: process.env.PATH ?? '/usr/bin:/bin', STATE: state }, env: Object.entries(extra.env ?? {}).map(([name, value]) => ({ name, value })) });
  const r = new ScriptRunner({
    dirs: [rdir, idir],
    env,
    timeoutMs: extra.timeoutMs ?? 5_000,
    killGraceMs: 200,
    stopRetryDelayMs: 1,
    log: (level: LogLevel, text: string) => lines.push(`${level}: ${text}`),
  });
  return { r, lines };
}

function action(line: string, op: 'start' | 'stop'): Extract<ResourceAction, { kind: 'run-group' }> {
  const g = parseHaresources(`node1 ${line}\n`)[0]!;
  return { kind: 'run-group', id: 1, op, key: g.key, node: g.node, calls: groupCalls(g, op) };
}

function calls(): string[] {
  const f = path.join(state, 'calls');
  const out = existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n') : [];
  rmSync(f, { force: true });
  return out;
}

describe('status judgement (stdout text, exit code ignored)', () => {
  it.each([
    ['running', true],
    ['httpd (pid 12) is running...', true],
    ['INFO:  Running OK', true],
    ['OK', true],
    ['BROKEN', true], // the original's pitfall, kept
    ['Active: active (running)', true],
    // "not", a blank, anything, "running": this drbddisk text reads as not owned under the shell pattern
    ['cannot determine status, may be running', false],
    ['apache is not running', false],
    ['Not   currently running', false],
    ['stopped', false],
    ['Active: active (exited)', false],
    ['', false],
    ['ok', false],
  ])('%j → %s', (text, owned) => {
    expect(statusSaysRunning(text)).toBe(owned);
  });
});

describe('script lookup and environment', () => {
  it('finds resource.d first, then init.d; never a path, never a non-executable file', () => {
    expect(findScript('svcB', [rdir, idir])).toBe(path.join(rdir, 'svcB'));
    expect(findScript('initsvc', [rdir, idir])).toBe(path.join(idir, 'initsvc'));
    expect(findScript('notexec', [rdir, idir])).toBeUndefined();
    expect(findScript('../init.d/initsvc', [rdir, idir])).toBeUndefined();
    expect(scriptDirs('/etc/ha.d')).toEqual(['/etc/ha.d/resource.d', '/etc/init.d']);
  });

  it('passes the :: arguments with the action last, and the HA_* environment', async () => {
    const { r } = runner({ env: { STOPRETRYMAX: '3', FOO: 'bar' } });
    await r.runGroup(action('args::a::b::c', 'start'));
    expect(readFileSync(path.join(state, 'args'), 'utf8')).toBe('a|b|c|start|');
    const env = readFileSync(path.join(state, 'env'), 'utf8');
    expect(env).toContain(`HA_DIR=${path.join(root, 'ha.d')}/\n`);
    expect(env).toContain('HA_CURHOST=node1\n');
    expect(env).toContain('HA_STOPRETRYMAX=3\n');
    expect(env).toContain('HA_FOO=bar\n');
    expect(env).toContain(`HA_RESOURCEDIR=${rdir}\n`);
    expect(env).toContain('OCF_ROOT=/usr/lib/ocf\n');
    expect(stopRetryMax({ HA_STOPRETRYMAX: '3' })).toBe(3);
    expect(stopRetryMax({})).toBe(10);
  });
});

describe('takegroup and givegroup', () => {
  it('starts left to right after a status each, and skips what already runs', async () => {
    const { r, lines } = runner();
    writeFileSync(path.join(state, 'svcB'), '');
    const res = await r.runGroup(action('svcA svcB initsvc', 'start'));
    expect(res).toEqual({ outcome: 'started' });
    expect(calls()).toEqual(['svcA status', 'svcA start', 'svcB status', 'initsvc status', 'initsvc start']);
    expect(lines).toEqual([
      'info: Acquiring resource group: node1 svcA svcB initsvc',
      `info: Running ${rdir}/svcA  start`,
      `info: Running ${idir}/initsvc  start`,
    ]);
    const down = await r.runGroup(action('svcA svcB initsvc', 'stop'));
    expect(down).toEqual({ outcome: 'stopped' });
    expect(calls()).toEqual(['initsvc stop', 'svcB stop', 'svcA stop']);
  });

  it('a failed start gives the whole group up, right to left', async () => {
    const { r, lines } = runner();
    const res = await r.runGroup(action('svcA failstart svcB', 'start'));
    expect(res).toEqual({ outcome: 'start-failed', failed: 'failstart' });
    expect(calls()).toEqual(['svcA status', 'svcA start', 'svcB stop', 'svcA stop']);
    expect(lines).toContain(`ERROR: Return code 1 from ${rdir}/failstart`);
    expect(lines).toContain('CRIT: Giving up resources due to failure of failstart');
    expect(lines).toContain('info: Releasing resource group: node1 svcA failstart svcB');
  });

  it('a missing script fails the start', async () => {
    const { r, lines } = runner();
    const res = await r.runGroup(action('nosuch', 'start'));
    expect(res).toEqual({ outcome: 'start-failed', failed: 'nosuch' });
    expect(lines).toContain('ERROR: Cannot locate resource script nosuch');
  });

  it('retries a failing stop and succeeds on the third attempt', async () => {
    rmSync(path.join(state, 'flaky'), { force: true });
    const { r, lines } = runner();
    const res = await r.runGroup(action('flaky', 'stop'));
    expect(res).toEqual({ outcome: 'stopped' });
    expect(lines.filter((l) => l.startsWith('info: Retrying'))).toEqual(['info: Retrying failed stop operation [flaky]', 'info: Retrying failed stop operation [flaky]']);
  });

  it('a stop that keeps failing on a running resource reports stop-failed after 1 + STOPRETRYMAX attempts', async () => {
    const { r, lines } = runner({ env: { STOPRETRYMAX: '2' } });
    const res = await r.runGroup(action('svcA stuck', 'stop'));
    expect(res).toEqual({ outcome: 'stop-failed', failed: 'stuck' });
    expect(lines.filter((l) => l.startsWith(`info: Running ${rdir}/stuck`)).length).toBe(3);
    calls();
  });

  it('a stop that fails on a stopped resource warns and goes on', async () => {
    const { r, lines } = runner({ env: { STOPRETRYMAX: '1' } });
    const res = await r.runGroup(action('svcA badstop', 'stop'));
    expect(res).toEqual({ outcome: 'stopped' });
    expect(lines.slice(-4, -1)).toEqual(['ERROR: Resource script for badstop probably not LSB-compliant.', 'WARN: it (badstop) MUST succeed on a stop when already stopped', 'WARN: Machine reboot narrowly avoided!']);
    expect(calls()).toEqual(['svcA stop']);
  });
});

describe('timeouts', () => {
  it('a hung start is killed at the time limit, logged and counted as a failure', async () => {
    const { r, lines } = runner({ timeoutMs: 300 });
    const t0 = Date.now();
    const res = await r.runGroup(action('hang', 'start'));
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(res.outcome).toBe('start-failed');
    expect(lines).toContain(`ERROR: ${rdir}/hang  start timed out after 300 ms`);
  });

  it('runScript kills the whole process group', async () => {
    const pidFile = path.join(state, 'grandchild');
    script(rdir, 'spawner', `sleep 30 & echo $! > "${pidFile}"; wait`);
    const r = await runScript(path.join(rdir, 'spawner'), ['start'], { env: process.env, timeoutMs: 200, killGraceMs: 200 });
    expect(r.timedOut).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    // Gone, or a zombie nobody reaps in this container: either way it no longer runs.
    const running = () => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    let alive = running();
    for (let i = 0; i < 100 && alive; i++) {
      await new Promise((res) => setTimeout(res, 20));
      alive = running();
    }
    expect(alive).toBe(false);
  });
});
