import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryConfigFs } from '../../lib/shared/fs.js';
import { parseDrbdConfig } from '../../lib/config/drbd/index.js';
import { configMeaning } from '../../lib/config/drbd/meaning.js';
import { REFERENCE, REPO_ROOT, runBin } from '../helpers/env.js';

const SAMPLE = path.join(REPO_ROOT, 'etc/drbd.conf');
const SAMPLES = path.join(REFERENCE, 'drbd-samples');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drbdadm-dump-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
}

const meaningOf = (text: string) => configMeaning(parseDrbdConfig(memoryConfigFs({ '/x.conf': text }), '/x.conf'));

describe('drbdadm dump', () => {
  it('dumps the sample etc/drbd.conf as this host sees it', () => {
    const r = runBin('drbdadm', ['-c', SAMPLE, '--hostname', 'alpha', 'dump']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`# ${SAMPLE}`);
    expect(r.stdout).toContain('# resource r0 on alpha: not ignored, not stacked\n');
    expect(r.stdout).toContain(`# defined at ${path.join(REPO_ROOT, 'etc/drbd.d/r0.res')}:3\n`);
    expect(r.stdout).toContain('    on bravo {\n        device           /dev/drbd0 minor 0;\n');
    expect(r.stdout).toContain('        resync-rate      30M;\n');
    // What it prints reads back to the same configuration.
    expect(meaningOf(r.stdout)).toEqual(configMeaning(parseDrbdConfig(memoryConfigFs({ [SAMPLE]: fs.readFileSync(SAMPLE), [path.join(REPO_ROOT, 'etc/drbd.d/global_common.conf')]: fs.readFileSync(path.join(REPO_ROOT, 'etc/drbd.d/global_common.conf')), [path.join(REPO_ROOT, 'etc/drbd.d/r0.res')]: fs.readFileSync(path.join(REPO_ROOT, 'etc/drbd.d/r0.res')) }), SAMPLE)));
  });

  it('takes the host name from DRBD_HOSTNAME and marks resources of other hosts ignored', () => {
    const r = runBin('drbdadm', ['-c', SAMPLE, 'dump', 'all'], { env: { DRBD_HOSTNAME: 'zulu' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('# resource r0 on zulu: ignored, not stacked\n');
  });

  it('dumps one resource, and refuses one not defined for this host (exit 1)', () => {
    const ok = runBin('drbdadm', ['-c', SAMPLE, '--hostname=bravo', 'dump', 'r0']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).not.toContain('global {');
    expect(ok.stdout).toContain('resource r0 {');
    const missing = runBin('drbdadm', ['-c', SAMPLE, '--hostname', 'bravo', 'dump', 'r9']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe("'r9' not defined in your config (for this host).\n");
    const otherHost = runBin('drbdadm', ['-c', SAMPLE, '--hostname', 'zulu', 'dump', 'r0']);
    expect(otherHost.status).toBe(1);
  });

  it('accepts -cFILE, --config-file=FILE and options after the command', () => {
    for (const args of [[`-c${SAMPLE}`, 'dump'], [`--config-file=${SAMPLE}`, 'dump'], ['dump', '-c', SAMPLE]]) {
      const r = runBin('drbdadm', [...args, '--hostname', 'alpha']);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('resource r0 {');
    }
  });

  it('translates 8.3 syntax, warning on stderr, exit 0', () => {
    const r = runBin('drbdadm', ['-c', path.join(SAMPLES, 'b-xen-dns.conf'), '--hostname', 'xen1', 'dump']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/b-xen-dns\.conf:16: warning: syncer \{ rate \} is DRBD 8\.3 syntax/);
    expect(r.stdout).toContain('    disk {\n        resync-rate       5M;\n    }\n');
    expect(r.stdout).toContain('        meta-disk        /dev/XEN/meta [1];\n');
    expect(r.stdout).toContain('        allow-two-primaries yes;\n');
  });

  it('exits 10 with FILE:LINE: on a config error', () => {
    const f = write('bad.conf', 'resource r {\n  protocol C;\n  net { frobnicate 1; }\n}\n');
    const r = runBin('drbdadm', ['-c', f, 'dump']);
    expect(r.status).toBe(10);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: 'frobnicate' is not valid here`));
  });

  it('names the included file and line of an error in it', () => {
    write('inc.res', 'resource r {\n  on a { device /dev/mydisk; }\n}\n');
    const f = write('inc.conf', 'include "*.res";\n');
    const r = runBin('drbdadm', ['-c', f, 'dump']);
    expect(r.status).toBe(10);
    expect(r.stderr.startsWith(`${path.join(tmp, 'inc.res')}:2: device name must start with /dev/drbd`)).toBe(true);
  });

  it('exits 20 when the config file cannot be opened', () => {
    const r = runBin('drbdadm', ['-c', path.join(tmp, 'nope.conf'), 'dump']);
    expect(r.status).toBe(20);
    expect(r.stderr).toBe(`Can not open '${path.join(tmp, 'nope.conf')}'.\n`);
  });

  it('reads the config from stdin with -c -, messages saying STDIN', () => {
    const ok = runBin('drbdadm', ['-c', '-', '--hostname', 'alpha', 'dump'], { input: fs.readFileSync(path.join(SAMPLES, 'c-min84-r0.conf'), 'utf8') });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('address          ipv4 10.10.10.4:7789;');
    const bad = runBin('drbdadm', ['-c', '-', 'dump'], { input: 'resource r {\n net { timeout 60 }\n}\n' });
    expect(bad.status).toBe(10);
    expect(bad.stderr).toBe("STDIN:2: ';' expected after '60', but got '}'\n");
  });

  it('names files by absolute path in the dump, as given in errors', () => {
    const r = runBin('drbdadm', ['-c', 'c-min84-r0.conf', '--hostname', 'hadb01', 'dump'], { cwd: SAMPLES });
    expect(r.stdout.split('\n')[0]).toBe(`# ${path.join(SAMPLES, 'c-min84-r0.conf')}`);
    expect(r.stdout).toContain(`# defined at ${path.join(SAMPLES, 'c-min84-r0.conf')}:2\n`);
    const e = runBin('drbdadm', ['-c', 'extra/missing-semicolon.conf', 'dump'], { cwd: SAMPLES });
    expect(e.stderr.startsWith('extra/missing-semicolon.conf:2: ')).toBe(true);
  });

  it('warns when this host\'s address is not local, and still dumps (exit 0)', () => {
    const f = write('notlocal.conf', `resource r {\n  device minor 0; disk /dev/x; meta-disk internal;\n  on ${os.hostname()} { address 192.0.2.77:7788; }\n  on other { address 192.0.2.78:7788; }\n}\n`);
    const r = runBin('drbdadm', ['-c', f, 'dump'], { env: { DRBD_HOSTNAME: undefined } });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(`${f}:3: in resource r, on ${os.hostname()}:\n\tIP 192.0.2.77 not found on this host.\n`);
    const quiet = runBin('drbdadm', ['-c', f, 'dump'], { env: { DRBD_HOSTNAME: os.hostname() } });
    expect(quiet.stderr).toBe('');
  });

  it('sh-nop parses only', () => {
    expect(runBin('drbdadm', ['-c', SAMPLE, 'sh-nop'])).toMatchObject({ status: 0, stdout: '' });
  });
});

describe('drbdadm dump against the recorded drbdadm 8.4 output', () => {
  // Host and local IPs as the recording namespace had them.
  const cases: [string, string, string][] = [
    ['b-xen-dns', 'xen1', '192.168.1.11'],
    ['c-min84-r0', 'hadb01', '10.10.10.4'],
    ['d-83-full', 'alpha', '10.0.0.1,fd00::1'],
    ['e-84-volumes', 'alpha', '10.0.0.1'],
    ['h5-a-cleaned', 'node1', '10.0.0.1'],
    ['h9-b-ported', 'xen1', '192.168.1.11'],
  ];
  for (const [sample, host, ips] of cases) {
    it(`${sample}: byte for byte, but for 8.4's added cmd-timeout defaults`, () => {
      const rec = fs.readFileSync(path.join(SAMPLES, 'out', `${sample}.drbdadm-84.txt`), 'utf8');
      const m = /^\$ drbdadm-84 -c \S+ dump all \(uname -n = ([^)]+)\)\n([\s\S]*?)\[exit 0\]/m.exec(rec);
      expect(m?.[1]).toBe(host);
      const expected = m![2]!.replaceAll('<samples>', SAMPLES).replace(/^ {4}cmd-timeout-(medium|long) \d+;\n/gm, '');
      const r = runBin('drbdadm', ['-c', `${sample}.conf`, '--hostname', host, 'dump'], { cwd: SAMPLES, env: { DRBD_LOCAL_ADDRESSES: ips } });
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(expected);
    });
  }
});

describe('drbdadm dump-xml', () => {
  it('prints the element layout of drbdadm 8.4 (c-min84-r0)', () => {
    const f = path.join(SAMPLES, 'c-min84-r0.conf');
    const r = runBin('drbdadm', ['-c', f, 'dump-xml']);
    expect(r.status).toBe(0);
    const host = (name: string, ip: string) => [
      `        <host name="${name}">`,
      '            <volume vnr="0">',
      '                <device minor="1">/dev/drbd1</device>',
      '                <disk>/dev/sdc1</disk>',
      '                <meta-disk>internal</meta-disk>',
      '            </volume>',
      `            <address family="ipv4" port="7789">${ip}</address>`,
      '        </host>',
    ];
    expect(r.stdout).toBe(
      [
        `<config file="${f}">`,
        `    <resource name="r0" conf-file-line="${f}:2">`,
        ...host('hadb01', '10.10.10.4'),
        ...host('hadb02', '10.10.10.5'),
        '        <section name="net">',
        '            <option name="protocol" value="C"/>',
        '        </section>',
        '    </resource>',
        '</config>',
        '',
      ].join('\n'),
    );
  });

  it('prints floating hosts, indexed meta data, bare minors, global and common', () => {
    const r = runBin('drbdadm', ['-c', path.join(SAMPLES, 'e-84-volumes.conf'), 'dump-xml']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('        <host floating="1">\n');
    expect(r.stdout).toContain('                <meta-disk index="0">/dev/vg0/web-md</meta-disk>\n');
    expect(r.stdout).toContain('                <device minor="11"></device>\n');
    expect(r.stdout).toContain('    <common>\n        <section name="options">\n');
    expect(r.stdout).toContain('            <option name="split-brain" value="/usr/lib/drbd/notify-split-brain.sh root"/>\n');
    const d = runBin('drbdadm', ['-c', path.join(SAMPLES, 'd-83-full.conf'), 'dump-xml']);
    expect(d.stdout).toContain('    <global>\n        <minor-count count="64"/>\n        <dialog-refresh refresh="5"/>\n    </global>\n');
    expect(d.stdout).toContain('<address family="ipv6" port="7789">fd00::1</address>');
  });

  it('escapes XML special characters', () => {
    const f = write('x.conf', 'resource r {\n handlers { split-brain "a < b & \\"c\\""; }\n on a { device minor 0; disk /dev/x; address 10.0.0.1:1; }\n}\n');
    const r = runBin('drbdadm', ['-c', f, 'dump-xml']);
    expect(r.stdout).toContain('<option name="split-brain" value="a &lt; b &amp; &quot;c&quot;"/>');
  });
});

describe('other subcommands', () => {
  it('say they are not implemented yet and exit non-zero', () => {
    const r = runBin('drbdadm', ['-c', SAMPLE, 'resize', 'r0']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("'resize' is not implemented yet");
  });

  it('refuse unknown commands and options', () => {
    expect(runBin('drbdadm', ['frobnicate']).status).toBe(1);
    expect(runBin('drbdadm', ['--bogus', 'dump']).status).toBe(1);
    expect(runBin('drbdadm', []).status).toBe(1);
  });
});
