import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collectHaresources, parseHaresources, parseResourceToken, scriptLookup } from '../../lib/config/haresources/parse.js';
import { ConfigError } from '../../lib/shared/errors.js';
import { memoryConfigFs } from '../../lib/shared/fs.js';
import { CORPUS } from '../helpers/env.js';

const NODES = ['node1', 'node2'];
const parse = (text: string, opts = {}) => parseHaresources(text, 'haresources', { nodes: NODES, ...opts });
const groupsOf = (text: string) => parse(text).config.groups.map((g) => [g.node, g.line, g.resources.map((r) => r.token)]);
const warningsOf = (text: string) => parse(text).warnings.map((w) => [w.line, w.code, w.token]);

describe('haresources resource tokens', () => {
  it.each([
    ['httpd', 'httpd', []],
    ['drbddisk::r0', 'drbddisk', ['r0']],
    ['Filesystem::/dev/drbd0::/data::ext4::noatime,nodiratime', 'Filesystem', ['/dev/drbd0', '/data', 'ext4', 'noatime,nodiratime']],
    ['Echo::a:b', 'Echo', ['a:b']],
    ['X::::y', 'X', ['y']],
    ['X::', 'X', []],
    ['IPaddr2::1.2.3.4/24/eth0:0', 'IPaddr2', ['1.2.3.4/24/eth0:0']],
    ['IPv6addr::2001:db8::1/64', 'IPv6addr', ['2001:db8', '1/64']],
    ['drbdadm{c,r0}', 'drbdadm{c,r0}', []],
  ])('%s runs %s with %j', (token, script, args) => {
    expect(parseResourceToken(token)).toEqual({ token, script, args, ipShorthand: false });
  });
  it.each(['10.0.0.3', '10.0.0.3/24', '10.0.0.3/24/eth0', '10.0.0.3/24/eth0/10.0.0.255', '1.2.3.4foo'])('bare %s is IPaddr::%s', (token) => {
    expect(parseResourceToken(token)).toEqual({ token, script: 'IPaddr', args: [token], ipShorthand: true });
  });
  it.each(['fe80::1', '1.2.3', 'a1.2.3.4'])('%s is not an IP shorthand', (token) => {
    expect(parseResourceToken(token).ipShorthand).toBe(false);
  });
});

describe('haresources lines', () => {
  it('reads groups, keys, lowercased node names; blank and comment lines are skipped', () => {
    const { config } = parse('# comment\n\n  \nNODE1 10.0.0.3 httpd # web\nnode2\tdrbddisk::r0  Filesystem::/dev/drbd0::/data::ext4\n');
    expect(config.groups).toEqual([
      { node: 'node1', key: '10.0.0.3', line: 4, resources: [parseResourceToken('10.0.0.3'), parseResourceToken('httpd')] },
      { node: 'node2', key: 'drbddisk::r0', line: 5, resources: [parseResourceToken('drbddisk::r0'), parseResourceToken('Filesystem::/dev/drbd0::/data::ext4')] },
    ]);
  });
  it('joins backslash continuations; a missing final newline is fine', () => {
    expect(groupsOf('node1 \\\n   10.0.0.3 \\\n\thttpd\nnode2 mysql')).toEqual([
      ['node1', 1, ['10.0.0.3', 'httpd']],
      ['node2', 4, ['mysql']],
    ]);
  });
  it('a # on a continuation line is not a comment (as ResourceManager): warned', () => {
    const text = 'node1 10.0.0.3 \\\n  httpd # web\n';
    expect(groupsOf(text)).toEqual([['node1', 1, ['10.0.0.3', 'httpd', '#', 'web']]]);
    expect(warningsOf(text)).toEqual([[2, 'HARES_COMMENT_IN_CONTINUATION', '#']]);
  });
  it('a comment line after a backslash ends the group; the next line is a new group and its first word a node', () => {
    const text = 'node1 10.0.0.3 \\\n# note\n  httpd\n';
    expect(() => parse(text)).toThrow('haresources:3: bad node name [httpd]: not declared by a node line in ha.cf; the comment on line 2 ended the continuation of line 1');
    expect(groupsOf('node1 10.0.0.3 \\\n# note\nnode2 httpd\n')).toEqual([
      ['node1', 1, ['10.0.0.3', '#', 'note']],
      ['node2', 3, ['httpd']],
    ]);
  });
  it('a backslash followed by blanks does not continue: bad node name with the reason, and a warning', () => {
    const r = collectHaresources('node1 \\  \n 10.0.0.3\n', 'haresources', { nodes: NODES });
    expect(r.errors.map((e) => [e.line, e.code, e.token])).toEqual([[2, 'HARES_BAD_NODE', '10.0.0.3']]);
    expect(r.errors[0]!.message).toContain('line 1 ends with a backslash followed by blanks');
    expect(r.warnings.map((w) => [w.line, w.code])).toContainEqual([1, 'HARES_BACKSLASH_BLANKS']);
  });
  it('CRLF: lines are read, the CR dropped with a warning; backslash-CR does not continue', () => {
    expect(groupsOf('node1 10.0.0.3 httpd\r\nnode2 mysql\r\n')).toEqual([['node1', 1, ['10.0.0.3', 'httpd']], ['node2', 2, ['mysql']]]);
    expect(warningsOf('node1 httpd\r\n')).toEqual([[0, 'HARES_CRLF', undefined]]);
    const r = collectHaresources('node1 \\\r\n httpd\r\n', 'haresources', { nodes: NODES });
    expect(r.errors.map((e) => [e.line, e.token])).toEqual([[2, 'httpd']]);
    expect(r.errors[0]!.message).toContain('CRLF');
  });
  it('accepts non-UTF-8 bytes in comments and tabs', () => {
    const bytes = Buffer.concat([Buffer.from('# '), Buffer.from([0xb2, 0xe2, 0xca, 0xd4]), Buffer.from('\n\tnode1\thttpd\n')]);
    expect(parseHaresources(bytes, 'haresources', { nodes: NODES }).config.groups.map((g) => g.key)).toEqual(['httpd']);
  });
  it('an undeclared node is an error naming it, with a suggestion; exit status 6', () => {
    try {
      parse('node1 httpd\nnode3 mysql\n');
      expect.unreachable();
    } catch (e) {
      const ce = e as ConfigError;
      expect(ce.exitCode).toBe(6);
      expect(ce.diagnostics.map((d) => [d.line, d.code, d.token])).toEqual([[2, 'HARES_BAD_NODE', 'node3']]);
      expect(ce.message).toBe('haresources:2: bad node name [node3]: not declared by a node line in ha.cf; did you mean node1?');
    }
  });
  it('node names compare case-insensitively; without a node list none is checked', () => {
    expect(parseHaresources('Node1 httpd\n', 'haresources', { nodes: ['NODE1'] }).config.groups[0]!.node).toBe('node1');
    expect(parseHaresources('anything httpd\n', 'haresources').config.groups).toHaveLength(1);
  });
  it('the C validator reads the first word up to a blank: `node1#x` is refused', () => {
    expect(collectHaresources('node1#x httpd\n', 'haresources', { nodes: NODES }).errors.map((e) => e.token)).toEqual(['node1#x']);
  });
  it('warns about a node line without resources', () => {
    expect(warningsOf('node1\nnode2 httpd\n')).toEqual([[1, 'HARES_EMPTY_GROUP', 'node1']]);
  });
  it('warns about a key used again in another line', () => {
    expect(warningsOf('node1 10.0.0.3 httpd\nnode2 mysql 10.0.0.3\n')).toEqual([[1, 'HARES_DUPLICATE_KEY', '10.0.0.3']]);
  });
  it('warns about split IPv6 arguments, glob characters and path-like script names', () => {
    expect(warningsOf('node1 IPv6addr::2001:db8::1/64 Foo::a*b /etc/init.d/httpd\n')).toEqual([
      [1, 'HARES_IPV6_SPLIT', 'IPv6addr::2001:db8::1/64'],
      [1, 'HARES_GLOB_IN_ARG', 'Foo::a*b'],
      [1, 'HARES_BAD_SCRIPT', '/etc/init.d/httpd'],
    ]);
  });
  it('looks scripts up in resource.d, then init.d: regular executable files only', () => {
    const fs = memoryConfigFs(
      { '/etc/ha.d/resource.d/IPaddr': '', '/etc/init.d/httpd': '', '/etc/init.d/mysql': '' },
      { '/etc/ha.d/resource.d/IPaddr': 0o755, '/etc/init.d/httpd': 0o755, '/etc/init.d/mysql': 0o644 },
    );
    const exists = scriptLookup(fs, '/etc/ha.d/');
    expect(['IPaddr', 'httpd', 'mysql', 'nfs'].map(exists)).toEqual([true, true, false, false]);
    const r = parse('node1 10.0.0.3 httpd mysql nfs\n', { scriptExists: exists });
    expect(r.warnings.map((w) => [w.line, w.code, w.token])).toEqual([
      [1, 'HARES_SCRIPT_NOT_FOUND', 'mysql'],
      [1, 'HARES_SCRIPT_NOT_FOUND', 'nfs'],
    ]);
    expect(r.warnings[0]!.message).toBe('cannot locate resource script mysql in resource.d or /etc/init.d');
  });
});

/**
 * What the original does with each corpus file, given an ha.cf that declares the
 * file's node names (the corpus ha.cf files belong to other sites). Checked with
 * Debian's heartbeat 3.0.6 (C validator) for the verdict; groups per resources-spec §1.2-1.4.
 */
const HARES_VERDICTS: Record<string, { groups: number } | { reject: [number, string] }> = {
  '7layer-org.haresources': { groups: 1 },
  'UNATTRIBUTED-backslash-continuation-lvssync.haresources': { groups: 1 },
  // `drbddisk \    `: blanks after the backslash end the group; line 3 then starts a group whose "node" is a resource.
  'UNATTRIBUTED-backslash-continuation-trailing-ws.haresources': { reject: [3, 'Filesystem::/dev/drbd0::/data::ext3'] },
  'UPSTREAM-heartbeat-doc-sample.haresources': { groups: 0 },
  'bluevitality-trailing-slash-cjk-comments.haresources': { groups: 2 },
  'bwahn-heartbeat-vagrant.haresources': { groups: 1 },
  'chenzhiwei-ipaddr2-iproute.haresources': { groups: 1 },
  'chinatree-bare-ip-noeol.haresources': { groups: 1 },
  'cwarden-EXTRACTED-tab-lvssyncdaemonswap.haresources': { groups: 1 },
  'easytzb-ops-notes.haresources': { groups: 1 },
  'emkac-EXTRACTED-zimbra-multispace.haresources': { groups: 1 },
  'epnmiguel-distribuidas.haresources': { groups: 1 },
  'gslin-coscup2015-mailto-fsopts.haresources': { groups: 1 },
  'ivpusic-bare-ip.haresources': { groups: 1 },
  'ljproyectoasir-double-slash.haresources': { groups: 1 },
  'lucashlx-drbd-heartbeat.haresources': { groups: 1 },
  'robertzhangwenjie-active-active.haresources': { groups: 2 },
  'ryanaudiencepi-heartbeat-template.haresources': { groups: 1 },
  'shotai-dotted-netmask.haresources': { groups: 1 },
  'slient2010-upstream-template-comments.haresources': { groups: 1 },
  'slpcat-freebsd-two-lines-same-node.haresources': { groups: 2 },
  'toreatessier-two-ipaddr.haresources': { groups: 1 },
};

/** The node names a file's groups start with: first words of lines that start a group. */
function declaredNodes(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/#.*/, '')).filter((l) => /^\S/.test(l)).map((l) => l.split(/\s+/)[0]!);
}

describe('haresources corpus', () => {
  const dir = path.join(CORPUS, 'haresources');
  it('has a verdict for every corpus file', () => {
    expect(readdirSync(dir).sort()).toEqual(Object.keys(HARES_VERDICTS).sort());
  });
  it.each(Object.entries(HARES_VERDICTS))('%s: %j', (name, verdict) => {
    const bytes = readFileSync(path.join(dir, name));
    const r = collectHaresources(bytes, name, { nodes: declaredNodes(bytes.toString('utf8')) });
    if ('groups' in verdict) {
      expect(r.errors).toEqual([]);
      expect(r.config!.groups).toHaveLength(verdict.groups);
    } else {
      expect(r.errors.map((e) => [e.line, e.token])).toEqual([verdict.reject]);
    }
  });
  it('reads the details of a few files right', () => {
    const read = (n: string) => readFileSync(path.join(dir, n));
    const lvs = parseHaresources(read('UNATTRIBUTED-backslash-continuation-lvssync.haresources'), 'x').config.groups[0]!;
    expect(lvs.resources.map((r) => [r.script, r.args])).toEqual([
      ['ldirectord', ['ldirectord.cf']], ['LVSSyncDaemonSwap', ['master']], ['IPaddr2', ['192.168.9.130/8/eth0/192.168.9.255']],
    ]);
    const gs = parseHaresources(read('gslin-coscup2015-mailto-fsopts.haresources'), 'x').config.groups[0]!;
    expect(gs.resources.at(-1)).toEqual({ token: '192.168.50.103', script: 'IPaddr', args: ['192.168.50.103'], ipShorthand: true });
    expect(gs.resources[0]!.args).toEqual(['me+drbdfailover@gmail.com', 'HeartbeatFailover_db-drbd-float']);
    const easy = parseHaresources(read('easytzb-ops-notes.haresources'), 'x').config.groups[0]!;
    expect(easy.node).toBe('web_mysql_m1');
    expect(easy.key).toBe('IPaddr::117.79.238.60/32/em1');
  });
});

describe('haresources properties', () => {
  it('random bytes give a result or a ConfigError, never another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, check) => {
        try {
          parseHaresources(bytes, 'haresources', check ? { nodes: NODES, scriptExists: () => false } : {});
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
        }
      }),
      { numRuns: 300 },
    );
  });
  it('random lines from a small alphabet: result or ConfigError; every resource comes from a token of the file', () => {
    const piece = fc.constantFrom('node1', 'node2', 'NODE1', 'x', '10.0.0.1', 'A::b', '::', '#', '\\', ' ', '\t', '\r', '\n', '  ');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const text = pieces.join('');
        const joined = text.replace(/\\\n/g, '').replace(/\r/g, '');
        try {
          const { config } = parseHaresources(text, 'haresources', { nodes: NODES });
          for (const g of config.groups) {
            expect(NODES).toContain(g.node);
            for (const r of g.resources) expect(joined).toContain(r.token);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
