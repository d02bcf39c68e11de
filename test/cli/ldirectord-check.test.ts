import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REFERENCE, REPO_ROOT, itWithTools, runBin } from '../helpers/env.js';

const DAEMON_CLI = path.join(REFERENCE, 'ldirectord-golden', 'daemon-cli');
const CASES = path.join(REFERENCE, 'ldirectord-golden', 'config-parse', 'cases');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ldirectord-check-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function writeTmp(name: string, text: string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
}

describe('ldirectord -t', () => {
  it('accepts a valid config: exit 0, summary on stdout', () => {
    const r = runBin('ldirectord', ['-t', 'golden.cf'], { cwd: DAEMON_CLI });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('golden.cf: configuration OK (1 virtual service, 1 real server)\n');
    expect(r.status).toBe(0);
  });

  it('rejects the configs the real ldirectord rejected, exit 2 with FILE:LINE: naming the token', () => {
    const bad = runBin('ldirectord', ['-t', 'bad.cf'], { cwd: DAEMON_CLI });
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe('bad.cf:3: forward method must be gate, masq or ipip, not "bridge"\n');
    const bad2 = runBin('ldirectord', ['--test', 'bad2.cf'], { cwd: DAEMON_CLI });
    expect(bad2.status).toBe(2);
    expect(bad2.stderr).toMatch(/^bad2\.cf:2: unknown directive "frobnicate"/);
  });

  it('a missing config exits 1 with the original message', () => {
    const r = runBin('ldirectord', ['-t', 'nonexistent.cf'], { cwd: tmp });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('ldirectord: Config file nonexistent.cf not found\n');
    // A directory is not a config file.
    fs.mkdirSync(path.join(tmp, 'adir'), { recursive: true });
    expect(runBin('ldirectord', ['-t', 'adir'], { cwd: tmp }).status).toBe(1);
  });

  it('reports every error of a file, sorted by line', () => {
    const f = writeTmp('multi.cf', 'fork=maybe\nvirtual=192.0.2.1:80\n\treal=192.0.2.2:80 gate\n\tservice=telnet\nquiesent=yes\n');
    const r = runBin('ldirectord', ['-t', f]);
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split('\n').map((l) => l.slice(f.length).split(':')[1])).toEqual(['1', '4', '5']);
  });

  it('prints warnings on stderr and still exits 0', () => {
    const r = runBin('ldirectord', ['-t', path.join(CASES, '29-bare-supervised.cf')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(`${path.join(CASES, '29-bare-supervised.cf')}:1: warning: please update your config not to use a bare supervised directive\n`);
  });

  it('fixes the traps: CRLF, inline comments, trailing blanks, blank line in a block', () => {
    const f = writeTmp('traps.cf', 'quiescent=yes # q \r\nvirtual=192.0.2.1:80\r\n\treal=192.0.2.2:80 gate # r\r\n\r\n\tscheduler=rr \r\n');
    const r = runBin('ldirectord', ['-t', '--dump-json', f]);
    expect(r.status).toBe(0);
    const model = JSON.parse(r.stdout);
    expect(model.globals.quiescent).toBe(true);
    expect(model.virtuals[0].scheduler).toBe('rr');
  });

  it('--dump-json prints the normalized model', () => {
    const r = runBin('ldirectord', ['--dump-json', 'golden.cf'], { cwd: DAEMON_CLI });
    expect(r.status).toBe(0);
    const model = JSON.parse(r.stdout);
    expect(model.file).toBe('golden.cf');
    expect(model.globals.checkIntervalMs).toBe(1000);
    expect(model.virtuals).toHaveLength(1);
    expect(model.virtuals[0]).toMatchObject({ id: 'tcp:127.0.15.219:80', protocol: 'tcp', port: 80, service: 'http' });
    expect(model.virtuals[0].reals[0]).toMatchObject({ address: '127.0.15.221', port: 80, forward: 'gate', weight: 10 });
  });

  it('looks the config up in /etc/ha.d, /etc/ha.d/conf, then as given (default ldirectord.cf)', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'cwd-'));
    fs.writeFileSync(path.join(dir, 'ldirectord.cf'), 'virtual=192.0.2.1:80\n\treal=192.0.2.2:80 gate\n\treal=192.0.2.3:80 gate\n');
    const r = runBin('ldirectord', ['-t'], { cwd: dir });
    // On a machine with /etc/ha.d/ldirectord.cf that file wins over the one in the cwd, as in ldirectord.
    const system = ['/etc/ha.d/ldirectord.cf', '/etc/ha.d/conf/ldirectord.cf'].find((p) => fs.existsSync(p) && fs.statSync(p).isFile());
    if (system) expect(r.stdout + r.stderr).toContain(system);
    else {
      expect(r.stdout).toBe('ldirectord.cf: configuration OK (1 virtual service, 2 real servers)\n');
      expect(r.status).toBe(0);
    }
  });

  it('the sample etc/ha.d/ldirectord.cf passes', () => {
    const r = runBin('ldirectord', ['-t', path.join(REPO_ROOT, 'etc', 'ha.d', 'ldirectord.cf')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('configuration OK (3 virtual services, 7 real servers)');
  });

  itWithTools(['getent'], 'resolves host names through the system (localhost:http)', () => {
    const r = runBin('ldirectord', ['--dump-json', path.join(CASES, '38-virtual-hostname-service.cf')]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).virtuals[0]).toMatchObject({ address: '127.0.0.1', port: 80 });
    const bad = runBin('ldirectord', ['-t', path.join(CASES, '33-unresolvable-real.cf')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(':2: invalid address (no-such-host.invalid) for real server');
  });
});

describe('ldirectord other actions and usage', () => {
  it('no arguments or an unknown command: usage on stdout, exit 255 like the original', () => {
    for (const args of [[], ['golden.cf', 'bogus'], ['--frobnicate']]) {
      const r = runBin('ldirectord', args, { cwd: DAEMON_CLI });
      expect(r.status).toBe(255);
      expect(r.stdout).toContain('ldirectord -t [--dump-json] [configfile]');
    }
  });
  it('-v prints a version and exits 0', () => {
    const r = runBin('ldirectord', ['-v']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ldirectord \(heartbeat-ts\)/);
  });
});
