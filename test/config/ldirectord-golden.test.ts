import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REFERENCE, REPO_ROOT } from '../helpers/env.js';
import { LdirCode, type VirtualService } from '../../lib/config/ldirectord/index.js';
import { parse, parseError } from './ldirectord-helpers.js';

const GOLDEN = path.join(REFERENCE, 'ldirectord-golden');
const CASES = path.join(GOLDEN, 'config-parse', 'cases');

interface GoldenVerdict {
  exit: number;
  error?: { line: number; message: string };
  warnings: { line?: number; message: string }[];
}

/** results.txt: `=== NAME  exit=N` then the real ldirectord's messages. */
function readVerdicts(): Map<string, GoldenVerdict> {
  const text = fs.readFileSync(path.join(GOLDEN, 'config-parse', 'results.txt'), 'utf8');
  const out = new Map<string, GoldenVerdict>();
  let cur: GoldenVerdict | undefined;
  for (const line of text.split('\n')) {
    const head = /^=== (\S+)\s+exit=(\d+)$/.exec(line);
    if (head) {
      cur = { exit: Number(head[2]), warnings: [] };
      out.set(head[1]!, cur);
      continue;
    }
    if (!cur) continue;
    const err = /^Error \[PID\] reading file \S+ at line (\d+): (.*)$/.exec(line);
    if (err && !cur.error) cur.error = { line: Number(err[1]), message: err[2]! };
    const warn = /^Warning \[PID\](?: reading file \S+ at line (\d+))?: (.*)$/.exec(line);
    if (warn) cur.warnings.push({ ...(warn[1] ? { line: Number(warn[1]) } : {}), message: warn[2]! });
  }
  return out;
}

/**
 * Cases where we deliberately accept what ldirectord rejects: its parser traps
 * (spec §2, §10). Each is listed in docs/compatibility.md by its case name.
 */
const DELIBERATE_ACCEPT: Record<string, (r: ReturnType<typeof parse>) => void> = {
  '02-global-trailing-space.cf': (r) => expect(r.config.globals.quiescent).toBe(true),
  '04-global-inline-comment-yesno.cf': (r) => expect(r.config.globals.quiescent).toBe(true),
  '05-virtual-inline-comment.cf': (r) => {
    expect(r.config.virtuals[0]!.quiescent).toBe(true);
    expect(r.config.virtuals[0]!.reals[0]!.forward).toBe('gate');
  },
  '06-blank-line-inside-virtual.cf': (r) => expect(r.config.virtuals[0]!.scheduler).toBe('rr'),
  '35-crlf-line-endings.cf': (r) => {
    expect(r.config.globals.quiescent).toBe(false);
    expect(r.config.virtuals[0]!.reals[0]!.address).toBe('127.0.20.2');
  },
};

/** Rejected as recorded, but we name a more useful line (also in docs/compatibility.md). */
const LINE_DIFFERENCES: Record<string, number> = {
  // ldirectord reports the last line of the duplicate block; we name the duplicate virtual= line.
  '17-duplicate-virtual.cf': 3,
  // ldirectord trips on the real= first; we first report virtual6= naming an IPv4 address.
  '42-virtual6-ipv4.cf': 1,
};

/** Our stable code for each rejected case. */
const ERROR_CODES: Record<string, string> = {
  '07-three-space-indent.cf': LdirCode.BAD_INDENT,
  '09-connecttimeout.cf': LdirCode.DEPRECATED_DIRECTIVE,
  '10-timeout.cf': LdirCode.DEPRECATED_DIRECTIVE,
  '12-checktype-bogus.cf': LdirCode.BAD_CHECKTYPE,
  '13-service-bogus.cf': LdirCode.BAD_SERVICE,
  '14-forward-bogus.cf': LdirCode.BAD_FORWARD,
  '16-real-trailing-junk.cf': LdirCode.BAD_REAL,
  '17-duplicate-virtual.cf': LdirCode.DUPLICATE_VIRTUAL,
  '19-fwmark-protocol-udp.cf': LdirCode.BAD_PROTOCOL,
  '20-netmask-prefix-ipv4.cf': LdirCode.BAD_NETMASK,
  '21-scheduler-uppercase.cf': LdirCode.BAD_SCHEDULER,
  '22-quiescent-capitalised.cf': LdirCode.BAD_YESNO,
  '23-checkport-zero.cf': LdirCode.BAD_PORT,
  '24-fallback-bad-forward.cf': LdirCode.BAD_FORWARD,
  '26-empty-request.cf': LdirCode.EMPTY_VALUE,
  '27-checktimeout-zero.cf': LdirCode.BAD_NUMBER,
  '28-emailalertstatus-none-all.cf': LdirCode.BAD_EMAILALERTSTATUS,
  '31-unknown-virtual-directive.cf': LdirCode.UNKNOWN_DIRECTIVE,
  '33-unresolvable-real.cf': LdirCode.UNRESOLVED_HOST,
  '34-reversed-range.cf': LdirCode.BAD_RANGE,
  '36-global-indented.cf': LdirCode.BAD_INDENT,
  '37-real-at-global-level.cf': LdirCode.OUTSIDE_VIRTUAL,
  '41-quoted-value-unquoted-request.cf': LdirCode.QUOTES_REQUIRED,
  '42-virtual6-ipv4.cf': LdirCode.UNRESOLVED_HOST,
  '43-real6-in-ipv4-virtual.cf': LdirCode.WRONG_FAMILY,
  '46-httpmethod-post.cf': LdirCode.BAD_HTTPMETHOD,
  '49-fork-bogus.cf': LdirCode.BAD_YESNO,
};

/** The token each error must name (the issue asks for the offending token). */
const ERROR_TOKENS: Record<string, string> = {
  '12-checktype-bogus.cf': 'bogus',
  '13-service-bogus.cf': 'telnet',
  '14-forward-bogus.cf': 'bridge',
  '16-real-trailing-junk.cf': 'junk',
  '20-netmask-prefix-ipv4.cf': '24',
  '21-scheduler-uppercase.cf': 'WRR',
  '22-quiescent-capitalised.cf': 'Yes',
  '31-unknown-virtual-directive.cf': 'frobnicate',
  '33-unresolvable-real.cf': 'no-such-host.invalid',
  '46-httpmethod-post.cf': 'POST',
  '49-fork-bogus.cf': 'maybe',
};

/** Warnings ldirectord prints for accepted cases, by our code. */
const WARNING_CODES: Record<string, string> = {
  'bare supervised': LdirCode.BARE_SUPERVISED,
  'maintenance directory does not exist': LdirCode.MAINTENANCEDIR_MISSING,
  'checkinterval in virtual service': LdirCode.CHECKINTERVAL_IGNORED,
  'checkcount option is deprecated': LdirCode.CHECKCOUNT_DEPRECATED,
};

/** What the accepted cases mean, from the spec and the golden traces. */
const MEANING: Record<string, (vs: VirtualService[]) => void> = {
  '01-minimal-ok.cf': (vs) => {
    expect(vs[0]).toMatchObject({ id: 'tcp:127.0.20.1:80', service: 'http', checkType: 'negotiate', scheduler: 'wrr' });
    expect(vs[0]!.reals).toEqual([expect.objectContaining({ address: '127.0.20.2', port: 80, forward: 'gate', weight: 1 })]);
  },
  '11-checktype-number.cf': (vs) => expect(vs[0]).toMatchObject({ checkType: 'combined', combinedConnects: 7 }),
  '15-real-request-receive.cf': (vs) => expect(vs[0]!.reals[0]).toMatchObject({ weight: 5, request: '/x.html', receive: 'OK' }),
  '18-virtual-ip-without-port.cf': (vs) => expect(vs[0]).toMatchObject({ id: 'fwm:127', protocol: 'fwm', fwmark: 127, service: 'none' }),
  '25-spaces-around-equals.cf': (vs) => expect(vs[0]).toMatchObject({ id: 'tcp:127.0.20.1:80', scheduler: 'rr' }),
  '38-virtual-hostname-service.cf': (vs) => expect(vs[0]).toMatchObject({ id: 'tcp:127.0.0.1:80', address: '127.0.0.1', port: 80, service: 'http' }),
  '39-real-no-port.cf': (vs) => expect(vs[0]!.reals[0]).toMatchObject({ port: 0, weight: 3 }),
  '44-ops-on-tcp.cf': (vs) => expect(vs[0]).toMatchObject({ protocol: 'tcp', ops: true }),
  '45-persistent-no-netmask.cf': (vs) => {
    expect(vs[0]!.persistentSec).toBe(300);
    expect(vs[0]!.netmask).toBeUndefined();
  },
};

describe('ldirectord config-parse golden cases (real ldirectord verdicts)', () => {
  const verdicts = readVerdicts();
  it('has all 50 recorded cases', () => {
    expect(verdicts.size).toBe(50);
    expect(fs.readdirSync(CASES).filter((f) => f.endsWith('.cf')).sort()).toEqual([...verdicts.keys()].sort());
  });

  for (const [name, golden] of verdicts) {
    const file = path.join(CASES, name);
    const deliberate = DELIBERATE_ACCEPT[name];
    if (deliberate) {
      it(`${name}: rejected by ldirectord (line ${golden.error?.line}), accepted by us as a documented fix`, () => {
        expect(golden.exit).toBe(2);
        deliberate(parse(fs.readFileSync(file), name));
      });
      continue;
    }
    if (golden.exit === 3) {
      it(`${name}: accepted, as by ldirectord`, () => {
        const r = parse(fs.readFileSync(file), name, { isDirectory: () => false });
        const codes = r.warnings.map((w) => w.code);
        for (const gw of golden.warnings) {
          const key = Object.keys(WARNING_CODES).find((k) => gw.message.includes(k));
          expect(key, `unmapped golden warning ${gw.message}`).toBeDefined();
          const ours = r.warnings.find((w) => w.code === WARNING_CODES[key!]);
          expect(ours, `missing warning ${WARNING_CODES[key!]}; got ${codes.join(',')}`).toBeDefined();
          if (gw.line !== undefined) expect(ours!.line).toBe(gw.line);
        }
        MEANING[name]?.(r.config.virtuals);
      });
    } else {
      it(`${name}: rejected with exit 2 at the recorded line`, () => {
        expect(golden.exit).toBe(2);
        const e = parseError(fs.readFileSync(file), name);
        expect(e.exitCode).toBe(2);
        const line = LINE_DIFFERENCES[name] ?? golden.error!.line;
        expect(e.line).toBe(line);
        expect(e.message.split('\n')[0]).toMatch(new RegExp(`^${name.replace(/\./g, '\\.')}:${line}: `));
        expect(e.code).toBe(ERROR_CODES[name]);
        if (ERROR_TOKENS[name] !== undefined) {
          expect(e.token).toBe(ERROR_TOKENS[name]);
          expect(e.message).toContain(ERROR_TOKENS[name]);
        }
      });
    }
  }

  it('every deliberate difference is listed in the ldirectord section of docs/compatibility.md', () => {
    const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'compatibility.md'), 'utf8');
    const section = /## ldirectord\.cf and ldirectord\n([\s\S]*?)(\n## |$)/.exec(doc)?.[1] ?? '';
    for (const name of [...Object.keys(DELIBERATE_ACCEPT), ...Object.keys(LINE_DIFFERENCES)]) {
      expect(section, name).toContain(name.replace(/\.cf$/, ''));
    }
  });
});

// ---------------------------------------------------------------------------
// Scenario configs: the ipvsadm commands the real ldirectord issued at start
// show what it made of each config; our model must mean the same.

const SCENARIOS = fs.readdirSync(GOLDEN).filter((d) => fs.existsSync(path.join(GOLDEN, d, 'golden.cf')) && fs.existsSync(path.join(GOLDEN, d, 'out', 'trace.txt')));

const FWD_FLAG = { gate: '-g', masq: '-m', ipip: '-i' } as const;

function serviceArg(v: VirtualService): string {
  if (v.protocol === 'fwm') return `-f ${v.fwmark}${v.family === 'ipv6' ? ' -6' : ''}`;
  const host = v.family === 'ipv6' ? `[${v.address}]` : v.address;
  return `${v.protocol === 'tcp' ? '-t' : '-u'} ${host}:${v.port}`;
}

/** The -A line ldirectord builds from a virtual (ld_setup, spec §6.0), as argv tokens. */
function addVirtualCommand(v: VirtualService): string {
  let s = `-A ${serviceArg(v)}`;
  if (v.protocol === 'udp' && v.ops) s += ' -o';
  s += ` -s ${v.scheduler}`;
  if (v.persistentSec !== undefined) s += ` -p ${v.persistentSec}` + (v.netmask !== undefined ? ` -M ${v.netmask}` : '');
  if (v.schedFlags !== undefined) s += ` -b ${v.schedFlags}`;
  return s;
}

/** The mutating ipvsadm commands of the first `ld-start`/`ld-daemon` event. */
function startCommands(trace: string): string[] {
  const events = trace.split(/^== event /m);
  const start = events.find((e) => /^(ld-start|ld-daemon|ld-ns-start)/.test(e));
  return (start ?? '').split('\n').filter((l) => l.startsWith('   ipvsadm ')).map((l) => l.slice('   ipvsadm '.length).trim().replace(/\s+/g, ' '));
}

describe('ldirectord golden scenarios: our model matches what ldirectord did at start', () => {
  it('finds the scenarios', () => expect(SCENARIOS.length).toBeGreaterThanOrEqual(10));
  for (const dir of SCENARIOS) {
    it(dir, () => {
      const cfg = fs.readFileSync(path.join(GOLDEN, dir, 'golden.cf'));
      const { config } = parse(cfg, 'golden.cf');
      const cmds = startCommands(fs.readFileSync(path.join(GOLDEN, dir, 'out', 'trace.txt'), 'utf8'));
      expect(cmds.length).toBeGreaterThan(0);
      // Every virtual is added with the flags our model implies, and nothing else is.
      expect(cmds.filter((c) => c.startsWith('-A ')).sort()).toEqual(config.virtuals.map(addVirtualCommand).sort());
      // Every real or fallback ldirectord added is one of ours, with our forwarding, weight and thresholds.
      const adds = cmds.filter((c) => c.startsWith('-a '));
      for (const cmd of adds) {
        const m = /^-a (.+?) -x (\d+) -y (\d+) -r (\S+) (-[gmi]) -w (\d+)$/.exec(cmd) ?? /^-a (.+?) -r (\S+) (-[gmi]) -w (0)$/.exec(cmd);
        expect(m, cmd).not.toBeNull();
        const v = config.virtuals.find((x) => cmd.startsWith(`-a ${serviceArg(x)} `));
        expect(v, `${dir}: ${cmd} names no configured virtual`).toBeDefined();
        const rip = m!.length === 7 ? m![4]! : m![2]!;
        const flag = m!.length === 7 ? m![5]! : m![3]!;
        const weight = Number(m!.length === 7 ? m![6] : m![4]);
        const real = v!.reals.find((r) => `${r.address}:${r.port}` === rip);
        const fb = v!.fallback && `${v!.fallback.address}:${v!.fallback.port}` === rip ? v!.fallback : undefined;
        expect(real ?? fb, `${dir}: ${cmd} names no configured real or fallback`).toBeDefined();
        if (real) {
          expect(flag).toBe(FWD_FLAG[real.forward]);
          expect([real.weight, 0]).toContain(weight);
          if (m!.length === 7 && weight !== 0) expect([Number(m![2]), Number(m![3])]).toEqual([real.upperThreshold, real.lowerThreshold]);
        } else {
          expect(flag).toBe(FWD_FLAG[fb!.forward]);
          expect(weight).toBe(1);
        }
      }
      // A configured fallback is put in place at start (fallback_on, spec §6.1 step 2).
      for (const v of config.virtuals) {
        if (!v.fallback) continue;
        const f = v.fallback;
        expect(cmds).toContain(`-a ${serviceArg(v)} -x 0 -y 0 -r ${f.address}:${f.port} ${FWD_FLAG[f.forward]} -w 1`);
      }
    });
  }
});
