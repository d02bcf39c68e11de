// Spawns the built bin/heartbeat: run `npm run build` first (`npm test` does).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CORPUS, REPO_ROOT, runBin } from '../helpers/env.js';
import { readFileSync } from 'node:fs';

const SECRET = 'Very-Secret-Key-4711';
const HOST = os.hostname().toLowerCase();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface HaDirFiles {
  hacf?: string;
  authkeys?: string;
  haresources?: string;
  authMode?: number;
  scripts?: string[];
}

const GOOD_HACF = `# test cluster
keepalive 2
deadtime 10
bcast eth0
ucast eth1 10.0.0.2
ping 10.0.0.254
respawn hacluster /bin/true --quiet
auto_failback on
logfacility local0
node ${HOST} peer
`;
const GOOD_AUTHKEYS = `auth 1\n1 sha1 ${SECRET}\n`;
const GOOD_HARESOURCES = `${HOST} 10.0.0.10 myservice\n`;

/** A scratch ha.d directory; absent members are left out. */
function haDir(files: HaDirFiles): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hb-check-'));
  dirs.push(dir);
  if (files.hacf !== undefined) writeFileSync(path.join(dir, 'ha.cf'), files.hacf);
  if (files.authkeys !== undefined) {
    writeFileSync(path.join(dir, 'authkeys'), files.authkeys);
    chmodSync(path.join(dir, 'authkeys'), files.authMode ?? 0o600);
  }
  if (files.haresources !== undefined) writeFileSync(path.join(dir, 'haresources'), files.haresources);
  mkdirSync(path.join(dir, 'resource.d'));
  for (const s of files.scripts ?? ['IPaddr', 'myservice']) {
    writeFileSync(path.join(dir, 'resource.d', s), '#!/bin/sh\n');
    chmodSync(path.join(dir, 'resource.d', s), 0o755);
  }
  return dir;
}
const good = (over: HaDirFiles = {}) => haDir({ hacf: GOOD_HACF, authkeys: GOOD_AUTHKEYS, haresources: GOOD_HARESOURCES, ...over });

describe('heartbeat --check', () => {
  it('exits 0 on a valid directory, quiet on stderr', () => {
    const dir = good();
    const r = runBin('heartbeat', ['--check', '--confdir', dir]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`heartbeat: configuration in ${dir} is valid\n`);
    expect(r.status).toBe(0);
  });
  it('reads $HA_DIR, and --confdir wins over it', () => {
    const dir = good();
    expect(runBin('heartbeat', ['--check'], { env: { HA_DIR: dir } }).status).toBe(0);
    const broken = haDir({ hacf: GOOD_HACF });
    expect(runBin('heartbeat', ['--check', '--confdir', dir], { env: { HA_DIR: broken } }).status).toBe(0);
    expect(runBin('heartbeat', ['--check'], { env: { HA_DIR: broken } }).status).toBe(6);
  });
  it('prints warnings as FILE:LINE: warning: and still exits 0', () => {
    const dir = good({ hacf: GOOD_HACF + 'nice_failback on\n', haresources: `${HOST} 10.0.0.10 nosuchscript-xyz\n` });
    const r = runBin('heartbeat', ['--check', '--confdir', dir]);
    expect(r.status).toBe(0);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      `${dir}/ha.cf:11: warning: nice_failback is obsolete; 'nice_failback on' is taken as 'auto_failback off'`,
      `${dir}/haresources:1: warning: cannot locate resource script nosuchscript-xyz in resource.d or /etc/init.d`,
    ]);
  });
  it('reports errors of all three files as FILE:LINE: message, exit status 6', () => {
    const dir = good({
      hacf: GOOD_HACF + 'keepalve 2\n',
      authkeys: `auth 1\n1 sha2 ${SECRET}\n`,
      // ha.cf is invalid, so its node names are unknown and nodex is not checked.
      haresources: `${HOST} 10.0.0.10\nnodex myservice\n`,
    });
    const r = runBin('heartbeat', ['--check', '--confdir', dir]);
    expect(r.status).toBe(6);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      `${dir}/ha.cf:11: unknown directive [keepalve]; did you mean keepalive?`,
      `${dir}/authkeys:2: invalid auth method [sha2]; did you mean sha1?`,
      `${dir}/authkeys:1: auth key [1] not found in keyfile`,
    ]);
  });
  it('checks haresources node names against a valid ha.cf', () => {
    const dir = good({ haresources: `${HOST} 10.0.0.10\nnodex httpd\n` });
    const r = runBin('heartbeat', ['--check', '--confdir', dir]);
    expect(r.status).toBe(6);
    expect(r.stderr).toContain(`${dir}/haresources:2: bad node name [nodex]: not declared by a node line in ha.cf`);
  });
  it('refuses an authkeys file readable by others, with the original message', () => {
    const dir = good({ authMode: 0o644 });
    const r = runBin('heartbeat', ['--check', '--confdir', dir]);
    expect(r.status).toBe(6);
    expect(r.stderr).toBe(`${dir}/authkeys:0: Bad permissions on keyfile [${dir}/authkeys], 600 recommended.\n`);
  });
  it('names missing files', () => {
    const dir = haDir({ hacf: GOOD_HACF });
    const r = runBin('heartbeat', ['--check', '--confdir', dir]);
    expect(r.status).toBe(6);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      `${dir}/authkeys:0: cannot open keyfile [${dir}/authkeys]: no such file`,
      `${dir}/haresources:0: cannot open resources file [${dir}/haresources]: no such file`,
    ]);
    // Without ha.cf it is unknown whether haresources is needed: not reported missing.
    const nothing = runBin('heartbeat', ['--check', '--confdir', path.join(dir, 'nope')]);
    expect(nothing.status).toBe(6);
    expect(nothing.stderr.split('\n').filter(Boolean)).toEqual([
      `${dir}/nope/ha.cf:0: cannot open config file [${dir}/nope/ha.cf]: no such file`,
      `${dir}/nope/authkeys:0: cannot open keyfile [${dir}/nope/authkeys]: no such file`,
    ]);
  });
  it('with pacemaker on, haresources is not needed, and warned about when present', () => {
    const hacf = GOOD_HACF + 'crm on\n';
    expect(runBin('heartbeat', ['--check', '--confdir', haDir({ hacf, authkeys: GOOD_AUTHKEYS })]).status).toBe(0);
    const dir = good({ hacf });
    const r = runBin('heartbeat', ['--check', '--confdir', dir]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(`${dir}/haresources:0: warning: file exists but is not used because pacemaker is enabled in ${dir}/ha.cf\n`);
  });
  it('warns when this machine is not a node', () => {
    const dir = good({ hacf: GOOD_HACF.replace(`node ${HOST} peer`, 'node peer other'), haresources: 'peer 10.0.0.10\n' });
    const r = runBin('heartbeat', ['--check', '--confdir', dir]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`${dir}/ha.cf:0: warning: current node [${HOST}] is not declared by a node line`);
  });
  it('takes the node name from ha.d/nodeinfo when present', () => {
    const dir = good({ hacf: GOOD_HACF.replace(`node ${HOST} peer`, 'node Peer other'), haresources: 'peer 10.0.0.10\n' });
    writeFileSync(path.join(dir, 'nodeinfo'), 'PEER\n');
    expect(runBin('heartbeat', ['--check', '--confdir', dir]).stderr).toBe('');
  });
  it('accepts the sample configuration in etc/ha.d (authkeys made 600: git keeps 644)', () => {
    const sample = (n: string) => readFileSync(path.join(REPO_ROOT, 'etc', 'ha.d', n), 'utf8');
    const dir = haDir({ hacf: sample('ha.cf'), authkeys: sample('authkeys'), haresources: sample('haresources'), scripts: ['IPaddr', 'drbddisk', 'Filesystem', 'apache2'] });
    const r = runBin('heartbeat', ['--check', '--confdir', dir]);
    expect(r.stderr).not.toMatch(/:\d+: (?!warning)/);
    expect(r.status).toBe(0);
  });
  it('accepts the corpus files the original accepts', () => {
    const dir = haDir({
      hacf: readFileSync(path.join(CORPUS, 'hacf', 'shotai-bcast-and-ucast.ha.cf'), 'utf8'),
      authkeys: readFileSync(path.join(CORPUS, 'authkeys', 'maxencecolmant-asterisk.authkeys'), 'utf8'),
      haresources: readFileSync(path.join(CORPUS, 'haresources', 'shotai-dotted-netmask.haresources'), 'utf8'),
    });
    const r = runBin('heartbeat', ['--check', '--confdir', dir]);
    expect(r.status).toBe(0);
  });
});

describe('heartbeat --dump-json', () => {
  it('prints the normalized model and never the key', () => {
    const dir = good();
    const r = runBin('heartbeat', ['--dump-json', '--confdir', dir]);
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    const m = JSON.parse(r.stdout);
    expect(m.nodes).toEqual([HOST, 'peer']);
    expect(m.media).toEqual([
      { type: 'bcast', device: 'eth0', port: 694, line: 4 },
      { type: 'ucast', device: 'eth1', peer: '10.0.0.2', port: 694, line: 5 },
    ]);
    expect(m.timings).toEqual({ keepaliveMs: 2000, deadtimeMs: 10000, warntimeMs: 5000, initdeadMs: 20000, deadpingMs: 10000 });
    expect(m.auth).toEqual({ activeIndex: 1, method: 'sha1', indexes: [{ index: 1, method: 'sha1' }] });
    expect(m.pingNodes).toEqual([{ type: 'ping', name: '10.0.0.254', addresses: ['10.0.0.254'], line: 6 }]);
    expect(m.respawn).toEqual([{ line: 7, user: 'hacluster', command: '/bin/true --quiet', path: '/bin/true', failfast: false, implicit: false }]);
    expect(m.resourceGroups).toEqual([
      {
        node: HOST, key: '10.0.0.10', line: 1,
        resources: [
          { token: '10.0.0.10', script: 'IPaddr', args: ['10.0.0.10'], ipShorthand: true },
          { token: 'myservice', script: 'myservice', args: [], ipShorthand: false },
        ],
      },
    ]);
    expect(m.autoFailback).toBe('on');
    expect(m.haDir).toBe(dir);
  });
  it('prints nothing on stdout when the configuration is invalid', () => {
    const r = runBin('heartbeat', ['--dump-json', '--confdir', good({ authkeys: 'auth 2\n1 crc\n' })]);
    expect(r.status).toBe(6);
    expect(r.stdout).toBe('');
  });
});

describe('heartbeat options', () => {
  it('-V prints the version it replaces', () => {
    const r = runBin('heartbeat', ['-V']);
    expect([r.status, r.stdout]).toEqual([0, '3.0.6 (heartbeat-ts)\n']);
  });
  it('-D prints the directives that have defaults', () => {
    const r = runBin('heartbeat', ['-D']);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^Directive +Default +Description$/);
    expect(lines[1]).toMatch(/^-+$/);
    expect(lines).toContainEqual(expect.stringMatching(/^keepalive +1000ms +\S/));
    expect(lines).toContainEqual(expect.stringMatching(/^auto_failback +legacy +\S/));
  });
  it('a bad option prints the original usage and exits 2', () => {
    const r = runBin('heartbeat', ['-x']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Usage: heartbeat [-dDkMrRsvWlVf] [-C Current-resource-state]');
    expect(runBin('heartbeat', ['-C', 'all']).status).toBe(2);
  });
  it('--help lists --check, --dump-json and --confdir', () => {
    const r = runBin('heartbeat', ['--help']);
    expect(r.status).toBe(0);
    for (const o of ['--check', '--dump-json', '--confdir <dir>']) expect(r.stdout).toContain(o);
  });
});
