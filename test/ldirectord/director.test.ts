import { describe, expect, it } from 'vitest';
import { Director, type DirectorAction } from '../../lib/ldirectord/director/director.js';
import { applyIpvsCommand, ipvsadmArgs } from '../../lib/ldirectord/ipvs/command.js';
import { formatIpvsListing, parseIpvsListing } from '../../lib/ldirectord/ipvs/listing.js';
import { EMPTY_TABLE, type IpvsTable } from '../../lib/ldirectord/ipvs/model.js';
import { parse } from '../config/ldirectord-helpers.js';

/** A director over an in-memory table that every command really changes (ipvsadm's rules). */
class Bench {
  table: IpvsTable;
  readonly director: Director;
  log: string[] = [];
  commands: string[] = [];
  fallbackRuns: string[] = [];

  constructor(cf: string, table: IpvsTable = EMPTY_TABLE) {
    this.table = table;
    this.director = new Director(parse(cf).config);
  }

  private run(actions: DirectorAction[]): string[] {
    const cmds: string[] = [];
    for (const a of actions) {
      if (a.kind === 'ipvs') {
        cmds.push(ipvsadmArgs(a.command).join(' '));
        this.table = applyIpvsCommand(this.table, a.command); // throws if ipvsadm would refuse it
      } else if (a.kind === 'log') this.log.push(a.text);
      else if (a.kind === 'fallback-command') this.fallbackRuns.push(a.args.join(' '));
    }
    this.commands.push(...cmds);
    return cmds;
  }

  start(): string[] {
    return this.run(this.director.start(this.table));
  }

  check(real: string, ok: boolean): string[] {
    const ids = this.director.checkTargets().filter((t) => t.members.some((m) => `${m.real.address}:${m.real.port}` === real));
    if (ids.length === 0) throw new Error(`no check target for ${real}`);
    return ids.flatMap((t) => this.run(this.director.checked(this.table, t.id, ok)));
  }

  reload(cf: string): string[] {
    return this.run(this.director.reload(this.table, parse(cf).config));
  }

  stop(): string[] {
    return this.run(this.director.stop(this.table));
  }

  /** Each service with its destinations as `ADDR FWD WEIGHT`, order-free. */
  view(): Record<string, string[]> {
    const v: Record<string, string[]> = {};
    for (const s of this.table.services) {
      v[`${s.protocol} ${s.address} ${s.scheduler}${s.persistentSec !== undefined ? ` persistent ${s.persistentSec}` : ''}`] =
        s.destinations.map((d) => `${d.address} ${d.forward} ${d.weight}`).sort();
    }
    return v;
  }
}

const TUTORIAL = `checktimeout=3
checkinterval=2
quiescent=yes
virtual=127.0.2.219:80
\treal=127.0.2.221:80 gate 100
\treal=127.0.2.223:80 gate 300
\tfallback=127.0.0.1:80 gate
\tservice=http
\trequest=".ldirectord.html"
\treceive="GOOD"
\tscheduler=wlc
`;

describe('director: start without the flap (spec §6.1, fixed)', () => {
  it('puts the service in, and neither a real nor the fallback before the first checks', () => {
    const b = new Bench(TUTORIAL);
    expect(b.start()).toEqual(['-A -t 127.0.2.219:80 -s wlc']);
    expect(b.fallbackRuns).toEqual([]);
    expect(b.log).toEqual(['Added virtual server: 127.0.2.219:80']);
  });

  it('reals down at their first check end at weight 0 with the fallback in: the golden start-all-down table', () => {
    const b = new Bench(TUTORIAL);
    b.start();
    expect(b.check('127.0.2.221:80', false)).toEqual(['-a -t 127.0.2.219:80 -r 127.0.2.221:80 -g -w 0']);
    // The last undecided real is down: now the fallback goes in.
    expect(b.check('127.0.2.223:80', false)).toEqual([
      '-a -t 127.0.2.219:80 -r 127.0.2.223:80 -g -w 0',
      '-a -t 127.0.2.219:80 -x 0 -y 0 -r 127.0.0.1:80 -g -w 1',
    ]);
    expect(b.log).toContain('Added fallback server: 127.0.0.1:80 (127.0.2.219:80) (Weight set to 1)');
    expect(b.view()).toEqual({ 'TCP 127.0.2.219:80 wlc': ['127.0.0.1:80 gate 1', '127.0.2.221:80 gate 0', '127.0.2.223:80 gate 0'] });
    // Failing again changes nothing.
    expect(b.check('127.0.2.221:80', false)).toEqual([]);
    // The first real up restores its weight and takes the fallback out; the second only restores.
    expect(b.check('127.0.2.221:80', true)).toEqual([
      '-e -t 127.0.2.219:80 -x 0 -y 0 -r 127.0.2.221:80 -g -w 100',
      '-d -t 127.0.2.219:80 -r 127.0.0.1:80',
    ]);
    expect(b.check('127.0.2.223:80', true)).toEqual(['-e -t 127.0.2.219:80 -x 0 -y 0 -r 127.0.2.223:80 -g -w 300']);
    expect(b.view()).toEqual({ 'TCP 127.0.2.219:80 wlc': ['127.0.2.221:80 gate 100', '127.0.2.223:80 gate 300'] });
    expect(b.stop()).toEqual([
      '-d -t 127.0.2.219:80 -r 127.0.2.221:80',
      '-d -t 127.0.2.219:80 -r 127.0.2.223:80',
      '-D -t 127.0.2.219:80',
    ]);
    expect(b.table.services).toEqual([]);
  });

  it('reals up at their first check get their full weight once; no real ever passes through weight 0 or back', () => {
    const b = new Bench(TUTORIAL);
    b.start();
    expect(b.check('127.0.2.221:80', true)).toEqual(['-a -t 127.0.2.219:80 -x 0 -y 0 -r 127.0.2.221:80 -g -w 100']);
    expect(b.check('127.0.2.223:80', true)).toEqual(['-a -t 127.0.2.219:80 -x 0 -y 0 -r 127.0.2.223:80 -g -w 300']);
    expect(b.log.some((l) => l.includes('fallback'))).toBe(false);
    expect(b.log.filter((l) => l.startsWith('Resetting'))).toEqual([]);
  });

  it('a restart finds reals already serving and leaves them alone; strangers are purged', () => {
    const first = new Bench(TUTORIAL);
    first.start();
    first.check('127.0.2.221:80', true);
    first.check('127.0.2.223:80', false);
    let table = first.table;
    table = applyIpvsCommand(table, { op: 'add-real', service: { protocol: 'TCP', address: '127.0.2.219:80' }, real: { address: '127.0.2.250:80', forward: 'gate', weight: 5 } });
    const b = new Bench(TUTORIAL, table);
    expect(b.start()).toEqual(['-d -t 127.0.2.219:80 -r 127.0.2.250:80']);
    expect(b.log).toContain('Purged real server (start): 127.0.2.250:80 (127.0.2.219:80)');
    expect(b.director.realUp(b.director.configuration.virtuals[0]!, b.director.configuration.virtuals[0]!.reals[0]!)).toBe(true);
    expect(b.director.realUp(b.director.configuration.virtuals[0]!, b.director.configuration.virtuals[0]!.reals[1]!)).toBe(false);
  });
});

describe('director: failures (spec §6.2)', () => {
  const CONNECT = `checktimeout=2
checkinterval=1
failurecount=3
quiescent=no
cleanstop=no
virtual=127.0.4.219:8080
\treal=127.0.4.221:8080 masq 2
\treal=127.0.4.223:8080 masq 3
\tscheduler=rr
\tchecktype=connect
`;

  it('soft failures up to failurecount, then removal (quiescent=no); success resets the count', () => {
    const b = new Bench(CONNECT);
    b.start();
    b.check('127.0.4.221:8080', true);
    b.check('127.0.4.223:8080', true);
    expect(b.check('127.0.4.221:8080', false)).toEqual([]);
    expect(b.check('127.0.4.221:8080', true)).toEqual([]);
    expect(b.check('127.0.4.221:8080', false)).toEqual([]);
    expect(b.check('127.0.4.221:8080', false)).toEqual([]);
    expect(b.check('127.0.4.221:8080', false)).toEqual(['-d -t 127.0.4.219:8080 -r 127.0.4.221:8080']);
    expect(b.log.filter((l) => l.startsWith('Soft failure'))).toEqual([
      'Soft failure real server: 127.0.4.221:8080 (tcp:127.0.4.219:8080) failure 1/3',
      'Soft failure real server: 127.0.4.221:8080 (tcp:127.0.4.219:8080) failure 1/3',
      'Soft failure real server: 127.0.4.221:8080 (tcp:127.0.4.219:8080) failure 2/3',
    ]);
    expect(b.check('127.0.4.221:8080', true)).toEqual(['-a -t 127.0.4.219:8080 -x 0 -y 0 -r 127.0.4.221:8080 -m -w 2']);
    expect(b.view()).toEqual({ 'TCP 127.0.4.219:8080 rr': ['127.0.4.221:8080 masq 2', '127.0.4.223:8080 masq 3'] });
    // cleanstop=no: the table is left as it is.
    expect(b.stop()).toEqual([]);
  });

  it('fallbackcommand runs on changes only: start when the last real goes, stop when one returns', () => {
    const b = new Bench(`fallbackcommand="/x/fb.sh"\nvirtual=127.0.5.1:81\n\treal=127.0.5.2:81 masq\n\tchecktype=connect\n`);
    b.start();
    expect(b.fallbackRuns).toEqual([]);
    b.check('127.0.5.2:81', true);
    b.check('127.0.5.2:81', true);
    expect(b.fallbackRuns).toEqual([]);
    b.check('127.0.5.2:81', false);
    b.check('127.0.5.2:81', false);
    b.check('127.0.5.2:81', true);
    expect(b.fallbackRuns).toEqual(['start 127.0.5.1:81 tcp', 'stop 127.0.5.1:81 tcp']);
    const down = new Bench(`fallbackcommand="/x/fb.sh"\nvirtual=127.0.5.1:81\n\treal=127.0.5.2:81 masq\n\tchecktype=connect\n`);
    down.start();
    down.check('127.0.5.2:81', false);
    expect(down.fallbackRuns).toEqual(['start 127.0.5.1:81 tcp']);
  });

  it('a port-mapped gate real recovers from quiescence (the original re-adds it and fails, §6.7)', () => {
    const b = new Bench(`quiescent=yes\nvirtual=127.0.6.1:80\n\treal=127.0.6.2:8080 gate 7\n\tchecktype=connect\n`);
    b.start();
    expect(b.check('127.0.6.2:8080', true)).toEqual(['-a -t 127.0.6.1:80 -x 0 -y 0 -r 127.0.6.2:8080 -g -w 7']);
    expect(b.view()).toEqual({ 'TCP 127.0.6.1:80 wrr': ['127.0.6.2:80 gate 7'] });
    expect(b.check('127.0.6.2:8080', false)).toEqual(['-e -t 127.0.6.1:80 -r 127.0.6.2:80 -g -w 0']);
    expect(b.log.at(-1)).toBe('Quiescent real server: 127.0.6.2:8080 (127.0.6.1:80) mapped from 127.0.6.2:80 (Weight set to 0)');
    expect(b.check('127.0.6.2:8080', true)).toEqual(['-e -t 127.0.6.1:80 -x 0 -y 0 -r 127.0.6.2:80 -g -w 7']);
    expect(b.view()).toEqual({ 'TCP 127.0.6.1:80 wrr': ['127.0.6.2:80 gate 7'] });
    // And it is found at stop (the original's -d with the configured port fails).
    expect(b.stop()).toEqual(['-d -t 127.0.6.1:80 -r 127.0.6.2:80', '-D -t 127.0.6.1:80']);
  });

  it('one check of a real shared by two virtuals updates both (spec §6.3)', () => {
    const b = new Bench(`virtual=127.0.7.1:80\n\treal=127.0.7.9:80 masq\n\tchecktype=connect\nvirtual=127.0.7.2:80\n\treal=127.0.7.9:80 masq\n\tchecktype=connect\n`);
    b.start();
    expect(b.director.checkTargets()).toHaveLength(1);
    expect(b.check('127.0.7.9:80', true)).toEqual([
      '-a -t 127.0.7.1:80 -x 0 -y 0 -r 127.0.7.9:80 -m -w 1',
      '-a -t 127.0.7.2:80 -x 0 -y 0 -r 127.0.7.9:80 -m -w 1',
    ]);
  });

  it('checktype on/off need no checks: on is in at start, off serves its fallback', () => {
    const b = new Bench(`quiescent=no\nvirtual=127.0.8.1:25\n\treal=127.0.8.2:25 masq 4\n\tchecktype=on\nvirtual=127.0.8.1:26\n\treal=127.0.8.3:26 masq\n\tfallback=127.0.0.1:26 masq\n\tchecktype=off\n`);
    expect(b.start()).toEqual([
      '-A -t 127.0.8.1:25 -s wrr',
      '-a -t 127.0.8.1:25 -x 0 -y 0 -r 127.0.8.2:25 -m -w 4',
      '-A -t 127.0.8.1:26 -s wrr',
      '-a -t 127.0.8.1:26 -x 0 -y 0 -r 127.0.0.1:26 -m -w 1',
    ]);
    expect(b.director.checkTargets()).toEqual([]);
  });
});

describe('director: reload is a diff (spec §6.5, fixed)', () => {
  it('keeps states: no command for unchanged reals, -e for a weight change, quiescent stays at 0, new reals wait for their check', () => {
    const b = new Bench(TUTORIAL);
    b.start();
    b.check('127.0.2.221:80', true);
    b.check('127.0.2.223:80', false);
    expect(b.reload(TUTORIAL)).toEqual([]);
    const changed = TUTORIAL.replace('127.0.2.221:80 gate 100', '127.0.2.221:80 gate 150') + '\treal=127.0.2.224:80 gate 5\n';
    expect(b.reload(changed)).toEqual(['-e -t 127.0.2.219:80 -x 0 -y 0 -r 127.0.2.221:80 -g -w 150']);
    expect(b.view()).toEqual({ 'TCP 127.0.2.219:80 wlc': ['127.0.2.221:80 gate 150', '127.0.2.223:80 gate 0'] });
    expect(b.check('127.0.2.224:80', true)).toEqual(['-a -t 127.0.2.219:80 -x 0 -y 0 -r 127.0.2.224:80 -g -w 5']);
  });

  it('removed reals and virtuals are purged, new virtuals added; the scheduler change is one -E', () => {
    const b = new Bench(TUTORIAL);
    b.start();
    b.check('127.0.2.221:80', true);
    b.check('127.0.2.223:80', true);
    const next = TUTORIAL.replace('\treal=127.0.2.223:80 gate 300\n', '').replace('scheduler=wlc', 'scheduler=rr') +
      'virtual=127.0.2.230:81\n\treal=127.0.2.231:81 masq\n\tchecktype=connect\n';
    expect(b.reload(next)).toEqual([
      '-E -t 127.0.2.219:80 -s rr',
      '-d -t 127.0.2.219:80 -r 127.0.2.223:80',
      '-A -t 127.0.2.230:81 -s wrr',
    ]);
    expect(b.reload(TUTORIAL.replace('127.0.2.219:80', '127.0.2.218:80'))).toEqual([
      '-A -t 127.0.2.218:80 -s wlc',
      '-D -t 127.0.2.219:80',
      '-D -t 127.0.2.230:81',
    ]);
  });

  it('removing persistence rebuilds the service (ipvsadm -E cannot clear it)', () => {
    const withP = TUTORIAL.replace('\tscheduler=wlc\n', '\tscheduler=wlc\n\tpersistent=600\n');
    const b = new Bench(withP);
    b.start();
    b.check('127.0.2.221:80', true);
    expect(Object.keys(b.view())).toEqual(['TCP 127.0.2.219:80 wlc persistent 600']);
    expect(b.reload(TUTORIAL)).toEqual([
      '-D -t 127.0.2.219:80',
      '-A -t 127.0.2.219:80 -s wlc',
      '-a -t 127.0.2.219:80 -x 0 -y 0 -r 127.0.2.221:80 -g -w 100',
    ]);
    expect(b.view()).toEqual({ 'TCP 127.0.2.219:80 wlc': ['127.0.2.221:80 gate 100'] });
  });
});

describe('ipvs listing', () => {
  it('parses what it prints, and merges thresholds', () => {
    let t: IpvsTable = EMPTY_TABLE;
    t = applyIpvsCommand(t, { op: 'add-service', service: { protocol: 'TCP', address: '10.0.0.1:80' }, options: { scheduler: 'wlc', persistentSec: 600, netmask: '255.255.255.0', ops: false } });
    t = applyIpvsCommand(t, { op: 'add-service', service: { protocol: 'UDP', address: '10.0.0.1:53' }, options: { scheduler: 'rr', ops: true } });
    t = applyIpvsCommand(t, { op: 'add-service', service: { protocol: 'FWM', address: '7' }, options: { scheduler: 'sh', ops: false, schedFlags: 'sh-port' } });
    t = applyIpvsCommand(t, { op: 'add-real', service: { protocol: 'TCP', address: '10.0.0.1:80' }, real: { address: '10.0.0.2:80', forward: 'masq', weight: 3, thresholds: { upper: 100, lower: 10 } } });
    t = applyIpvsCommand(t, { op: 'add-real', service: { protocol: 'FWM', address: '7' }, real: { address: '10.0.0.3:0', forward: 'ipip', weight: 0 } });
    const listing = formatIpvsListing(t);
    expect(listing).toContain('TCP  10.0.0.1:80 wlc persistent 600 mask 255.255.255.0\n');
    const thresholds = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port            Uthreshold Lthreshold ActiveConn InActConn
TCP  10.0.0.1:80 wlc persistent 600 mask 255.255.255.0
  -> 10.0.0.2:80                  100        10         0          0
`;
    expect(parseIpvsListing(listing, thresholds)).toEqual(t);
  });
});
