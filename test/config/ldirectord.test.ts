import { describe, expect, it } from 'vitest';
import {
  LdirCode, findConfigFile, parseEtcServices, lookupService, portToService, serviceToPort, staticResolver, parseLdirectordConfig,
} from '../../lib/config/ldirectord/index.js';
import { canonicalIpv6, isIpv6, ipv4ToInt, intToIpv4 } from '../../lib/config/ldirectord/resolve.js';
import { layoutLines, stripComment } from '../../lib/config/ldirectord/lines.js';
import { parse, parseError, vblock } from './ldirectord-helpers.js';

const v0 = (text: string) => parse(text).config.virtuals[0]!;
const g = (text: string) => parse(text).config.globals;
const codes = (text: string) => parseError(text).diagnostics.map((d) => d.code);

describe('layout: lines, indentation, comments', () => {
  it('TAB and 4+ spaces make a virtual-block line; 1–3 spaces are an error', () => {
    expect(layoutLines('virtual=1.2.3.4:80\n\treal=a gate\n    real=b gate\n  \treal=c gate\n').map((l) => l.kind)).toEqual(['global', 'member', 'member', 'member']);
    const e = parseError('virtual=192.0.2.1:80\n   real=192.0.2.2:80 gate\n');
    expect(e.code).toBe(LdirCode.BAD_INDENT);
    expect(e.line).toBe(2);
  });
  it('a blank or comment line does not end a virtual block (ldirectord trap)', () => {
    const v = v0('virtual=192.0.2.1:80\n\treal=192.0.2.2:80 gate\n\n   \n# note\n\t# indented note\n\tscheduler=rr\n');
    expect(v.scheduler).toBe('rr');
  });
  it('a column-0 line ends the block; later indented lines are stray', () => {
    const e = parseError('virtual=192.0.2.1:80\n\treal=192.0.2.2:80 gate\nquiescent=no\n\tscheduler=rr\n');
    expect(e.code).toBe(LdirCode.OUTSIDE_VIRTUAL);
    expect(e.line).toBe(4);
  });
  it('strips comments after values, but not inside double quotes', () => {
    expect(stripComment('passwd="a#b" # c', false)).toBe('passwd="a#b" ');
    expect(stripComment('request=x#y', false)).toBe('request=x');
    // On global lines a # glued to a value is kept, as ldirectord kept it.
    expect(stripComment('fallbackcommand=/x#y', true)).toBe('fallbackcommand=/x#y');
    expect(stripComment('quiescent=yes # q', true)).toBe('quiescent=yes ');
    const v = v0(vblock('passwd="a#b" # secret', 'login="u"  # who'));
    expect(v.passwd).toBe('a#b');
    expect(v.login).toBe('u');
    expect(g('quiescent=yes # q\n').quiescent).toBe(true);
  });
  it('CRLF, trailing blanks and a missing final newline are fine', () => {
    expect(g('quiescent=yes \r\nautoreload=yes\t\r\nfork=yes').quiescent).toBe(true);
    expect(g('quiescent=yes \r\nautoreload=yes\t\r\nfork=yes')).toMatchObject({ autoreload: true, fork: true });
  });
  it('spaces around = are allowed', () => {
    expect(v0('virtual = 192.0.2.1:80\n\treal = 192.0.2.2:80 gate\n\tscheduler = lc\n').scheduler).toBe('lc');
  });
  it('empty file and comment-only file are valid and empty', () => {
    expect(parse('').config.virtuals).toEqual([]);
    expect(parse('# only\n\n').config.virtuals).toEqual([]);
  });
  it('non-UTF-8 bytes in comments are harmless', () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('# caf'), 0xe9, 0x0a, ...new TextEncoder().encode('checkinterval=3\n')]);
    expect(g(bytes as unknown as string).checkIntervalMs).toBe(3000);
  });
});

describe('global directives', () => {
  it('defaults follow set_defaults (quiescent no, as the code says)', () => {
    expect(g('')).toEqual({
      checkIntervalMs: 10_000, checkCount: 1, failureCount: 1, autoreload: false, logfile: '/var/log/ldirectord.log',
      emailAlert: '', emailAlertFreqMs: 0, emailAlertStatus: ['starting', 'running', 'stopping', 'reloading'], execute: [],
      supervised: false, fork: false, quiescent: false, readdQuiescent: false, cleanStop: true, backend: 'auto',
    });
  });
  it('numbers: timeouts, interval, counts', () => {
    expect(g('checktimeout=3\nnegotiatetimeout=7\ncheckinterval=2\nfailurecount=4\nemailalertfreq=60\n')).toMatchObject({
      checkTimeoutMs: 3000, negotiateTimeoutMs: 7000, checkIntervalMs: 2000, failureCount: 4, emailAlertFreqMs: 60_000,
    });
  });
  it('a number with text around it is taken, with a warning', () => {
    const r = parse('checkinterval=5s\n');
    expect(r.config.globals.checkIntervalMs).toBe(5000);
    expect(r.warnings.map((w) => w.code)).toEqual([LdirCode.IGNORED_TEXT]);
  });
  it.each(['checktimeout=0', 'negotiatetimeout=x', 'checkinterval=', 'failurecount=0', 'checkcount=none'])('rejects %s', (line) => {
    const e = parseError(line + '\n');
    expect(e.code).toBe(LdirCode.BAD_NUMBER);
    expect(e.line).toBe(1);
  });
  it.each(['autoreload', 'fork', 'quiescent', 'readdquiescent', 'cleanstop', 'supervised'])('%s takes yes or no, case-sensitive', (key) => {
    expect(() => parse(`${key}=yes\n${key}=no\n`)).not.toThrow();
    const e = parseError(`${key}=Yes\n`);
    expect(e.code).toBe(LdirCode.BAD_YESNO);
    expect(e.token).toBe('Yes');
    expect(e.message).toBe(`test.cf:1: ${key} must be 'yes' or 'no', not "Yes"`);
  });
  it('bare supervised means yes, with a warning', () => {
    const r = parse('supervised\n');
    expect(r.config.globals.supervised).toBe(true);
    expect(r.warnings[0]).toMatchObject({ code: LdirCode.BARE_SUPERVISED, line: 1 });
  });
  it('checkcount is deprecated but honoured', () => {
    const r = parse('checkcount=3\n');
    expect(r.config.globals.checkCount).toBe(3);
    expect(r.warnings[0]!.code).toBe(LdirCode.CHECKCOUNT_DEPRECATED);
  });
  it('connecttimeout and timeout are errors', () => {
    expect(codes('connecttimeout=5\ntimeout=5\n')).toEqual([LdirCode.DEPRECATED_DIRECTIVE, LdirCode.DEPRECATED_DIRECTIVE]);
  });
  it('logfile and callback need double quotes', () => {
    expect(g('logfile="local0"\ncallback="/bin/cb"\n')).toMatchObject({ logfile: 'local0', callback: '/bin/cb' });
    expect(parseError('logfile=/var/log/x\n').code).toBe(LdirCode.QUOTES_REQUIRED);
  });
  it('fallbackcommand quoted or bare; execute collects names; emailalert strips quotes', () => {
    expect(g('fallbackcommand="/bin/fb"\nexecute=a.cf\nexecute=b.cf\nemailalert="ops@example.org"\nemailalertfrom=ld@example.org\nsmtp=mail.example.org\n')).toMatchObject({
      fallbackCommand: '/bin/fb', execute: ['a.cf', 'b.cf'], emailAlert: 'ops@example.org', emailAlertFrom: 'ld@example.org', smtp: 'mail.example.org',
    });
    expect(g('fallbackcommand=/bin/fb\n').fallbackCommand).toBe('/bin/fb');
  });
  it('emailalertstatus: all, none, or a list; none mixes with nothing', () => {
    expect(g('emailalertstatus=none\n').emailAlertStatus).toEqual([]);
    expect(g('emailalertstatus=starting, stopping\n').emailAlertStatus).toEqual(['starting', 'stopping']);
    expect(parseError('emailalertstatus=none,all\n').code).toBe(LdirCode.BAD_EMAILALERTSTATUS);
    expect(parseError('emailalertstatus=sometimes\n').token).toBe('sometimes');
  });
  it('global fallback: port optional, forward method defaults to gate', () => {
    expect(g('fallback=127.0.0.1:80 masq\n').fallback).toEqual({ address: '127.0.0.1', port: { tcp: 80, udp: 80 }, forward: 'masq' });
    expect(g('fallback=localhost\n').fallback).toEqual({ address: '127.0.0.1', forward: 'gate' });
    expect(g('fallback=127.0.0.1:http\n').fallback!.port).toEqual({ tcp: 80, udp: 80 });
    expect(g('fallback6=[::1]:80\n').fallback6).toEqual({ address: '::1', port: { tcp: 80, udp: 80 }, forward: 'gate' });
    expect(parseError('fallback=127.0.0.1:80 bridge\n').token).toBe('bridge');
    expect(parseError('fallback=nowhere.invalid:80\n').code).toBe(LdirCode.UNRESOLVED_HOST);
    expect(parseError('fallback=127.0.0.1:nosuchservice\n').code).toBe(LdirCode.BAD_PORT);
    expect(parseError('fallback=a b c\n').code).toBe(LdirCode.BAD_FALLBACK);
  });
  it('an empty fallback host is loopback, as getaddrinfo makes it in ldirectord (warning)', () => {
    const r = parse('fallback=\nvirtual=192.0.2.1:80\nvirtual6=[::1]:80\n\tfallback6=:81 masq\n');
    expect(r.config.virtuals.map((v) => v.fallback)).toEqual([
      { address: '127.0.0.1', port: 80, forward: 'gate', weight: 1 },
      { address: '::1', port: 81, forward: 'masq', weight: 1 },
    ]);
    expect(r.warnings.map((w) => [w.line, w.code])).toEqual([[1, LdirCode.FALLBACK_EMPTY_HOST], [4, LdirCode.FALLBACK_EMPTY_HOST]]);
  });
  it('an empty execute= is skipped with a warning', () => {
    const r = parse('execute=\n');
    expect(r.config.globals.execute).toEqual([]);
    expect(r.warnings[0]!.code).toBe(LdirCode.EMPTY_EXECUTE);
  });
  it('maintenancedir: a warning when the directory is missing', () => {
    const r = parse('maintenancedir=/srv/maint\n', 't.cf', { isDirectory: (p) => p === '/srv/other' });
    expect(r.config.globals.maintenanceDir).toBe('/srv/maint');
    expect(r.warnings[0]).toMatchObject({ code: LdirCode.MAINTENANCEDIR_MISSING, line: 1 });
    expect(parse('maintenancedir=/srv/maint\n', 't.cf', { isDirectory: () => true }).warnings).toEqual([]);
  });
  it('unknown directives are errors with a suggestion', () => {
    const e = parseError('quiesent=yes\n');
    expect(e.code).toBe(LdirCode.UNKNOWN_DIRECTIVE);
    expect(e.token).toBe('quiesent');
    expect(e.message).toContain('did you mean "quiescent"');
    expect(parseError('Quiescent=yes\n').code).toBe(LdirCode.UNKNOWN_DIRECTIVE);
    expect(parseError('[vip]\n').token).toBe('[vip]');
  });
  it('per-virtual directives at the top level say where they belong', () => {
    const e = parseError('scheduler=rr\n');
    expect(e.code).toBe(LdirCode.OUTSIDE_VIRTUAL);
    expect(e.token).toBe('scheduler');
  });
  it('reports every bad line, sorted, with FILE:LINE:', () => {
    const e = parseError('fork=maybe\nvirtual=192.0.2.1:80\n\treal=192.0.2.2:80 bridge\nbogus=1\n', 'x.cf');
    expect(e.message.split('\n').map((l) => l.split(': ')[0])).toEqual(['x.cf:1', 'x.cf:3', 'x.cf:4']);
    expect(e.exitCode).toBe(2);
  });
});

describe('virtual= forms', () => {
  it('IPv4:port', () => {
    expect(v0(vblock())).toMatchObject({ id: 'tcp:192.0.2.1:80', family: 'ipv4', protocol: 'tcp', address: '192.0.2.1', port: 80, service: 'http' });
  });
  it('host:service names, resolved with the injected resolver', () => {
    expect(v0('virtual=localhost:http\n\treal=127.0.0.2:80 gate\n')).toMatchObject({ id: 'tcp:127.0.0.1:80', address: '127.0.0.1', port: 80 });
    expect(v0('virtual=192.0.2.1:https\n\treal=192.0.2.2 gate\n')).toMatchObject({ port: 443, service: 'https' });
    expect(parseError('virtual=nowhere.invalid:80\n\treal=192.0.2.2:80 gate\n').code).toBe(LdirCode.UNRESOLVED_HOST);
    expect(parseError('virtual=192.0.2.1:nosuchservice\n').code).toBe(LdirCode.BAD_PORT);
    expect(parseError('virtual=192.0.2.1:70000\n').code).toBe(LdirCode.BAD_PORT);
    expect(parseError('virtual=192.0.2.300:80\n').code).toBe(LdirCode.UNRESOLVED_HOST);
  });
  it('port 53 or domain defaults to udp and dns', () => {
    expect(v0('virtual=192.0.2.1:53\n')).toMatchObject({ protocol: 'udp', service: 'dns', id: 'udp:192.0.2.1:53' });
    expect(v0('virtual=192.0.2.1:domain\n')).toMatchObject({ protocol: 'udp', port: 53 });
    expect(v0('virtual=192.0.2.1:53\n\tprotocol=tcp\n')).toMatchObject({ protocol: 'tcp' });
  });
  it('firewall marks', () => {
    expect(v0('virtual=7\n\treal=192.0.2.2 gate\n')).toMatchObject({ id: 'fwm:7', protocol: 'fwm', fwmark: 7, port: 0, service: 'none' });
    expect(v0('virtual6=7\n\treal6=[2001:db8::2] gate\n')).toMatchObject({ id: 'fwm6:7', family: 'ipv6' });
    expect(v0('virtual=7\n\tprotocol=fwm\n').protocol).toBe('fwm');
    expect(parseError('virtual=7\n\tprotocol=udp\n').code).toBe(LdirCode.BAD_PROTOCOL);
    expect(parseError('virtual=0\n').code).toBe(LdirCode.BAD_FWMARK);
    expect(parseError('virtual=4294967296\n').code).toBe(LdirCode.BAD_FWMARK);
  });
  it('virtual=IP without a port is a fwmark, as in ldirectord, with a warning', () => {
    const r = parse('virtual=10.0.0.1\n');
    expect(r.config.virtuals[0]).toMatchObject({ id: 'fwm:10', fwmark: 10 });
    expect(r.warnings[0]).toMatchObject({ code: LdirCode.VIRTUAL_WITHOUT_PORT, line: 1 });
  });
  it('virtual6 with [IPv6]:port; IPv6 in virtual= is refused', () => {
    expect(v0('virtual6=[2001:DB8::1]:80\n\treal6=[2001:db8::2]:80 masq 3\n')).toMatchObject({
      id: 'tcp:[2001:db8::1]:80', family: 'ipv6', address: '2001:db8::1', reals: [expect.objectContaining({ address: '2001:db8::2', port: 80, forward: 'masq', weight: 3 })],
    });
    expect(v0('virtual6=v6only.example:80\n').address).toBe('2001:db8::10');
    expect(parseError('virtual=[2001:db8::1]:80\n').code).toBe(LdirCode.WRONG_FAMILY);
    expect(parseError('virtual6=[2001:db8::zz]:80\n').code).toBe(LdirCode.BAD_VIRTUAL);
    expect(parseError('virtual6=127.0.0.1:80\n').code).toBe(LdirCode.UNRESOLVED_HOST);
    expect(parseError('virtual6=[2001:db8::1]:80\nvirtual6=[2001:DB8:0::1]:80\n').code).toBe(LdirCode.DUPLICATE_VIRTUAL);
  });
  it('garbage after the address is ignored with a warning', () => {
    const r = parse('virtual=192.0.2.1:80 extra\n');
    expect(r.config.virtuals[0]!.port).toBe(80);
    expect(r.warnings[0]!.code).toBe(LdirCode.IGNORED_TEXT);
  });
  it('invalid virtual', () => {
    expect(parseError('virtual=\n').code).toBe(LdirCode.BAD_VIRTUAL);
    expect(parseError('virtual=@@\n').token).toBe('@@');
  });
  it('duplicates: same protocol and address; tcp and udp twins are fine', () => {
    const e = parseError('virtual=192.0.2.1:80\nvirtual=192.0.2.1:http\n');
    expect(e).toMatchObject({ code: LdirCode.DUPLICATE_VIRTUAL, line: 2 });
    expect(e.message).toContain('first defined at line 1');
    expect(parse('virtual=192.0.2.1:53\n\tprotocol=tcp\nvirtual=192.0.2.1:53\n').config.virtuals.map((v) => v.id)).toEqual(['tcp:192.0.2.1:53', 'udp:192.0.2.1:53']);
  });
});

describe('real=', () => {
  const reals = (...lines: string[]) => v0(['virtual=192.0.2.1:80', ...lines.map((l) => `\t${l}`)].join('\n')).reals;
  it('address, port, method, weight', () => {
    expect(reals('real=192.0.2.2:8080 masq 7')[0]).toEqual({
      line: 2, address: '192.0.2.2', port: 8080, forward: 'masq', weight: 7, request: '/', receive: '', lowerThreshold: 0, upperThreshold: 0,
    });
    expect(reals('real=192.0.2.2 ipip')[0]).toMatchObject({ port: 0, weight: 1, forward: 'ipip' });
    expect(reals('real=web1.example:www gate')[0]).toMatchObject({ address: '192.0.2.11', port: 80 });
  });
  it('ranges expand inclusively, host names too', () => {
    expect(reals('real=192.0.2.254->192.0.3.1:80 gate 2').map((r) => r.address)).toEqual(['192.0.2.254', '192.0.2.255', '192.0.3.0', '192.0.3.1']);
    expect(reals('real=web1.example->web2.example:80 gate')).toHaveLength(9);
    expect(reals('real=192.0.2.5->192.0.2.5:80 gate')).toHaveLength(1);
    expect(parseError(vblock().replace('real=192.0.2.2:80 gate', 'real=192.0.2.9->192.0.2.2:80 gate')).code).toBe(LdirCode.BAD_RANGE);
    expect(parseError('virtual=192.0.2.1:80\n\treal=10.0.0.0->10.255.255.255:80 gate\n').code).toBe(LdirCode.BAD_RANGE);
    expect(parseError('virtual6=[::1]:80\n\treal6=[2001:db8::1]->[2001:db8::3]:80 gate\n').code).toBe(LdirCode.BAD_RANGE);
  });
  it('per-real request and receive override the virtual', () => {
    const rs = reals('real=192.0.2.2:80 gate 5 "x.html", "OK"', 'real=192.0.2.3:80 gate 5 "/y" "Y"', 'real=192.0.2.4:80 gate', 'request="health"', 'receive="up"');
    expect(rs.map((r) => [r.request, r.receive])).toEqual([['/x.html', 'OK'], ['/y', 'Y'], ['/health', 'up']]);
  });
  it('thresholds l: and u:, in either order', () => {
    expect(reals('real=192.0.2.2:80 gate 6 l:10 u:100')[0]).toMatchObject({ lowerThreshold: 10, upperThreshold: 100 });
    expect(reals('real=192.0.2.2:80 gate u:100 l:10')[0]).toMatchObject({ lowerThreshold: 10, upperThreshold: 100, weight: 1 });
  });
  it('errors name the token', () => {
    const bad = (r: string) => parseError(`virtual=192.0.2.1:80\n\t${r}\n`);
    expect(bad('real=192.0.2.2:80 bridge')).toMatchObject({ code: LdirCode.BAD_FORWARD, token: 'bridge', line: 2 });
    expect(bad('real=192.0.2.2:80')).toMatchObject({ code: LdirCode.BAD_FORWARD });
    expect(bad('real=192.0.2.2:80 gate 5 junk')).toMatchObject({ code: LdirCode.BAD_REAL, token: 'junk' });
    expect(bad('real=192.0.2.2:80 gate junk 5')).toMatchObject({ code: LdirCode.BAD_REAL, token: 'junk 5' });
    expect(bad('real=@:80 gate')).toMatchObject({ code: LdirCode.BAD_REAL });
    expect(bad('real=no-such-host.invalid:80 gate')).toMatchObject({ code: LdirCode.UNRESOLVED_HOST, token: 'no-such-host.invalid' });
    expect(bad('real=192.0.2.2:nosuch gate')).toMatchObject({ code: LdirCode.BAD_PORT, token: 'nosuch' });
    expect(bad('real6=[::1]:80 gate')).toMatchObject({ code: LdirCode.WRONG_FAMILY });
    expect(bad('real=[::1]:80 gate')).toMatchObject({ code: LdirCode.UNRESOLVED_HOST });
    expect(bad('fallback6=[::1]:80')).toMatchObject({ code: LdirCode.WRONG_FAMILY });
  });
});

describe('per-virtual directives and inheritance', () => {
  it('defaults of a virtual', () => {
    expect(v0(vblock())).toMatchObject({
      checkType: 'negotiate', checkCommand: '/bin/true', request: '/', receive: '', httpMethod: 'GET', scheduler: 'wrr',
      login: '', passwd: '', database: '', secret: '', ops: false, checkTimeoutMs: 5000, negotiateTimeoutMs: 30_000,
      checkIntervalMs: 10_000, failureCount: 1, checkCount: 1, quiescent: false, cleanStop: true, emailAlert: '',
    });
  });
  it('timeouts default to each other before the globals (spec §2.3)', () => {
    expect(v0('checktimeout=20\n' + vblock())).toMatchObject({ checkTimeoutMs: 20_000, negotiateTimeoutMs: 20_000 });
    expect(v0('negotiatetimeout=9\n' + vblock())).toMatchObject({ checkTimeoutMs: 9000, negotiateTimeoutMs: 9000 });
    expect(v0('checktimeout=20\n' + vblock('negotiatetimeout=3'))).toMatchObject({ checkTimeoutMs: 3000, negotiateTimeoutMs: 3000 });
    expect(v0('checktimeout=20\nnegotiatetimeout=40\n' + vblock('checktimeout=2'))).toMatchObject({ checkTimeoutMs: 2000, negotiateTimeoutMs: 2000 });
    expect(v0('checktimeout=20\nnegotiatetimeout=40\n' + vblock())).toMatchObject({ checkTimeoutMs: 20_000, negotiateTimeoutMs: 40_000 });
  });
  it('globals apply wherever they appear in the file', () => {
    expect(v0(vblock() + 'quiescent=yes\ncleanstop=no\nfailurecount=3\nemailalert=a@b\nsmtp=mx\nfallbackcommand=/fb\n')).toMatchObject({
      quiescent: true, cleanStop: false, failureCount: 3, emailAlert: 'a@b', smtp: 'mx', fallbackCommand: '/fb',
    });
    expect(v0('quiescent=yes\n' + vblock('quiescent=no', 'cleanstop=no', 'failurecount=2', 'checkcount=4', 'emailalertfreq=5', 'emailalertstatus=running'))).toMatchObject({
      quiescent: false, cleanStop: false, failureCount: 2, checkCount: 4, emailAlertFreqMs: 5000, emailAlertStatus: ['running'],
    });
  });
  it('checkinterval in a virtual: honoured with fork=yes, otherwise ignored with a warning', () => {
    const r = parse(vblock('checkinterval=3'));
    expect(r.config.virtuals[0]!.checkIntervalMs).toBe(10_000);
    expect(r.warnings[0]).toMatchObject({ code: LdirCode.CHECKINTERVAL_IGNORED, line: 3 });
    const f = parse(vblock('checkinterval=3') + 'fork=yes\n');
    expect(f.config.virtuals[0]!.checkIntervalMs).toBe(3000);
    expect(f.warnings).toEqual([]);
  });
  it('checktype', () => {
    for (const t of ['connect', 'negotiate', 'ping', 'off', 'on', 'external', 'external-perl']) expect(v0(vblock(`checktype=${t}`)).checkType).toBe(t);
    expect(v0(vblock('checktype=0'))).toMatchObject({ checkType: 'combined', combinedConnects: 0 });
    expect(parseError(vblock('checktype=bogus'))).toMatchObject({ code: LdirCode.BAD_CHECKTYPE, token: 'bogus', line: 3 });
    expect(parseError(vblock('checktype=99999999999999999999')).code).toBe(LdirCode.BAD_CHECKTYPE);
    const r = parse(vblock('checktype=negotiate3'));
    expect(r.config.virtuals[0]).toMatchObject({ checkType: 'combined', combinedConnects: 3 });
    expect(r.warnings[0]!.code).toBe(LdirCode.IGNORED_TEXT);
  });
  it('service: fixed list, by port otherwise; ftp and sip defaults', () => {
    expect(v0(vblock('service=simpletcp')).service).toBe('simpletcp');
    expect(parseError(vblock('service=telnet'))).toMatchObject({ code: LdirCode.BAD_SERVICE, token: 'telnet' });
    expect(v0(vblock('service=ftp'))).toMatchObject({ login: 'anonymous', passwd: 'ldirectord@director' });
    expect(v0(vblock('login="me"', 'service=ftp'))).toMatchObject({ login: 'me', passwd: 'ldirectord@director' });
    expect(v0(vblock('service=sip')).login).toBe('ldirectord@director');
    expect(v0('virtual=192.0.2.1:21\n').login).toBe('');
    expect(v0('virtual=192.0.2.1:3306\n').service).toBe('mysql');
    expect(v0('virtual=192.0.2.1:8080\n').service).toBe('none');
  });
  it('quoted strings: request, receive, login, passwd, database, secret, load', () => {
    expect(v0(vblock('request="status"', 'receive="^OK$"', 'login="u"', 'passwd="p"', 'database="db"', 'secret="s"', 'load="cpu"'))).toMatchObject({
      request: '/status', receive: '^OK$', login: 'u', passwd: 'p', database: 'db', secret: 's', load: 'cpu',
    });
    expect(parseError(vblock('request=""'))).toMatchObject({ code: LdirCode.EMPTY_VALUE });
    expect(parseError(vblock('receive=""'))).toMatchObject({ code: LdirCode.EMPTY_VALUE });
    expect(parseError(vblock('request=x.html'))).toMatchObject({ code: LdirCode.QUOTES_REQUIRED, line: 3 });
    expect(parseError(vblock('login=me'))).toMatchObject({ code: LdirCode.QUOTES_REQUIRED });
  });
  it('checkcommand, fallbackcommand, monitorfile, virtualhost: quoted or bare', () => {
    expect(v0(vblock('checkcommand="/opt/check.sh"', 'fallbackcommand=/opt/fb', 'monitorfile="/var/log/m"', 'virtualhost="www.example.org"'))).toMatchObject({
      checkCommand: '/opt/check.sh', fallbackCommand: '/opt/fb', monitorFile: '/var/log/m', virtualHost: 'www.example.org',
    });
    expect(v0(vblock('virtualhost=www.example.org')).virtualHost).toBe('www.example.org');
    expect(parseError(vblock('checkcommand=""')).code).toBe(LdirCode.EMPTY_VALUE);
  });
  it('checkport', () => {
    expect(v0(vblock('checkport=8080')).checkPort).toBe(8080);
    expect(parseError(vblock('checkport=0'))).toMatchObject({ code: LdirCode.BAD_PORT });
    expect(parseError(vblock('checkport=65536'))).toMatchObject({ code: LdirCode.BAD_PORT });
    expect(parseError(vblock('checkport=x'))).toMatchObject({ code: LdirCode.BAD_NUMBER });
  });
  it('scheduler: lowercase letters; the first run of them is taken', () => {
    expect(v0(vblock('scheduler=sed')).scheduler).toBe('sed');
    const r = parse(vblock('scheduler=Wrr'));
    expect(r.config.virtuals[0]!.scheduler).toBe('rr');
    expect(r.warnings[0]!.code).toBe(LdirCode.IGNORED_TEXT);
    expect(parseError(vblock('scheduler=WRR'))).toMatchObject({ code: LdirCode.BAD_SCHEDULER, token: 'WRR' });
  });
  it('persistent, netmask, schedflags', () => {
    expect(v0(vblock('persistent=600', 'netmask=255.255.255.0', 'schedflags=sh-port'))).toMatchObject({ persistentSec: 600, netmask: '255.255.255.0', schedFlags: 'sh-port' });
    expect(parseError(vblock('netmask=24'))).toMatchObject({ code: LdirCode.BAD_NETMASK, token: '24' });
    expect(v0('virtual6=[::1]:80\n\tnetmask=64\n').netmask).toBe('64');
    expect(parseError('virtual6=[::1]:80\n\tnetmask=129\n').code).toBe(LdirCode.BAD_NETMASK);
    expect(parseError(vblock('persistent=forever')).code).toBe(LdirCode.BAD_NUMBER);
  });
  it('protocol and ops', () => {
    expect(v0(vblock('protocol=udp', 'ops=yes'))).toMatchObject({ protocol: 'udp', ops: true, id: 'udp:192.0.2.1:80' });
    expect(parseError(vblock('protocol=sctp'))).toMatchObject({ code: LdirCode.BAD_PROTOCOL, token: 'sctp' });
    expect(parseError(vblock('ops=maybe')).code).toBe(LdirCode.BAD_YESNO);
    expect(parse(vblock('ops=yes')).warnings[0]!.code).toBe(LdirCode.OPS_NOT_UDP);
  });
  it('httpmethod GET or HEAD, any case', () => {
    expect(v0(vblock('httpmethod=head')).httpMethod).toBe('HEAD');
    expect(parseError(vblock('httpmethod=POST'))).toMatchObject({ code: LdirCode.BAD_HTTPMETHOD, token: 'POST' });
  });
  it('servicename and comment are free text', () => {
    expect(v0(vblock('servicename=Web Site', 'comment=the web'))).toMatchObject({ serviceName: 'Web Site', comment: 'the web' });
  });
  it('connecttimeout in a virtual is an error; unknown directives suggest', () => {
    expect(parseError(vblock('connecttimeout=3')).code).toBe(LdirCode.DEPRECATED_DIRECTIVE);
    const e = parseError(vblock('schedular=rr'));
    expect(e).toMatchObject({ code: LdirCode.UNKNOWN_DIRECTIVE, token: 'schedular' });
    expect(e.message).toContain('did you mean "scheduler"');
    expect(parseError(vblock('autoreload=yes')).code).toBe(LdirCode.UNKNOWN_DIRECTIVE);
  });
});

describe('fallback', () => {
  it("the virtual's own fallback; port defaults to the virtual's", () => {
    expect(v0(vblock('fallback=127.0.0.1')).fallback).toEqual({ address: '127.0.0.1', port: 80, forward: 'gate', weight: 1 });
    expect(v0(vblock('fallback=127.0.0.1:8080 masq')).fallback).toEqual({ address: '127.0.0.1', port: 8080, forward: 'masq', weight: 1 });
  });
  it("a global fallback without port takes each virtual's port", () => {
    const vs = parse('fallback=127.0.0.1\nvirtual=192.0.2.1:80\nvirtual=192.0.2.1:81\n').config.virtuals;
    expect(vs.map((v) => v.fallback?.port)).toEqual([80, 81]);
    expect(parse('fallback=127.0.0.1:99\nvirtual=192.0.2.1:80\n').config.virtuals[0]!.fallback!.port).toBe(99);
  });
  it('a global fallback does not apply to a fwmark (warning)', () => {
    const r = parse('fallback=127.0.0.1:80\nvirtual=5\n');
    expect(r.config.virtuals[0]!.fallback).toBeUndefined();
    expect(r.warnings[0]!.code).toBe(LdirCode.FALLBACK_FWMARK);
  });
});

describe('resolution helpers', () => {
  it('IPv4 and IPv6 literals', () => {
    expect(ipv4ToInt('255.255.255.255')).toBe(0xffffffff);
    expect(ipv4ToInt('256.0.0.1')).toBeUndefined();
    expect(ipv4ToInt('010.0.0.1')).toBeUndefined();
    expect(canonicalIpv6('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(intToIpv4(ipv4ToInt('10.1.2.3')!)).toBe('10.1.2.3');
    for (const ok of ['::', '::1', '2001:db8::1', 'fe80::1:2:3:4', '1:2:3:4:5:6:7:8', '::ffff:10.0.0.1']) expect(isIpv6(ok), ok).toBe(true);
    for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', 'g::1', '12345::', '::ffff:10.0.0.256', '']) expect(isIpv6(bad), bad).toBe(false);
  });
  it('/etc/services parsing: first entry wins, aliases, per protocol', () => {
    const t = parseEtcServices('http 80/tcp www # web\ndomain 53/tcp\ndomain 53/udp\nfoo 9/tcp\nfoo 10/tcp\nbar 7/udp\n');
    expect(lookupService(t, 'www', 'tcp')).toBe(80);
    expect(lookupService(t, 'http', 'udp')).toBeUndefined();
    expect(lookupService(t, 'foo', undefined)).toBe(9);
    expect(lookupService(t, 'bar', undefined)).toBe(7);
  });
  it('port and service tables', () => {
    expect(portToService(443)).toBe('https');
    expect(portToService(1)).toBe('none');
    expect(serviceToPort('ldaps')).toBe(636);
  });
  it('the resolver is only asked about names', () => {
    const asked: string[] = [];
    const resolver = { ...staticResolver(), host: (n: string) => (asked.push(n), undefined) };
    parseLdirectordConfig('virtual=192.0.2.1:80\n\treal=192.0.2.2:80 gate\n', { file: 'x', resolver });
    expect(asked).toEqual([]);
  });
});

describe('config file lookup order', () => {
  const exists = (files: string[]) => (p: string) => files.includes(p);
  it('/etc/ha.d, then /etc/ha.d/conf, then the argument itself', () => {
    expect(findConfigFile('ldirectord.cf', exists(['/etc/ha.d/ldirectord.cf', '/etc/ha.d/conf/ldirectord.cf', 'ldirectord.cf']))).toBe('/etc/ha.d/ldirectord.cf');
    expect(findConfigFile('ldirectord.cf', exists(['/etc/ha.d/conf/ldirectord.cf', 'ldirectord.cf']))).toBe('/etc/ha.d/conf/ldirectord.cf');
    expect(findConfigFile('ldirectord.cf', exists(['ldirectord.cf']))).toBe('ldirectord.cf');
    expect(findConfigFile('/srv/x.cf', exists(['/srv/x.cf']))).toBe('/srv/x.cf');
    expect(findConfigFile('x.cf', exists([]))).toBeUndefined();
  });
});

describe('backend= (ours)', () => {
  it('accepts auto, ipvsadm and userspace; anything else names file:line and the token', () => {
    for (const b of ['auto', 'ipvsadm', 'userspace'] as const) expect(parse(`backend=${b}\n`).config.globals.backend).toBe(b);
    const e = parseError('backend=kernel\n');
    expect(e.message).toContain("test.cf:1: backend must be 'auto', 'ipvsadm' or 'userspace', not \"kernel\"");
  });
});
