import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS } from '../helpers/env.js';
import { LdirCode } from '../../lib/config/ldirectord/index.js';
import { parse, parseError } from './ldirectord-helpers.js';

const DIR = path.join(CORPUS, 'ldirectord');

interface OracleVerdict {
  accepted: boolean;
  line?: number;
}

/** The verdict table of ldirectord-oracle.md: | `file` | accepted / **rejected** | first error |. */
function readOracle(): Map<string, OracleVerdict> {
  const text = fs.readFileSync(path.join(CORPUS, 'ldirectord-oracle.md'), 'utf8');
  const out = new Map<string, OracleVerdict>();
  for (const row of text.split('\n')) {
    const m = /^\| `([^`]+)` \| (accepted|\*\*rejected\*\*) \(exit (\d)\) \|(.*)\|$/.exec(row);
    if (!m) continue;
    const line = /at line (\d+):/.exec(m[4]!);
    out.set(m[1]!, { accepted: m[2] === 'accepted', ...(line ? { line: Number(line[1]) } : {}) });
  }
  return out;
}

/** Our code for each file the real ldirectord rejects. */
const REJECT_CODES: Record<string, string> = {
  'SUSEDOC-EXTRACTED-yast-spaces-around-equals.ldirectord.cf': LdirCode.OUTSIDE_VIRTUAL,
  'UPSTREAM-heartbeat-historic-timeout-directive.ldirectord.cf': LdirCode.DEPRECATED_DIRECTIVE,
  'vincentmli-lvsadm-sectioned-dialect.ldirectord.cf': LdirCode.UNKNOWN_DIRECTIVE,
  'wjesus374-gprs2-custom-service.ldirectord.cf': LdirCode.BAD_SERVICE,
  'wjesus374-services-only-noglobals.ld.conf': LdirCode.BAD_SERVICE,
};

describe('corpus/ldirectord against ldirectord-oracle.md', () => {
  const oracle = readOracle();
  it('covers every corpus file', () => {
    expect(oracle.size).toBe(13);
    expect([...oracle.keys()].sort()).toEqual(fs.readdirSync(DIR).sort());
  });
  // No corpus file differs from the oracle: none hits one of the fixed traps.
  for (const [name, verdict] of oracle) {
    if (verdict.accepted) {
      it(`${name}: accepted`, () => {
        const { config } = parse(fs.readFileSync(path.join(DIR, name)), name);
        expect(config.virtuals.length).toBeGreaterThan(0);
      });
    } else {
      it(`${name}: rejected at line ${verdict.line}`, () => {
        const e = parseError(fs.readFileSync(path.join(DIR, name)), name);
        expect(e.exitCode).toBe(2);
        expect(e.line).toBe(verdict.line);
        expect(e.code).toBe(REJECT_CODES[name]);
      });
    }
  }

  it('grimli production file: service names as ports, tcp+udp twins, per-virtual fallback', () => {
    const { config } = parse(fs.readFileSync(path.join(DIR, 'grimli-scriptutili-production.ldirectord.cf')), 'grimli');
    expect(config.virtuals).toHaveLength(70);
    // :domain is udp by default and both protocols may share an address.
    const dns = config.virtuals.filter((v) => v.port === 53);
    expect(new Set(dns.map((v) => v.protocol))).toEqual(new Set(['tcp', 'udp']));
    expect(config.virtuals.some((v) => v.port === 80 && v.service === 'http')).toBe(true);
    expect(config.virtuals.some((v) => v.port === 3306 && v.service === 'mysql')).toBe(true);
    expect(new Set(config.virtuals.map((v) => v.id)).size).toBe(70);
  });

  it('fwmark file: reals without ports get port 0, service none unless given', () => {
    const { config } = parse(fs.readFileSync(path.join(DIR, 'cwarden-RENDERED-fwmark-reals-without-port.ldirectord.cf')), 'cw');
    const v = config.virtuals[0]!;
    expect(v).toMatchObject({ id: 'fwm:4097', protocol: 'fwm', service: 'http', request: '/ldirector.html', receive: 'Test Page' });
    expect(v.reals.map((r) => `${r.address}:${r.port}`)).toEqual(['192.168.15.101:0', '192.168.15.102:0']);
    expect(config.globals).toMatchObject({ checkTimeoutMs: 10_000, checkIntervalMs: 10_000, autoreload: true, quiescent: false });
    expect(v).toMatchObject({ checkTimeoutMs: 10_000, negotiateTimeoutMs: 10_000 });
  });

  it('syslog facility as logfile', () => {
    const { config } = parse(fs.readFileSync(path.join(DIR, 'UNATTRIBUTED-forum-logfile-syslog-facility.ldirectord.cf')), 'f');
    expect(config.globals.logfile).toBe('local0');
  });

  it('upstream sample: servicename, comment, virtualhost, fallback', () => {
    const { config } = parse(fs.readFileSync(path.join(DIR, 'UPSTREAM-resource-agents-sample.ldirectord.cf')), 'u');
    expect(config.virtuals[0]).toMatchObject({
      serviceName: 'Web Site', comment: 'Test load balanced web site', virtualHost: 'www.x.y.z', checkPort: 80,
      request: '/index.html', fallback: { address: '127.0.0.1', port: 80, forward: 'gate', weight: 1 },
    });
  });
});
