import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REFERENCE } from '../helpers/env.js';
import { haClassicLine, haScriptDebugfileLine, haScriptLogfileLine, haScriptTag, haSyslogBody, haSyslogFmtLine } from '../../lib/shared/log/heartbeat-format.js';
import { ldirectordDebugModeLine, ldirectordFileLine, ldirectordSupervisedLine } from '../../lib/shared/log/ldirectord-format.js';
import { drbd9Prefix, DRBD9_STATE_ORDER, drbdConnectionPrefix, drbdDevicePrefix, drbdStateChangeText } from '../../lib/shared/log/drbd-format.js';
import { haTimestamp, perlLocaltime, syslogStyleTimestamp } from '../../lib/shared/log/clock.js';
import { Logger } from '../../lib/shared/log/logger.js';
import { MemorySink } from '../../lib/shared/log/stream-sink.js';
import type { Destination } from '../../lib/shared/log/sink.js';
import {
  localMs,
  parseLdirectordFileLine,
  parseLdirectordSupervisedLine,
  parseScriptDebugfileLine,
  parseScriptLogfileLine,
  parseSyslogFmtLine,
  readReference,
  type DaemonLine,
} from './log-recorded.js';

const VECTORS = path.join(REFERENCE, 'vectors');
const haLogFiles = fs
  .readdirSync(VECTORS)
  .flatMap((d) => (fs.statSync(path.join(VECTORS, d)).isDirectory() ? fs.readdirSync(path.join(VECTORS, d)).map((f) => path.join(d, f)) : []))
  .filter((f) => /node\d-ha-(log|debug)\.txt$/.test(f));

/**
 * Replays recorded daemon lines through Logger (and so pino) with the
 * recorded time and pid injected; the clock hands out each line's time.
 */
function replay(lines: DaemonLine[], destinations: (entity: string, host: string) => Destination[]): void {
  let now = 0;
  const loggers = new Map<string, Logger>();
  const first = lines[0]!;
  const dests = destinations(first.entity, first.host);
  for (const l of lines) {
    const key = `${l.entity}/${l.pid}`;
    let log = loggers.get(key);
    if (log === undefined) {
      log = new Logger({ destinations: dests, pid: l.pid, clock: () => now, debugLevel: 1 });
      loggers.set(key, log);
    }
    now = l.time;
    if (l.priority === 'debug') log.debug(1, l.msg);
    else log.log(l.priority, l.msg);
  }
}

describe('heartbeat log lines against the recorded ha-log and ha-debug files', () => {
  it('found the recordings', () => {
    expect(haLogFiles.length).toBeGreaterThanOrEqual(10);
  });

  for (const file of haLogFiles) {
    it(`${file}: every daemon and script line is rebuilt byte for byte`, () => {
      const lines = readReference('vectors', file);
      const daemon = lines.map((l) => parseSyslogFmtLine(l)).filter((d): d is DaemonLine => d !== undefined);
      expect(daemon.length).toBeGreaterThan(20);
      const sink = new MemorySink();
      replay(daemon, (entity, host) => [{ name: 'file', minPriority: 'debug', format: haSyslogFmtLine(entity, host), sink }]);
      expect(sink.lines).toEqual(daemon.map((d) => d.line));

      const isDebug = file.endsWith('ha-debug.txt');
      let scripts = 0;
      for (const l of lines) {
        const s = isDebug ? parseScriptDebugfileLine(l) : parseScriptLogfileLine(l);
        if (s === undefined) continue;
        scripts++;
        expect(isDebug ? haScriptDebugfileLine(s.tag, s.time, s.text) : haScriptLogfileLine(s.tag, s.time, s.text)).toBe(l);
      }
      // Only raw script output (`INFO:  Success`, `SIOCDELRT: ...`) is neither.
      const other = lines.length - daemon.length - scripts;
      expect(other).toBeLessThan(lines.length / 5);
    });
  }

  it('routes as cl_log: debugfile gets everything, logfile all but debug (node1 ha-debug replayed gives node1 ha-log)', () => {
    const debugLines = readReference('vectors', 'ucast-2node', 'node1-ha-debug.txt')
      .map((l) => parseSyslogFmtLine(l))
      .filter((d): d is DaemonLine => d !== undefined);
    const expectedLog = readReference('vectors', 'ucast-2node', 'node1-ha-log.txt').filter((l) => parseSyslogFmtLine(l) !== undefined);
    const logfile = new MemorySink();
    const debugfile = new MemorySink();
    replay(debugLines, (entity, host) => [
      { name: 'logfile', minPriority: 'info', format: haSyslogFmtLine(entity, host), sink: logfile },
      { name: 'debugfile', minPriority: 'debug', format: haSyslogFmtLine(entity, host), sink: debugfile },
    ]);
    expect(debugfile.lines).toEqual(debugLines.map((d) => d.line));
    expect(logfile.lines).toEqual(expectedLog);
    expect(debugLines.some((d) => d.priority === 'debug')).toBe(true);
  });

  it('debug lines above the debug level are not logged; the level can change at run time', () => {
    const sink = new MemorySink();
    const log = new Logger({ destinations: [{ name: 'd', minPriority: 'debug', format: haClassicLine('heartbeat'), sink }], pid: 7, clock: () => 0 });
    log.debug(1, 'hidden');
    log.setDebugLevel(2);
    log.debug(2, 'shown');
    log.debug(3, 'hidden too');
    log.setDebugLevel(0);
    log.debug(0, 'unconditional, like cl_log(LOG_DEBUG)');
    log.log('debug', 'also unconditional');
    expect(sink.lines.map((l) => l.split(' debug: ')[1])).toEqual(['shown', 'unconditional, like cl_log(LOG_DEBUG)', 'also unconditional']);
  });

  it('a failing destination never throws into the caller; the others still get the line', () => {
    const good = new MemorySink();
    const broken = { write: () => { throw new Error('disk on fire'); }, reopen: () => {}, close: async () => {} };
    const log = new Logger({
      destinations: [
        { name: 'broken', minPriority: 'debug', format: haClassicLine('heartbeat'), sink: broken },
        { name: 'good', minPriority: 'debug', format: haClassicLine('heartbeat'), sink: good },
      ],
      pid: 1,
      clock: () => 0,
    });
    expect(() => log.info('still here')).not.toThrow();
    expect(good.lines).toHaveLength(1);
  });

  it('a destination can be muted by name (cl_log_enable_stderr)', () => {
    const stderr = new MemorySink();
    const file = new MemorySink();
    const log = new Logger({
      destinations: [
        { name: 'stderr', minPriority: 'debug', format: haClassicLine('heartbeat'), sink: stderr },
        { name: 'logfile', minPriority: 'info', format: haClassicLine('heartbeat'), sink: file },
      ],
      pid: 12,
      clock: () => 0,
    });
    log.info('Configuration validated. Starting heartbeat 3.0.6');
    log.setEnabled('stderr', false);
    log.info('heartbeat: version 3.0.6');
    expect(stderr.lines).toHaveLength(1);
    expect(file.lines).toHaveLength(2);
  });

  it('classic layout (syslogmsgfmt false) is the spec example', () => {
    const t = localMs(2008, 6, 6, 23, 27, 46);
    expect(haClassicLine('heartbeat')({ priority: 'info', time: t, pid: 1234, msg: 'Link node2:eth0 up.' })).toBe(
      'heartbeat[1234]: 2008/07/06_23:27:46 info: Link node2:eth0 up.',
    );
    expect(haSyslogFmtLine('heartbeat', 'node1')({ priority: 'warn', time: t, pid: 1234, msg: 'node node2: is dead' })).toBe(
      'Jul 06 23:27:46 node1 heartbeat: [1234]: WARN: node node2: is dead',
    );
    expect(haSyslogBody({ priority: 'crit', time: t, pid: 13, msg: 'x' })).toBe('[13]: CRIT: x');
  });

  it('every priority word is cl_log\'s', () => {
    const f = haClassicLine('ccm');
    const words = (['emerg', 'alert', 'crit', 'error', 'warn', 'notice', 'info', 'debug'] as const).map(
      (p) => f({ priority: p, time: 0, pid: 1, msg: '' }).split(' ')[2],
    );
    expect(words).toEqual(['EMERG:', 'ALERT:', 'CRIT:', 'ERROR:', 'WARN:', 'notice:', 'info:', 'debug:']);
  });

  it('script tags and timestamps pad like the originals', () => {
    expect(haScriptTag('ResourceManager', 1234, 'default')).toBe('ResourceManager(default)[1234]');
    expect(haScriptTag('harc', 20)).toBe('harc[20]');
    const t = localMs(2026, 0, 2, 3, 4, 5);
    expect(haTimestamp(t)).toBe('2026/01/02_03:04:05');
    expect(syslogStyleTimestamp(t)).toBe('Jan 02 03:04:05');
    expect(perlLocaltime(t)).toBe('Fri Jan  2 03:04:05 2026');
  });
});

describe('ldirectord log lines against the golden runs', () => {
  it('logfile lines ([localtime|cfg|pid] msg) are rebuilt byte for byte through Logger', () => {
    const lines = readReference('ldirectord-golden', 'daemon-cli', 'out', 'ldirectord-file.log');
    const parsed = lines.map(parseLdirectordFileLine);
    expect(parsed.every((p) => p !== undefined)).toBe(true);
    const sink = new MemorySink();
    let now = 0;
    for (const p of parsed) {
      now = p!.time;
      const log = new Logger({ destinations: [{ name: 'f', minPriority: 'info', format: ldirectordFileLine(p!.cfg), sink }], pid: p!.pid, clock: () => now });
      log.info(p!.msg);
    }
    expect(sink.lines).toEqual(lines);
  });

  it('supervised lines ([localtime] msg) on stdout', () => {
    const lines = readReference('ldirectord-golden', 'supervised', 'out', 'ldirectord.out').filter((l) => l.startsWith('['));
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) {
      const p = parseLdirectordSupervisedLine(l)!;
      expect(ldirectordSupervisedLine({ priority: 'info', time: p.time, pid: 1, msg: p.msg })).toBe(l);
    }
  });

  it('-d lines: DEBUGn: msg for debug, the bare message otherwise', () => {
    const lines = readReference('ldirectord-golden', 'http-timeout', 'out', 'ldirectord.out');
    const debug = lines.filter((l) => /^DEBUG\d: /.test(l));
    expect(debug.length).toBeGreaterThan(3);
    for (const l of debug) {
      const m = /^DEBUG(\d): (.*)$/.exec(l)!;
      expect(ldirectordDebugModeLine({ priority: 'debug', debugLevel: Number(m[1]), time: 0, pid: 1, msg: m[2]! })).toBe(l);
    }
    expect(ldirectordDebugModeLine({ priority: 'info', time: 0, pid: 1, msg: 'Added virtual server: 1.2.3.4:80' })).toBe('Added virtual server: 1.2.3.4:80');
  });
});

describe('drbd kernel-style messages', () => {
  const spec = fs.readFileSync(path.join(REFERENCE, 'drbd-spec.md'), 'utf8');
  it('8.x state change lines from the spec', () => {
    const line1 = drbdDevicePrefix(0) + drbdStateChangeText({ conn: ['WFConnection', 'WFReportParams'] });
    const line2 =
      drbdDevicePrefix(0) +
      drbdStateChangeText({ pdsk: ['DUnknown', 'UpToDate'], conn: ['WFReportParams', 'Connected'], peer: ['Unknown', 'Secondary'] });
    expect(spec).toContain('`' + line1 + '`');
    expect(spec).toContain('`' + line2 + '`');
  });
  it('9 connection and peer-device lines from the spec', () => {
    const conn = drbd9Prefix('r0', 'hadb02') + drbdStateChangeText({ peer: ['Unknown', 'Secondary'], conn: ['Connecting', 'Connected'] }, DRBD9_STATE_ORDER);
    const dev =
      drbd9Prefix('r0', 'hadb02', { volume: 0, minor: 1 }) +
      drbdStateChangeText({ repl: ['Off', 'Established'], pdsk: ['DUnknown', 'UpToDate'] }, DRBD9_STATE_ORDER);
    expect(spec).toContain('`' + conn + '`');
    expect(spec).toContain('`' + dev + '`');
  });
  it('8.4 connection prefix; unchanged fields left out', () => {
    expect(drbdConnectionPrefix('r0')).toBe('d-con r0: ');
    expect(drbdStateChangeText({ role: ['Primary', 'Primary'], disk: ['Inconsistent', 'UpToDate'] })).toBe('disk( Inconsistent -> UpToDate )');
  });
});
