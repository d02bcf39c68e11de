import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/shared/errors.js';
import { memoryConfigFs } from '../../lib/shared/fs.js';
import { parseDrbdConfig } from '../../lib/config/drbd/index.js';
import { effectiveSection, type DrbdConfig } from '../../lib/config/drbd/model.js';
import { findLocalHost } from '../../lib/config/drbd/local-host.js';

const HOSTS = `
  on alpha { device /dev/drbd0; disk /dev/sda3; meta-disk internal; address 10.0.0.1:7788; }
  on bravo { device /dev/drbd0; disk /dev/sda3; meta-disk internal; address 10.0.0.2:7788; }`;

function parse(text: string | Uint8Array, extra: Record<string, string> = {}): DrbdConfig {
  return parseDrbdConfig(memoryConfigFs({ '/etc/drbd.conf': text, ...extra }), '/etc/drbd.conf');
}

function res(body: string): string {
  return `resource r {\n${body}\n}\n`;
}

/** The ConfigError a config raises (fails the test when it parses). */
function refused(text: string, extra: Record<string, string> = {}): ConfigError {
  try {
    parse(text, extra);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('config was accepted');
}

const opt = (c: DrbdConfig, section: 'net' | 'disk' | 'options' | 'startup' | 'handlers', name: string, r = 0) =>
  c.resources[r]!.sections[section].get(name);

describe('lexical rules', () => {
  it('accepts comments, CRLF, tabs and a missing final newline', () => {
    const c = parse('# head\r\nresource r {\t# tab\r\n  net {\tprotocol C; }\r\n' + HOSTS.replace(/\n/g, '\r\n') + '\r\n}');
    expect(c.resources[0]!.name).toBe('r');
    expect(opt(c, 'net', 'protocol')?.value).toBe('C');
  });

  it('accepts non-UTF-8 bytes (GBK) inside comments', () => {
    const head = new TextEncoder().encode('# ');
    const gbk = new Uint8Array([0xc5, 0xe4, 0xd6, 0xc3]);
    const rest = new TextEncoder().encode('\n' + res('protocol C;' + HOSTS));
    const bytes = new Uint8Array([...head, ...gbk, ...rest]);
    expect(parse(bytes).resources).toHaveLength(1);
  });

  it('reads quoted strings with escapes', () => {
    const c = parse(res(`handlers { split-brain "echo \\"x\\" \\\\ y"; }` + HOSTS));
    expect(opt(c, 'handlers', 'split-brain')?.value).toBe('echo "x" \\ y');
  });

  it('refuses an unterminated string at its line', () => {
    const e = refused(res(`net {\n cram-hmac-alg "sha1;\n }` + HOSTS));
    expect(e.code).toBe('DRBD_UNTERMINATED_STRING');
    expect(e.message).toMatch(/^\/etc\/drbd\.conf:3: /);
  });

  it("refuses '=' (0.6 syntax) naming the token", () => {
    const e = refused(res('protocol C; net { timeout=60; }' + HOSTS));
    expect(e.code).toBe('DRBD_EQUALS_SIGN');
    expect([e.file, e.line, e.token]).toEqual(['/etc/drbd.conf', 2, 'timeout=60']);
  });

  it('refuses a no-break space outside quotes (pasted from a web page)', () => {
    const e = refused('global {\n\u00a0usage-count no;\n}\n');
    expect(e.code).toBe('DRBD_UNEXPECTED_TOKEN');
    expect(e.line).toBe(2);
    expect(e.message).toContain('U+00A0');
  });

  it("refuses a missing ';' at the '}' that follows", () => {
    const e = refused(res('protocol C; net { timeout 60 }' + HOSTS));
    expect(e.code).toBe('DRBD_EXPECTED_SEMICOLON');
    expect([e.line, e.token]).toEqual([2, '}']);
  });

  it("refuses a missing ';' that glues two options together", () => {
    const e = refused(res('net {\n allow-two-primaries\n after-sb-0pri discard-zero-changes;\n}' + HOSTS));
    expect(e.code).toBe('DRBD_BAD_VALUE');
    expect([e.line, e.token]).toEqual([4, 'after-sb-0pri']);
  });

  it('reports a bad token before a later syntax error, as a streaming parser would', () => {
    const e = refused('resource r {\n  net { bogus 1; }\n  on a { device /dev/drbd0\n');
    expect([e.code, e.line, e.token]).toEqual(['DRBD_UNKNOWN_OPTION', 2, 'bogus']);
  });

  it('refuses a section left open at end of file', () => {
    const e = refused('resource r {\n  net { protocol C; }\n');
    expect(e.code).toBe('DRBD_UNBALANCED_BRACE');
  });

  it("refuses a stray '}'", () => {
    const e = refused('}\n');
    expect([e.code, e.line, e.token]).toEqual(['DRBD_UNEXPECTED_TOKEN', 1, '}']);
  });
});

describe('top level, include and skip', () => {
  it('refuses an unknown top-level keyword naming it', () => {
    const e = refused('\ncat > /etc/drbd.d/r0.res <<EOF\n');
    expect([e.code, e.file, e.line, e.token]).toEqual(['DRBD_UNKNOWN_KEYWORD', '/etc/drbd.conf', 2, 'cat']);
    expect(e.message).toBe("/etc/drbd.conf:2: 'cat' is not valid here; expected global | common | resource | skip | include");
  });

  it('expands include globs relative to the including file, in sorted order', () => {
    const c = parseDrbdConfig(
      memoryConfigFs({
        '/etc/drbd.conf': 'include "drbd.d/global_common.conf";\ninclude "drbd.d/*.res";\ninclude "none/*.res";\n',
        '/etc/drbd.d/global_common.conf': 'global { usage-count no; }\ncommon { net { protocol C; } }\n',
        '/etc/drbd.d/b.res': res(HOSTS.replace(/drbd0/g, 'drbd1').replace(/7788/g, '7789')).replace('resource r', 'resource b'),
        '/etc/drbd.d/a.res': res(HOSTS).replace('resource r', 'resource a'),
      }),
      '/etc/drbd.conf',
    );
    expect(c.resources.map((r) => r.name)).toEqual(['a', 'b']);
    expect(c.files).toEqual(['/etc/drbd.conf', '/etc/drbd.d/global_common.conf', '/etc/drbd.d/a.res', '/etc/drbd.d/b.res']);
    expect(c.resources[0]!.pos).toEqual({ file: '/etc/drbd.d/a.res', line: 1 });
  });

  it('reports errors in an included file with that file name', () => {
    const e = refused('include "r.res";\n', { '/etc/r.res': '\n\nresource r { net { bogus 1; } }\n' });
    expect([e.file, e.line, e.token, e.code]).toEqual(['/etc/r.res', 3, 'bogus', 'DRBD_UNKNOWN_OPTION']);
  });

  it('refuses include inside a section', () => {
    const e = refused(res('protocol C; include "x.conf";' + HOSTS));
    expect([e.code, e.line, e.token]).toEqual(['DRBD_INCLUDE', 2, 'include']);
  });

  it('stops an include loop', () => {
    const e = refused('include "drbd.conf";\n');
    expect(e.code).toBe('DRBD_INCLUDE');
  });

  it('skips balanced blocks at top level and in sections, whatever they hold', () => {
    const c = parse(
      'skip resource old {\n  free text with { nested } braces and "quotes\n}\nskip { }\n' +
        res('protocol C;\n skip disk { on-io-error pass_on; }' + HOSTS),
    );
    expect(c.resources).toHaveLength(1);
    expect(c.resources[0]!.sections.disk.size).toBe(0);
  });

  it('refuses a skip block that never closes', () => {
    expect(refused('skip {\n {\n').code).toBe('DRBD_UNBALANCED_BRACE');
  });
});

describe('sections and inheritance', () => {
  it('keeps common as defaults the resource overrides', () => {
    const c = parse('common { net { protocol C; max-buffers 2048; } disk { resync-rate 10M; } }\n' + res('net { max-buffers 8000; }' + HOSTS));
    const net = effectiveSection(c, c.resources[0]!, 'net');
    expect(net.get('protocol')?.value).toBe('C');
    expect(net.get('max-buffers')?.value).toBe(8000);
    expect(effectiveSection(c, c.resources[0]!, 'disk').get('resync-rate')?.value).toBe(10240);
  });

  it('refuses a second global or common section', () => {
    expect(refused('global { }\nglobal { }\n').code).toBe('DRBD_DUPLICATE');
    expect(refused('common { }\ncommon { }\n').line).toBe(2);
  });

  it('refuses an unknown option with a suggestion', () => {
    const e = refused(res('net { ping-intt 10; }' + HOSTS));
    expect([e.code, e.line, e.token]).toEqual(['DRBD_UNKNOWN_OPTION', 2, 'ping-intt']);
    expect(e.message).toContain("did you mean 'ping-int'?");
  });

  it('refuses bad enum and boolean values naming the value', () => {
    const e1 = refused(res('net { after-sb-1pri bogus-policy; }' + HOSTS));
    expect([e1.code, e1.token]).toEqual(['DRBD_BAD_VALUE', 'bogus-policy']);
    const e2 = refused(res('net { allow-two-primaries maybe; }' + HOSTS));
    expect([e2.code, e2.token]).toEqual(['DRBD_BAD_VALUE', 'maybe']);
  });

  it('reads 8.4 booleans: bare = yes, yes/no', () => {
    const c = parse(res('net { allow-two-primaries; tcp-cork no; }' + HOSTS));
    expect(opt(c, 'net', 'allow-two-primaries')?.value).toBe(true);
    expect(opt(c, 'net', 'tcp-cork')?.value).toBe(false);
  });

  it('refuses a duplicate resource at its second definition', () => {
    const e = refused(res('protocol C;' + HOSTS) + 'resource r { }\n');
    expect([e.code, e.line, e.token]).toEqual(['DRBD_DUPLICATE', 6, 'r']);
  });

  it('refuses a resource with no host sections', () => {
    expect(refused('resource r { net { protocol C; } }\n').code).toBe('DRBD_MISSING');
  });
});

describe('units are normalized in the model', () => {
  const rate = (text: string) => opt(parse(res(`disk { resync-rate ${text}; }` + HOSTS)), 'disk', 'resync-rate');

  it('KiB/s options: bare = KiB/s, K/M/G binary, lower case too, s = sectors rounded up', () => {
    expect(rate('10240')?.value).toBe(10240);
    expect(rate('30M')?.value).toBe(30720);
    expect(rate('30000k')?.value).toBe(30000);
    expect(rate('10m')?.value).toBe(10240);
    expect(rate('1G')?.value).toBe(1048576);
    expect(rate('3s')?.value).toBe(2);
    expect(rate('30M')?.text).toBe('30M');
  });

  it('sizes in sectors, buffers in bytes, timeouts in tenths', () => {
    const c = parse(res('disk { size 10G; c-fill-target 100; } net { sndbuf-size 512k; timeout 60; connect-int 10; }' + HOSTS));
    expect(opt(c, 'disk', 'size')?.value).toBe(20971520);
    expect(opt(c, 'disk', 'size')?.unit).toBe('sectors');
    expect(opt(c, 'disk', 'c-fill-target')?.value).toBe(100);
    expect(opt(c, 'net', 'sndbuf-size')?.value).toBe(524288);
    expect(opt(c, 'net', 'timeout')).toMatchObject({ value: 60, unit: 'tenths' });
    expect(opt(c, 'net', 'connect-int')).toMatchObject({ value: 10, unit: 'seconds' });
  });

  it('refuses values out of the kernel limits (8.4: resync-rate 100G out of range)', () => {
    const e = refused(res('disk {\n resync-rate 100G; }' + HOSTS));
    expect([e.code, e.line, e.token]).toEqual(['DRBD_BAD_NUMBER', 3, '100G']);
    expect(e.message).toContain('resync-rate 100G => 104857600 out of range [1..4194304]');
    expect(refused(res('net { ping-int 0; }' + HOSTS)).token).toBe('0');
    expect(rate('4G')?.value).toBe(4194304);
  });

  it('refuses 100Mbit naming it', () => {
    const e = refused(res('disk {\n resync-rate 100Mbit; }' + HOSTS));
    expect([e.code, e.line, e.token]).toEqual(['DRBD_BAD_NUMBER', 3, '100Mbit']);
  });
});

describe('legacy keywords are mapped with a warning', () => {
  it('syncer { rate after al-extents verify-alg use-rle cpu-mask } go where 8.4 puts them', () => {
    const c = parse(res('syncer { rate 30M; after r0; al-extents 257; verify-alg md5; use-rle; cpu-mask 3; }' + HOSTS));
    expect(opt(c, 'disk', 'resync-rate')?.value).toBe(30720);
    expect(opt(c, 'disk', 'resync-after')?.value).toBe('r0');
    expect(opt(c, 'disk', 'al-extents')?.value).toBe(257);
    expect(opt(c, 'net', 'verify-alg')?.value).toBe('md5');
    expect(opt(c, 'net', 'use-rle')?.value).toBe(true);
    expect(opt(c, 'options', 'cpu-mask')?.value).toBe('3');
    expect(c.warnings.some((w) => w.code === 'DRBD_LEGACY' && w.token === 'rate' && w.line === 2)).toBe(true);
  });

  it('resource-level protocol moves into net, first', () => {
    const c = parse(res('net { timeout 60; }\nprotocol c;' + HOSTS));
    expect([...c.resources[0]!.sections.net.keys()]).toEqual(['protocol', 'timeout']);
    expect(opt(c, 'net', 'protocol')?.value).toBe('C');
  });

  it('8.3 switches: no-disk-flushes, no-tcp-cork become "no"', () => {
    const c = parse(res('disk { no-disk-flushes; no-md-flushes; } net { no-tcp-cork; }' + HOSTS));
    expect(opt(c, 'disk', 'disk-flushes')).toMatchObject({ value: false, text: 'no' });
    expect(opt(c, 'disk', 'md-flushes')?.value).toBe(false);
    expect(opt(c, 'net', 'tcp-cork')?.value).toBe(false);
  });

  it('0.7: incon-degr-cmd -> pri-on-incon-degr, on-disconnect dropped, on-io-error panic -> call-local-io-error', () => {
    const c = parse(res('protocol C;\nincon-degr-cmd "halt -f";\nnet { on-disconnect reconnect; }\ndisk { on-io-error panic; }' + HOSTS));
    expect(opt(c, 'handlers', 'pri-on-incon-degr')?.value).toBe('halt -f');
    expect(opt(c, 'net', 'on-disconnect')).toBeUndefined();
    expect(opt(c, 'disk', 'on-io-error')?.value).toBe('call-local-io-error');
    expect(opt(c, 'handlers', 'local-io-error')?.value).toContain('halt -f');
    expect(c.warnings.filter((w) => w.code === 'DRBD_LEGACY').map((w) => w.line)).toEqual([3, 4, 5]);
  });

  it('0.7: syncer { group } orders resyncs with resync-after', () => {
    const mk = (n: string, g: number, port: number, minor: number) =>
      `resource ${n} { syncer { group ${g}; } on a { device /dev/drbd${minor}; disk /dev/x${minor}; address 10.0.0.1:${port}; meta-disk internal; } on b { device /dev/drbd${minor}; disk /dev/x${minor}; address 10.0.0.2:${port}; meta-disk internal; } }\n`;
    const c = parse(mk('r0', 1, 7788, 0) + mk('r1', 1, 7789, 1) + mk('r2', 2, 7790, 2) + mk('r3', 3, 7791, 3));
    expect(opt(c, 'disk', 'resync-after', 0)).toBeUndefined();
    expect(opt(c, 'disk', 'resync-after', 1)).toBeUndefined();
    expect(opt(c, 'disk', 'resync-after', 2)?.value).toBe('r1');
    expect(opt(c, 'disk', 'resync-after', 3)?.value).toBe('r2');
  });

  it('outdate-peer is fence-peer; fencing in net (DRBD 9) is kept where 8.4 keeps it', () => {
    const c = parse(res('handlers { outdate-peer "/x"; } net { fencing resource-only; }' + HOSTS));
    expect(opt(c, 'handlers', 'fence-peer')?.value).toBe('/x');
    expect(opt(c, 'disk', 'fencing')?.value).toBe('resource-only');
  });

  it('flexible-meta-disk is meta-disk', () => {
    const c = parse(res('protocol C;' + HOSTS.replace(/meta-disk internal/g, 'flexible-meta-disk /dev/md0')));
    expect(c.resources[0]!.hosts[0]!.volumes.get(0)!.metaDisk).toEqual({ kind: 'external', device: '/dev/md0' });
  });
});

describe('per-host statements', () => {
  const host = (c: DrbdConfig, i = 0) => c.resources[0]!.hosts[i]!;

  it('device forms: /dev/drbdN, drbdN, minor N, NAME minor N', () => {
    const dev = (d: string) => host(parse(res(HOSTS.replace('device /dev/drbd0', `device ${d}`)))).volumes.get(0)!.device;
    expect(dev('/dev/drbd0')).toEqual({ path: '/dev/drbd0', minor: 0 });
    expect(dev('drbd0')).toEqual({ path: '/dev/drbd0', minor: 0 });
    expect(dev('minor 7')).toEqual({ minor: 7 });
    expect(dev('/dev/drbd_web minor 3')).toEqual({ path: '/dev/drbd_web', minor: 3 });
    expect(dev('"/dev/drbd5"')).toEqual({ path: '/dev/drbd5', minor: 5 });
  });

  it('refuses a device not named drbd', () => {
    const e = refused(res(HOSTS.replace('device /dev/drbd0', 'device /dev/nb0')));
    expect([e.code, e.line, e.token]).toEqual(['DRBD_BAD_DEVICE', 3, '/dev/nb0']);
  });

  it('refuses a host without a device', () => {
    const e = refused(res(HOSTS.replace('device /dev/drbd0;', '')));
    expect([e.code, e.line]).toEqual(['DRBD_MISSING', 3]);
    expect(e.message).toContain("on alpha { ... }: 'device' keyword missing");
  });

  it('meta-disk forms', () => {
    const md = (m: string) => host(parse(res(HOSTS.replace('meta-disk internal', `meta-disk ${m}`)))).volumes.get(0)!.metaDisk;
    expect(md('/dev/md[1]')).toEqual({ kind: 'external', device: '/dev/md', index: 1 });
    expect(md('/dev/md [2]')).toEqual({ kind: 'external', device: '/dev/md', index: 2 });
    expect(md('"internal"')).toEqual({ kind: 'internal' });
    expect(refused(res(HOSTS.replace('meta-disk internal', 'meta-disk internal[0]'))).code).toBe('DRBD_BAD_META_DISK');
  });

  it('address forms: family, IPv6 in brackets, blanks before the colon', () => {
    const a = (s: string) => host(parse(res(HOSTS.replace('address 10.0.0.1:7788', `address ${s}`)))).address;
    expect(a('ipv4 10.0.0.1:7788')).toMatchObject({ family: 'ipv4', ip: '10.0.0.1', port: 7788 });
    expect(a('10.0.0.9 :7788')).toMatchObject({ family: 'ipv4', ip: '10.0.0.9', port: 7788 });
    expect(a('ipv6 [fd00::1]:7789')).toMatchObject({ family: 'ipv6', ip: 'fd00::1', port: 7789 });
  });

  it('refuses host names, placeholders, missing ports and bad ports in address', () => {
    const e = (s: string) => refused(res(HOSTS.replace('address 10.0.0.1:7788', `address ${s}`)));
    expect([e('alpha:7788').code, e('alpha:7788').token, e('alpha:7788').line]).toEqual(['DRBD_BAD_ADDRESS', 'alpha', 3]);
    expect(e('10.255.255.x:7788').token).toBe('10.255.255.x');
    expect(e('10.0.0.1').message).toContain('PORT is missing');
    expect(e('10.0.0.1:70000').token).toBe('70000');
    expect(e('ipv6 fd00::1:7788').message).toContain('brackets');
  });

  it('several names on one on section; resource-level volumes pushed into hosts', () => {
    const c = parse(res('device minor 1; disk /dev/sdb; meta-disk internal;\n on a b { address 10.0.0.1:7788; }\n on c { address 10.0.0.3:7788; disk /dev/sdc; }'));
    expect(host(c).names).toEqual(['a', 'b']);
    expect(host(c, 1).volumes.get(0)).toMatchObject({ device: { minor: 1 }, disk: '/dev/sdc', metaDisk: { kind: 'internal' } });
  });

  it('refuses the same IP:port twice and the same minor twice on one host', () => {
    const e1 = refused(res('protocol C;' + HOSTS) + res('protocol C;' + HOSTS.replace(/drbd0/g, 'drbd1')).replace('resource r', 'resource s'));
    expect([e1.code, e1.line, e1.token]).toEqual(['DRBD_CONFLICT', 8, '10.0.0.1:7788']);
    const e2 = refused(res('protocol C;' + HOSTS) + res('protocol C;' + HOSTS.replace(/7788/g, '7789')).replace('resource r', 'resource s'));
    expect([e2.code, e2.line]).toEqual(['DRBD_CONFLICT', 8]);
    expect(e2.message).toContain("device-minor:alpha:0");
  });

  it('8.4 volumes inside on sections and at resource level with per-volume disk options', () => {
    const c = parse(res(`volume 0 { device minor 10; disk /dev/a; meta-disk internal; disk { resync-rate 10M; } }
      on alpha { address 10.0.0.1:7790; volume 1 { device minor 11; disk /dev/b; meta-disk /dev/md [0]; } }
      on bravo { address 10.0.0.2:7790; }`));
    expect([...host(c).volumes.keys()]).toEqual([0, 1]);
    expect(host(c).volumes.get(0)!.diskOptions.get('resync-rate')?.value).toBe(10240);
    expect([...host(c, 1).volumes.keys()]).toEqual([0]);
  });

  it('floating sections, with and without a body', () => {
    const c = parse(res('device minor 12; disk /dev/f; meta-disk internal;\n floating 10.0.0.1:7791;\n floating ipv4 10.0.0.2:7791 { disk /dev/g; }'));
    expect(host(c)).toMatchObject({ kind: 'floating', address: { ip: '10.0.0.1' } });
    expect(host(c, 1).volumes.get(0)!.disk).toBe('/dev/g');
    expect(findLocalHost(c, c.resources[0]!, { hostname: 'x', addresses: ['10.0.0.2'] }).host).toBe(host(c, 1));
  });
});

describe('DRBD 9 constructs', () => {
  it('node-id, connection with hosts and paths, connection-mesh', () => {
    const c = parse(res(`volume 0 { device minor 0; disk /dev/foo; meta-disk internal; }
      on a { node-id 0; address 10.0.0.1:7000; }
      on b { node-id 1; address 10.0.0.2:7000; }
      on c { node-id 2; address 10.0.0.3:7000; disk none; }
      connection { host a address 10.1.0.1:7100; host b address 10.1.0.2:7100; net { protocol A; } volume 0 { disk { resync-rate 10M; } } }
      connection { path { host a address 10.2.0.1:7100; host c address 10.2.0.3:7100; } }
      connection-mesh { hosts a b c; net { protocol C; } }`));
    const r = c.resources[0]!;
    expect(r.hosts.map((h) => h.nodeId)).toEqual([0, 1, 2]);
    expect(r.hosts[2]!.volumes.get(0)!.disk).toBe('none');
    expect(r.connections[0]!.paths[0]).toMatchObject({ implicit: true, hosts: [{ name: 'a' }, { name: 'b' }] });
    expect(r.connections[0]!.net.get('protocol')?.value).toBe('A');
    expect(r.connections[0]!.volumeDisk.get(0)!.get('resync-rate')?.value).toBe(10240);
    expect(r.connections[1]!.paths[0]!.implicit).toBeUndefined();
    expect(r.meshes[0]!.hosts).toEqual(['a', 'b', 'c']);
  });

  it('more than two hosts need node-id (at the third host, as drbdadm 9 says)', () => {
    const e = refused(res(`device minor 0; disk /dev/foo; meta-disk internal;
      on a { address 10.0.0.1:7000; }
      on b { address 10.0.0.2:7000; }
      on c { address 10.0.0.3:7000; }`));
    expect([e.code, e.line, e.token]).toEqual(['DRBD_MISSING', 5, 'node-id']);
  });

  it('stacked-on-top-of: local when the lower resource is', () => {
    const c = parse(res('protocol C;' + HOSTS) + `resource up {
      stacked-on-top-of r { device /dev/drbd10; address 10.0.0.9:7800; }
      on gamma { device /dev/drbd10; disk /dev/drbd0; address 10.0.0.3:7800; meta-disk internal; }
    }\n`);
    const up = c.resources[1]!;
    expect(up.hosts[0]).toMatchObject({ kind: 'stacked-on-top-of', names: ['r'] });
    expect(findLocalHost(c, up, { hostname: 'alpha' })).toMatchObject({ host: up.hosts[0], stacked: true });
    expect(findLocalHost(c, up, { hostname: 'gamma' })).toMatchObject({ host: up.hosts[1], stacked: false });
    expect(findLocalHost(c, up, { hostname: 'zulu' }).host).toBeUndefined();
  });

  it('via proxy is kept; a newer via form is refused', () => {
    const ok = parse(res(`device minor 0; disk /dev/foo; meta-disk internal;
      on a { node-id 0; address 10.0.0.1:7000; } on b { node-id 1; address 10.0.0.2:7000; }
      connection { host a address 10.0.0.1:7000 via proxy on pxy { inside 10.0.0.4:7800; outside 10.0.0.4:7801; } host b; }`));
    expect(ok.resources[0]!.connections[0]!.paths[0]!.hosts[0]!.via?.args).toEqual(['proxy', 'on', 'pxy']);
    const e = refused(res(`device minor 0; disk /dev/foo;
      on a { node-id 0; } on b { node-id 1; }
      connection { host a address 10.0.0.1:7000 via outside-address 1.2.3.4:7000; }`));
    expect([e.line, e.token]).toEqual([4, 'outside-address']);
  });
});

describe('local host selection', () => {
  it('matches uname -n exactly against on sections (no domain stripping)', () => {
    const c = parse(res('protocol C;' + HOSTS));
    const r = c.resources[0]!;
    expect(findLocalHost(c, r, { hostname: 'bravo' }).host).toBe(r.hosts[1]);
    expect(findLocalHost(c, r, { hostname: 'bravo.example.com' }).host).toBeUndefined();
  });
});
