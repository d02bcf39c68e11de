import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from './wait-for.js';
import { EventEmitter } from 'node:events';
import { REPO_ROOT } from '../helpers/env.js';
import { daemonChildChannel, parseStatusLine } from '../../lib/shared/daemon/daemonize.js';
import { wireDaemonSignals, type SignalSource } from '../../lib/shared/daemon/signals.js';

/**
 * A tiny daemon built on the compiled helpers (npm run build first): it
 * daemonizes, takes its pid file, wires signals and records what they did.
 */
const DAEMON_SCRIPT = `
import * as fs from 'node:fs';
import { spawnDaemon, daemonChildChannel, createPidFile, removePidFileOnExit, wireDaemonSignals, PidFileBusyError } from ${JSON.stringify(path.join(REPO_ROOT, 'dist/lib/shared/daemon/index.js'))};
const [pidFile, mode] = process.argv.slice(2);
const channel = daemonChildChannel();
if (channel === undefined) {
  const r = await spawnDaemon({ timeoutMs: 15000 });
  if (!r.ok) process.stderr.write(r.message + '\\n');
  process.exitCode = r.ok ? 0 : r.exitCode;
} else {
  if (mode === 'crash') process.exit(9);
  if (mode === 'fail') { channel.failed(6, 'Configuration error, heartbeat not started.'); process.exit(6); }
  try {
    createPidFile(pidFile);
  } catch (e) {
    if (!(e instanceof PidFileBusyError)) throw e;
    channel.failed(0, 'heartbeat: ' + e.message);
    process.exit(0);
  }
  removePidFileOnExit(pidFile);
  let level = 0;
  const debug = { get debugLevel() { return level; }, setDebugLevel(n) { level = n; } };
  const record = (what) => fs.appendFileSync(pidFile + '.events', what + '\\n');
  const keepAlive = setInterval(() => {}, 1e6);
  wireDaemonSignals({
    debug,
    debugEnvVar: 'HA_debug',
    onDebugLevel: (n) => record('debug ' + n + ' HA_debug=' + (process.env.HA_debug ?? '')),
    onReload: () => record('reload'),
    onTerminate: (s) => { record('terminate ' + s); clearInterval(keepAlive); },
    ignore: ['SIGINT'],
  });
  record('env marker=' + (process.env.HBTS_DAEMON_CHILD ?? 'gone') + ' cwd=' + process.cwd());
  channel.ready();
}
`;

let dir: string;
let script: string;
const started: number[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbts-daemon-'));
  script = path.join(dir, 'tiny-daemon.mjs');
  fs.writeFileSync(script, DAEMON_SCRIPT);
});
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

function start(pidFile: string, mode = 'normal') {
  const r = spawnSync(process.execPath, [script, pidFile, mode], { encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error;
  return { status: r.status, stderr: r.stderr };
}


const events = (pidFile: string): string[] =>
  fs.existsSync(pidFile + '.events') ? fs.readFileSync(pidFile + '.events', 'utf8').split('\n').filter((l) => l !== '') : [];

describe('daemonize (a real re-spawned daemon)', () => {
  it('the parent exits 0 once the detached daemon holds its pid file; signals work; TERM removes the pid file', async () => {
    const pidFile = path.join(dir, 'tiny.pid');
    const r = start(pidFile);
    expect(r).toEqual({ status: 0, stderr: '' });
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    started.push(pid);
    expect(fs.existsSync(`/proc/${pid}`)).toBe(true);
    // setsid: the daemon leads its own session; stdio is /dev/null; cwd is /.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    expect(Number(fields[3])).toBe(pid); // session id
    expect(fs.readlinkSync(`/proc/${pid}/fd/0`)).toBe('/dev/null');
    expect(fs.readlinkSync(`/proc/${pid}/fd/2`)).toBe('/dev/null');
    expect(events(pidFile)).toEqual(['env marker=gone cwd=/']);

    process.kill(pid, 'SIGUSR1');
    await waitFor(() => events(pidFile).length >= 2, 10_000, 'USR1');
    process.kill(pid, 'SIGUSR1');
    await waitFor(() => events(pidFile).length >= 3, 10_000, 'USR1 again');
    process.kill(pid, 'SIGUSR2');
    await waitFor(() => events(pidFile).length >= 4, 10_000, 'USR2');
    process.kill(pid, 'SIGINT'); // ignored, as heartbeat does
    process.kill(pid, 'SIGHUP');
    await waitFor(() => events(pidFile).length >= 5, 10_000, 'HUP');
    process.kill(pid, 'SIGTERM');
    await waitFor(() => !fs.existsSync(pidFile), 10_000, 'pid file removal');
    await waitFor(() => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'), 10_000, 'exit');
    expect(events(pidFile)).toEqual([
      'env marker=gone cwd=/',
      'debug 1 HA_debug=1',
      'debug 2 HA_debug=2',
      'debug 1 HA_debug=1',
      'reload',
      'terminate SIGTERM',
    ]);
  });

  it('a second start while the first runs: the daemon reports "already running" and the parent exits 0 with it', () => {
    const pidFile = path.join(dir, 'tiny.pid');
    expect(start(pidFile).status).toBe(0);
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    started.push(pid);
    const again = start(pidFile);
    expect(again).toEqual({ status: 0, stderr: `heartbeat: already running [pid ${pid}].\n` });
    expect(Number(fs.readFileSync(pidFile, 'utf8').trim())).toBe(pid);
  });

  it('a start-up failure in the daemon reaches the terminal with its exit status', () => {
    const r = start(path.join(dir, 'tiny.pid'), 'fail');
    expect(r).toEqual({ status: 6, stderr: 'Configuration error, heartbeat not started.\n' });
  });

  it('a daemon dying before it reports gives its exit status', () => {
    const r = start(path.join(dir, 'tiny.pid'), 'crash');
    expect(r.status).toBe(9);
    expect(r.stderr).toBe('daemon exited with status 9 during start-up\n');
  });

  it('a stray marker with no status pipe on fd 3 is not taken for a daemon start', () => {
    const env: NodeJS.ProcessEnv = { HBTS_DAEMON_CHILD: '1' };
    const fd = fs.openSync(path.join(dir, 'not-a-pipe'), 'w');
    try {
      expect(daemonChildChannel(env, fd)).toBeUndefined();
      expect(env.HBTS_DAEMON_CHILD).toBeUndefined();
      expect(fs.readFileSync(path.join(dir, 'not-a-pipe'), 'utf8')).toBe('');
    } finally {
      fs.closeSync(fd);
    }
    expect(daemonChildChannel({})).toBeUndefined();
  });

  it('status lines', () => {
    expect(parseStatusLine('READY 13')).toEqual({ ok: true, pid: 13 });
    expect(parseStatusLine('FAIL 4 no permission')).toEqual({ ok: false, exitCode: 4, message: 'no permission' });
    expect(parseStatusLine('huh')).toMatchObject({ ok: false, exitCode: 1 });
  });
});

describe('signal wiring (fake process)', () => {
  it('TERM and extra stop signals terminate, HUP reloads, USR1/USR2 move the level (never below 0), unwire removes all', () => {
    const source = new EventEmitter() as EventEmitter & SignalSource;
    const got: string[] = [];
    let level = 0;
    const env: NodeJS.ProcessEnv = {};
    const unwire = wireDaemonSignals({
      source,
      env,
      debugEnvVar: 'HA_debug',
      debug: { get debugLevel() { return level; }, setDebugLevel: (n) => void (level = n) },
      onTerminate: (s) => got.push(s),
      onReload: () => got.push('reload'),
      terminateOn: ['SIGQUIT'],
      ignore: ['SIGINT'],
    });
    source.emit('SIGUSR2', 'SIGUSR2');
    expect(level).toBe(0);
    expect(env.HA_debug).toBeUndefined();
    source.emit('SIGUSR1', 'SIGUSR1');
    expect(env.HA_debug).toBe('1');
    source.emit('SIGUSR2', 'SIGUSR2');
    expect(env.HA_debug).toBeUndefined();
    source.emit('SIGHUP', 'SIGHUP');
    source.emit('SIGTERM', 'SIGTERM');
    source.emit('SIGQUIT', 'SIGQUIT');
    source.emit('SIGINT', 'SIGINT');
    expect(got).toEqual(['reload', 'SIGTERM', 'SIGQUIT']);
    unwire();
    expect(source.eventNames()).toEqual([]);
  });
});
