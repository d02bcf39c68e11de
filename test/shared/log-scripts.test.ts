import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { haScriptDebugfileFormat, haScriptDestinations, haScriptLogfileFormat } from '../../lib/shared/log/ha-script-destinations.js';
import { haLoggingEnv, haLoggingNotices, LOGD_DISABLED_WARNING, NO_LOG_ENTRY_NOTICE } from '../../lib/shared/log/hacf-destinations.js';
import type { Priority } from '../../lib/shared/log/levels.js';
import { Logger } from '../../lib/shared/log/logger.js';
import { MemorySink } from '../../lib/shared/log/stream-sink.js';
import { parseScriptDebugfileLine, parseScriptLogfileLine, parseSyslogFmtLine, readReference } from './log-recorded.js';

const WORDS: Record<string, Priority> = { info: 'info', ERROR: 'error', CRIT: 'crit', WARN: 'warn', debug: 'debug' };
const LEVELLED = /^(info|ERROR|CRIT|WARN|debug): (.*)$/;

describe('resource-script lines written from TypeScript', () => {
  for (const [file, parse, format] of [
    ['node1-ha-log.txt', parseScriptLogfileLine, haScriptLogfileFormat],
    ['node1-ha-debug.txt', parseScriptDebugfileLine, haScriptDebugfileFormat],
  ] as const) {
    it(`ResourceManager/harc lines of ucast-2node/${file} are rebuilt through Logger`, () => {
      const lines = readReference('vectors', 'ucast-2node', file);
      let n = 0;
      for (const l of lines) {
        const s = parse(l);
        if (s === undefined || !/^(ResourceManager|harc|mach_down)/.test(s.tag)) continue;
        const m = LEVELLED.exec(s.text);
        if (m === null) continue;
        const sink = new MemorySink();
        const log = new Logger({ destinations: [{ name: 'f', minPriority: 'debug', format: format(s.tag), sink }], clock: () => s.time, debugLevel: 1 });
        log.log(WORDS[m[1]!]!, m[2]!);
        expect(sink.lines).toEqual([l]);
        n++;
      }
      expect(n).toBeGreaterThan(10);
    });
  }

  it('ha_log routing: logfile all but debug, debugfile everything; a terminal gets stderr only', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbts-halog-'));
    try {
      const d = { logfile: path.join(dir, 'ha-log'), debugfile: path.join(dir, 'ha-debug'), logfacility: 'none' };
      const dests = haScriptDestinations(d, { tag: 'ResourceManager(default)[390]' });
      expect(dests.map((x) => x.name)).toEqual(['logfile', 'debugfile']);
      const t = new Date(2026, 10, 22, 3, 0, 34).getTime();
      const log = new Logger({ destinations: dests, clock: () => t, debugLevel: 1 });
      log.info('Running /etc/ha.d/resource.d/hbdummy svc1 stop');
      log.debug(1, 'Starting /etc/ha.d/resource.d/hbdummy svc1 stop');
      await log.close();
      expect(fs.readFileSync(d.logfile, 'utf8')).toBe('2026/11/22_03:00:34  ResourceManager(default)[390]:    info: Running /etc/ha.d/resource.d/hbdummy svc1 stop\n');
      expect(fs.readFileSync(d.debugfile, 'utf8')).toBe(
        'ResourceManager(default)[390]:\t2026/11/22_03:00:34 info: Running /etc/ha.d/resource.d/hbdummy svc1 stop\n' +
          'ResourceManager(default)[390]:\t2026/11/22_03:00:34 debug: Starting /etc/ha.d/resource.d/hbdummy svc1 stop\n',
      );
      expect(haScriptDestinations(d, { tag: 'x[1]', terminal: true }).map((x) => x.name)).toEqual(['stderr']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ha.cf logging: environment and start-up notices', () => {
  it('exports HA_LOGFILE, HA_DEBUGLOG, HA_LOGFACILITY, HA_LOGD, HA_debug', () => {
    expect(haLoggingEnv({ logfile: '/var/log/ha-log', debugfile: '/var/log/ha-debug', logfacility: 'local0', useLogd: false }, 2)).toEqual({
      HA_LOGFILE: '/var/log/ha-log',
      HA_DEBUGLOG: '/var/log/ha-debug',
      HA_LOGFACILITY: 'local0',
      HA_LOGD: 'no',
      HA_debug: '2',
    });
    expect(haLoggingEnv({ logfacility: 'none' })).toEqual({});
  });

  it('notices match the recorded start (use_logd no → the WARN line)', () => {
    const recorded = readReference('vectors', 'ucast-2node', 'node1-ha-log.txt').map((l) => parseSyslogFmtLine(l)?.msg);
    expect(recorded).toContain(LOGD_DISABLED_WARNING);
    expect(haLoggingNotices({ logfile: '/var/log/ha-log', logfacility: 'none', useLogd: false })).toEqual([{ priority: 'warn', msg: LOGD_DISABLED_WARNING }]);
    expect(haLoggingNotices({})).toEqual([{ priority: 'info', msg: NO_LOG_ENTRY_NOTICE }]);
    expect(haLoggingNotices({ logfacility: 'daemon', useLogd: true })).toEqual([]);
  });
});
