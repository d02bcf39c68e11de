import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from './wait-for.js';
import { itWithTools } from '../helpers/env.js';
import { FileSink } from '../../lib/shared/log/file-sink.js';
import { haClassicLine, haSyslogBody } from '../../lib/shared/log/heartbeat-format.js';
import { haDestinations } from '../../lib/shared/log/hacf-destinations.js';
import { ldirectordDestinations } from '../../lib/shared/log/ldirectord-destinations.js';
import { Logger } from '../../lib/shared/log/logger.js';
import { syslogFacility, SyslogSink } from '../../lib/shared/log/syslog-sink.js';
import { HbError } from '../../lib/shared/errors.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbts-log-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const read = (f: string): string[] => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l !== '');
const T = new Date(2026, 10, 22, 3, 0, 34).getTime();


describe('file destination', () => {
  it('appends, and after logrotate moved the file, reopen() starts a new one', async () => {
    const file = path.join(dir, 'ha-log');
    fs.writeFileSync(file, 'older line\n');
    const log = new Logger({ destinations: [{ name: 'logfile', minPriority: 'info', format: haClassicLine('heartbeat'), sink: new FileSink(file) }], pid: 13, clock: () => T });
    log.info('before rotate');
    fs.renameSync(file, file + '.1');
    log.info('after rotate, before HUP'); // still the open file, as a daemon without HUP would
    log.reopen();
    log.info('after HUP');
    await log.close();
    expect(read(file + '.1')).toEqual([
      'older line',
      'heartbeat[13]: 2026/11/22_03:00:34 info: before rotate',
      'heartbeat[13]: 2026/11/22_03:00:34 info: after rotate, before HUP',
    ]);
    expect(read(file)).toEqual(['heartbeat[13]: 2026/11/22_03:00:34 info: after HUP']);
  });

  it('open-per-line files (ldirectord) follow a rotation without reopen()', () => {
    const file = path.join(dir, 'ldirectord.log');
    const sink = new FileSink(file, { openPerLine: true });
    sink.write('one');
    fs.renameSync(file, file + '.1');
    sink.write('two');
    expect(read(file + '.1')).toEqual(['one']);
    expect(read(file)).toEqual(['two']);
  });

  it('ldirectord: a line that cannot be written to its file goes to stderr itself', () => {
    const errors: string[] = [];
    const sink = new FileSink(path.join(dir, 'missing-dir', 'ldirectord.log'), { openPerLine: true, lineToStderrOnFailure: true, onError: (t) => errors.push(t) });
    sink.write('[Sun Nov 22 02:45:38 2026|golden.cf|31726] Added virtual server: 127.0.15.219:80');
    expect(errors).toEqual(['[Sun Nov 22 02:45:38 2026|golden.cf|31726] Added virtual server: 127.0.15.219:80']);
  });

  it('a file that cannot be opened is reported like cl_log (Cannot open FILE: reason) and retried', async () => {
    const file = path.join(dir, 'missing-dir', 'ha-log');
    const errors: string[] = [];
    const sink = new FileSink(file, { onError: (t) => errors.push(t) });
    const log = new Logger({ destinations: [{ name: 'logfile', minPriority: 'info', format: haClassicLine('heartbeat'), sink }], pid: 1, clock: () => T });
    log.info('lost');
    expect(errors[0]).toMatch(new RegExp(`^Cannot open ${file}: ENOENT`));
    fs.mkdirSync(path.dirname(file));
    log.info('found');
    await log.close();
    expect(read(file)).toEqual(['heartbeat[1]: 2026/11/22_03:00:34 info: found']);
    expect(() => FileSink.checkWritable(path.join(dir, 'nope', 'x'))).toThrow(HbError);
  });
});

/** A syslog daemon stand-in: socat bound to a unix datagram socket, dumping what arrives. */
async function startFakeSyslog(): Promise<{ socket: string; datagrams: () => string[]; stop: () => void }> {
  const socket = path.join(dir, 'log');
  const out = path.join(dir, 'received');
  const child: ChildProcess = spawn('socat', ['-u', `UNIX-RECV:${socket}`, `OPEN:${out},creat,append`], { stdio: 'ignore' });
  await waitFor(() => fs.existsSync(socket), 5000, 'socat to bind');
  return {
    socket,
    // socat writes datagrams back to back; each one starts with <PRI>.
    datagrams: () => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split(/(?=<\d+>)/).filter((d) => d !== '') : []),
    stop: () => child.kill('SIGTERM'),
  };
}

const stamp = '[A-Z][a-z]{2} [ \\d]\\d \\d{2}:\\d{2}:\\d{2}';

describe('syslog destination (a real unix datagram socket)', () => {
  itWithTools(['socat', 'logger'], 'sends <PRI>stamp ident: [pid]: prio: msg with the ha.cf facility', async () => {
    const syslog = await startFakeSyslog();
    try {
      const sink = new SyslogSink({ ident: 'heartbeat', facility: syslogFacility('local0'), socketPath: syslog.socket });
      const log = new Logger({ destinations: [{ name: 'syslog', minPriority: 'debug', format: haSyslogBody, sink }], pid: 13, clock: () => T, debugLevel: 1 });
      log.info('Link node2:eth0 up.');
      log.warn('node node2: is dead');
      log.debug(1, 'a debug\nline with a newline');
      log.error('auth 1 sha1 somesecret');
      await log.close();
      await waitFor(() => syslog.datagrams().length >= 4, 5000, 'four datagrams');
      const got = syslog.datagrams();
      // local0 = 16: info 16*8+6, warning 16*8+4, debug 16*8+7, err 16*8+3
      expect(got[0]).toMatch(new RegExp(`^<134>${stamp} heartbeat: \\[13\\]: info: Link node2:eth0 up\\.$`));
      expect(got[1]).toMatch(new RegExp(`^<132>${stamp} heartbeat: \\[13\\]: WARN: node node2: is dead$`));
      expect(got[2]).toMatch(new RegExp(`^<135>${stamp} heartbeat: \\[13\\]: debug: a debug line with a newline$`));
      expect(got[3]).toMatch(/^<131>.* heartbeat: \[13\]: ERROR: auth 1 sha1 \*+$/);
      expect(got.join('')).not.toContain('somesecret');
    } finally {
      syslog.stop();
    }
  });

  itWithTools(['socat', 'logger'], 'ldirectord: ident ldirectord[pid], always priority info, bare message', async () => {
    const syslog = await startFakeSyslog();
    try {
      const dests = ldirectordDestinations({ logfile: 'local3', cfgName: 'golden.cf', pid: 31726, syslogSocket: syslog.socket });
      const log = new Logger({ destinations: dests, pid: 31726, clock: () => T });
      log.info('Added virtual server: 127.0.15.219:80');
      log.error('system(/sbin/ipvsadm -a) failed: No such file');
      await log.close();
      await waitFor(() => syslog.datagrams().length >= 2, 5000, 'two datagrams');
      const got = syslog.datagrams();
      expect(got[0]).toMatch(new RegExp(`^<158>${stamp} ldirectord\\[31726\\]: Added virtual server: 127\\.0\\.15\\.219:80$`));
      expect(got[1]).toMatch(/^<158>.* ldirectord\[31726\]: system\(/);
    } finally {
      syslog.stop();
    }
  });

  it('no syslog daemon: messages are dropped quietly, the daemon goes on', async () => {
    const sink = new SyslogSink({ ident: 'heartbeat', facility: 3, socketPath: path.join(dir, 'nobody-listens') });
    const log = new Logger({ destinations: [{ name: 'syslog', minPriority: 'info', format: haSyslogBody, sink }], clock: () => T });
    log.info('into the void');
    await log.close();
  });

  it('facility names as syslog.h has them; unknown ones are refused', () => {
    expect(syslogFacility('local0')).toBe(16);
    expect(syslogFacility('LOCAL7')).toBe(23);
    expect(syslogFacility('daemon')).toBe(3);
    expect(() => syslogFacility('local9')).toThrow(expect.objectContaining({ code: 'LOG_BAD_FACILITY' }));
  });
});

describe('ha.cf logging directives', () => {
  const names = (d: ReturnType<typeof haDestinations>) => d.map((x) => `${x.name}:${x.minPriority}`);
  const o = { entity: 'heartbeat', hostname: 'node1', syslogSocket: '/nonexistent/log' };

  it('logfile gets all but debug, debugfile everything, logfacility none disables syslog', () => {
    const d = haDestinations({ logfile: path.join(dir, 'ha-log'), debugfile: path.join(dir, 'ha-debug'), logfacility: 'none' }, o);
    expect(names(d)).toEqual(['logfile:info', 'debugfile:debug']);
  });

  it('logfacility local0 adds syslog; no logging directive at all means syslog daemon (logd\'s default)', () => {
    expect(names(haDestinations({ logfacility: 'local0' }, o))).toEqual(['syslog:debug']);
    const none = haDestinations({}, o);
    expect(names(none)).toEqual(['syslog:debug']);
    expect((none[0]!.sink as SyslogSink).socketPath).toBe('/nonexistent/log');
  });

  it('heartbeat files are opened per line like cl_log: a logrotate needs no signal', async () => {
    const file = path.join(dir, 'ha-log');
    const log = new Logger({ destinations: haDestinations({ logfile: file, logfacility: 'none' }, o), pid: 13, clock: () => T });
    log.info('before');
    fs.renameSync(file, file + '.1');
    log.info('after');
    await log.close();
    expect(read(file + '.1')).toEqual(['Nov 22 03:00:34 node1 heartbeat: [13]: info: before']);
    expect(read(file)).toEqual(['Nov 22 03:00:34 node1 heartbeat: [13]: info: after']);
  });

  it('syslogmsgfmt picks the file layout; -f adds stderr in the same layout', async () => {
    const file = path.join(dir, 'ha-log');
    for (const [fmt, expected] of [
      [true, 'Nov 22 03:00:34 node1 heartbeat: [13]: info: x'],
      [false, 'heartbeat[13]: 2026/11/22_03:00:34 info: x'],
    ] as const) {
      fs.rmSync(file, { force: true });
      const d = haDestinations({ logfile: file, logfacility: 'none', syslogmsgfmt: fmt }, { ...o, stderr: true });
      expect(names(d)).toEqual(['logfile:info', 'stderr:debug']);
      const log = new Logger({ destinations: d.slice(0, 1), pid: 13, clock: () => T });
      log.info('x');
      await log.close();
      expect(read(file)).toEqual([expected]);
    }
  });

  it('ldirectord: -d wins over supervised, supervised over logfile; a path is a file opened per line', () => {
    const n = (x: Parameters<typeof ldirectordDestinations>[0]) => ldirectordDestinations(x).map((d) => `${d.name}:${d.minPriority}`);
    expect(n({ cfgName: 'x', debugMode: true, supervised: true })).toEqual(['stderr:debug']);
    expect(n({ cfgName: 'x', supervised: true })).toEqual(['stdout:info']);
    expect(n({ cfgName: 'x', logfile: path.join(dir, 'ld.log') })).toEqual(['logfile:info']);
  });
});
