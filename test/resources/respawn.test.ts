/**
 * respawn / failfast: the restart rule with an injected clock (RespawnPolicy),
 * and the supervisor for real (a small script as a client child: restarts,
 * "respawning too fast", exit 100, setuid to the ha.cf user, last-first stop).
 */
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RespawnPolicy, RespawnSupervisor, clientCommand, lookupUser, type ChildExit } from '../../lib/resources/respawn/index.js';

const CMD = '/usr/lib/heartbeat/ipfail';
const exit = (startedAt: number, now: number, exitCode: number | null = 1, extra: Partial<ChildExit> = {}): ChildExit => ({
  startedAt,
  now,
  pid: 42,
  exitCode,
  signal: 0,
  shuttingDown: false,
  ...extra,
});

describe('RespawnPolicy (the original ManagedChildDied rule)', () => {
  it('restarts after an exit, at once after a long run and after 1 s after a short one; exit 100 is final', () => {
    const p = new RespawnPolicy(CMD, false);
    const long = p.afterExit(exit(0, 60_000, 1));
    expect(long).toEqual({
      logs: [
        { level: 'ERROR', text: `Client ${CMD} exited with return code 1.` },
        { level: 'ERROR', text: `Respawning client "${CMD}":` },
      ],
      restart: true,
      delayMs: 0,
      reboot: false,
    });
    const short = p.afterExit(exit(60_000, 61_000, 0));
    expect(short.logs).toEqual([{ level: 'ERROR', text: `Respawning client "${CMD}":` }]);
    expect(short.restart).toBe(true);
    expect(short.delayMs).toBe(1000);
    const hundred = p.afterExit(exit(61_000, 62_000, 100));
    expect(hundred.restart).toBe(false);
    expect(hundred.logs).toEqual([{ level: 'ERROR', text: `Client ${CMD} exited with return code 100.` }]);
  });

  it('the 11th run in a row shorter than 30 s is the last: "respawning too fast"', () => {
    const p = new RespawnPolicy(CMD, false);
    let t = 0;
    for (let i = 1; i <= 10; i++) {
      const d = p.afterExit(exit(t, t + 29_999, 1));
      expect(d.restart).toBe(true);
      t += 31_000;
    }
    const last = p.afterExit(exit(t, t + 5, 1));
    expect(last.restart).toBe(false);
    expect(last.logs.at(-1)).toEqual({ level: 'ERROR', text: `Client ${CMD} "respawning too fast"` });
    // The count starts over (the original resets it), so a later start by hand gets 10 more.
    expect(p.afterExit(exit(t, t + 5, 1)).restart).toBe(true);
  });

  it('a run of 30 s or more resets the count', () => {
    const p = new RespawnPolicy(CMD, false);
    let t = 0;
    for (let i = 0; i < 10; i++) {
      expect(p.afterExit(exit(t, t + 10, 1)).restart).toBe(true);
      t += 10;
    }
    expect(p.afterExit(exit(t, t + 30_000, 1)).delayMs).toBe(0);
    t += 30_000;
    for (let i = 0; i < 10; i++) {
      expect(p.afterExit(exit(t, t + 10, 1)).restart).toBe(true);
      t += 10;
    }
  });

  it('during shutdown nothing restarts and deaths are debug; a signal is logged with the pid', () => {
    const p = new RespawnPolicy(CMD, false);
    const d = p.afterExit(exit(0, 5, null, { signal: 15, shuttingDown: true }));
    expect(d).toEqual({ logs: [{ level: 'debug', text: `Client ${CMD} (pid=42) killed by signal 15.` }], restart: false, delayMs: 0, reboot: false });
    const killed = new RespawnPolicy(CMD, false).afterExit(exit(0, 60_000, null, { signal: 9 }));
    expect(killed.logs).toEqual([
      { level: 'ERROR', text: `Client ${CMD} (pid=42) killed by signal 9.` },
      { level: 'ERROR', text: `Respawning client "${CMD}":` },
    ]);
  });

  it('failfast reboots when the child dies abnormally, not on a clean exit or a stop', () => {
    expect(new RespawnPolicy(CMD, true).afterExit(exit(0, 1, null, { signal: 11 })).reboot).toBe(true);
    expect(new RespawnPolicy(CMD, true).afterExit(exit(0, 1, 2)).reboot).toBe(true);
    expect(new RespawnPolicy(CMD, true).afterExit(exit(0, 1, 0)).reboot).toBe(false);
    expect(new RespawnPolicy(CMD, true).afterExit(exit(0, 1, 2, { shuttingDown: true })).reboot).toBe(false);
  });

  it('property: never more than 10 restarts in a row after short runs; exit 100 and shutdown never restart', () => {
    const run = fc.record({ ms: fc.nat(60_000), code: fc.constantFrom(0, 1, 100), shutting: fc.boolean() });
    fc.assert(
      fc.property(fc.array(run, { maxLength: 80 }), (runs) => {
        const p = new RespawnPolicy(CMD, false);
        let t = 0;
        let shortRestarts = 0;
        for (const r of runs) {
          const d = p.afterExit(exit(t, t + r.ms, r.code, { shuttingDown: r.shutting }));
          t += r.ms + 1;
          if (r.code === 100 || r.shutting) expect(d.restart).toBe(false);
          if (r.code === 100 || r.shutting) continue;
          if (r.ms >= 30_000) shortRestarts = 0;
          else if (d.restart) shortRestarts++;
          else shortRestarts = 0;
          expect(shortRestarts).toBeLessThanOrEqual(10);
          if (d.restart) expect(d.delayMs).toBe(r.ms < 30_000 ? 1000 : 0);
        }
      }),
    );
  });
});

describe('clientCommand and lookupUser', () => {
  it("maps the original's ipfail paths to ours, keeping the arguments", () => {
    const spec = (command: string) => ({ user: 'hacluster', command, path: command.split(' ')[0]!, failfast: false });
    expect(clientCommand(spec('/usr/lib/heartbeat/ipfail'), '/opt/hb/bin')).toBe('/opt/hb/bin/ipfail');
    expect(clientCommand(spec('/usr/libexec/heartbeat/ipfail -x'), '/opt/hb/bin')).toBe('/opt/hb/bin/ipfail -x');
    expect(clientCommand(spec('/usr/local/bin/mine a b'), '/opt/hb/bin')).toBe('/usr/local/bin/mine a b');
  });

  it('reads uid and primary gid from passwd', () => {
    const etc = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-etc-'));
    fs.writeFileSync(path.join(etc, 'passwd'), 'root:x:0:0::/root:/bin/sh\nhacluster:x:102:105::/var/lib/heartbeat:/usr/sbin/nologin\n');
    expect(lookupUser('hacluster', etc)).toEqual({ uid: 102, gid: 105 });
    expect(lookupUser('nobody-here', etc)).toBeUndefined();
    fs.rmSync(etc, { recursive: true, force: true });
  });
});

describe('RespawnSupervisor (real processes)', () => {
  let tmp: string;
  let sup: RespawnSupervisor | undefined;
  const lines: string[] = [];
  const log = {
    emerg: (m: string) => lines.push(`EMERG: ${m}`),
    error: (m: string) => lines.push(`ERROR: ${m}`),
    info: (m: string) => lines.push(`info: ${m}`),
    debug: (_l: number, m: string) => lines.push(`debug: ${m}`),
  };
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-respawn-'));
    fs.chmodSync(tmp, 0o777);
    lines.length = 0;
  });
  afterEach(async () => {
    await sup?.stop();
    sup = undefined;
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const script = (name: string, body: string): string => {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return f;
  };
  const until = async (cond: () => boolean, ms: number): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out; log:\n${lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 20)); // poll interval of a bounded condition wait
    }
  };
  const me = os.userInfo().username;

  it('restarts a client that keeps dying, with the back-off between short runs, until "respawning too fast"', async () => {
    const runs = path.join(tmp, 'runs');
    const cmd = script('dies', `echo run >> ${runs}; exit 3`);
    const t0 = Date.now();
    sup = new RespawnSupervisor({ children: [{ user: me, command: cmd, path: cmd, failfast: false }], log, env: process.env, policy: { maxShortRuns: 3, backoffMs: 100 } });
    sup.start();
    await until(() => lines.includes(`ERROR: Client ${cmd} "respawning too fast"`), 10_000);
    // 1 first run + 3 restarts; the 4th short exit is the last.
    expect(fs.readFileSync(runs, 'utf8').trim().split('\n')).toHaveLength(4);
    expect(lines.filter((l) => l === `ERROR: Respawning client "${cmd}":`)).toHaveLength(3);
    expect(lines.filter((l) => l === `ERROR: Client ${cmd} exited with return code 3.`)).toHaveLength(4);
    expect(lines[0]).toMatch(new RegExp(`^info: Starting child client "${cmd}" \\(\\d+,\\d+\\)$`));
    // Three back-offs of 100 ms.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(sup.pids()).toEqual([undefined]);
  });

  it('exit 100 is not restarted', async () => {
    const runs = path.join(tmp, 'runs');
    const cmd = script('done', `echo run >> ${runs}; exit 100`);
    sup = new RespawnSupervisor({ children: [{ user: me, command: cmd, path: cmd, failfast: false }], log, env: process.env });
    sup.start();
    await until(() => lines.includes(`ERROR: Client ${cmd} exited with return code 100.`), 5000);
    expect(lines.some((l) => l.startsWith('ERROR: Respawning'))).toBe(false);
    expect(fs.readFileSync(runs, 'utf8')).toBe('run\n');
  });

  it.runIf(process.getuid?.() === 0)('runs the child as the ha.cf user (uid and primary gid), with its arguments', async () => {
    const out = path.join(tmp, 'id');
    const cmd = script('who', `echo "$(id -u) $(id -g) $1" > ${out}; exit 100`);
    const nobody = lookupUser('nobody')!;
    sup = new RespawnSupervisor({ children: [{ user: 'nobody', command: `${cmd} arg1`, path: cmd, failfast: false }], log, env: process.env });
    sup.start();
    await until(() => fs.existsSync(out) && fs.readFileSync(out, 'utf8').endsWith('\n'), 5000);
    expect(fs.readFileSync(out, 'utf8')).toBe(`${nobody.uid} ${nobody.gid} arg1\n`);
    expect(lines).toContain(`info: Starting child client "${cmd} arg1" (${nobody.uid},${nobody.gid})`);
  });

  it('stops the children last one first, each before the next; nothing restarts then', async () => {
    const order = path.join(tmp, 'order');
    const a = script('a', `trap 'echo a >> ${order}; exit 0' TERM; touch ${tmp}/a.ready; while :; do sleep 0.05; done`);
    const b = script('b', `trap 'echo b >> ${order}; exit 0' TERM; touch ${tmp}/b.ready; while :; do sleep 0.05; done`);
    sup = new RespawnSupervisor({
      children: [
        { user: me, command: a, path: a, failfast: false },
        { user: me, command: b, path: b, failfast: false },
      ],
      log,
      env: process.env,
    });
    sup.start();
    await until(() => fs.existsSync(path.join(tmp, 'a.ready')) && fs.existsSync(path.join(tmp, 'b.ready')), 5000);
    const [pa, pb] = sup.pids();
    await sup.stop();
    expect(fs.readFileSync(order, 'utf8')).toBe('b\na\n');
    const kills = lines.filter((l) => l.startsWith('info: killing'));
    expect(kills).toEqual([`info: killing ${b} process group ${pb} with signal 15`, `info: killing ${a} process group ${pa} with signal 15`]);
    expect(lines.some((l) => l.startsWith('ERROR: Respawning'))).toBe(false);
    expect(sup.pids()).toEqual([undefined, undefined]);
  });

  it('failfast: a child that dies abnormally runs the reboot command instead of a restart', async () => {
    const marker = path.join(tmp, 'rebooted');
    const reboot = script('reboot', `echo "$@" > ${marker}`);
    const cmd = script('crashes', 'kill -SEGV $$');
    sup = new RespawnSupervisor({ children: [{ user: me, command: cmd, path: cmd, failfast: true }], log, env: process.env, rebootCommand: [reboot, '-f'] });
    sup.start();
    await until(() => fs.existsSync(marker), 5000);
    expect(fs.readFileSync(marker, 'utf8')).toBe('-f\n');
    expect(lines).toContain(`EMERG: Rebooting system.  Reason: ${cmd}`);
    expect(lines.some((l) => new RegExp(`^ERROR: Client ${cmd} \\(pid=\\d+\\) killed by signal 11\\.$`).test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('ERROR: Respawning'))).toBe(false);
  });

  it('a missing program or user is logged and not started', async () => {
    sup = new RespawnSupervisor({
      children: [
        { user: me, command: path.join(tmp, 'absent'), path: path.join(tmp, 'absent'), failfast: false },
        { user: 'no-such-user-hb', command: '/bin/true', path: '/bin/true', failfast: false },
      ],
      log,
      env: process.env,
    });
    sup.start();
    expect(lines.some((l) => l.startsWith(`ERROR: Cannot exec ${path.join(tmp, 'absent')}: `))).toBe(true);
    expect(lines).toContain('ERROR: Invalid uid [no-such-user-hb] specified for client child');
    expect(sup.pids()).toEqual([undefined, undefined]);
  });
});
