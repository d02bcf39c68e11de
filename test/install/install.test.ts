/**
 * scripts/install.sh into a temporary DESTDIR: the layout, the installed
 * commands running from there, the systemd units (systemd-analyze verify),
 * and the installed init scripts run for real against our daemons inside a
 * private mount, network and UTS namespace where /usr/local, /etc/ha.d,
 * /etc/default, /run and /var/lib/heartbeat are the test's own folders.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync,
  rmSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, itWithTools } from '../helpers/env.js';

let work: string;
let dest: string;
let installOut: string;

function install(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(path.join(REPO_ROOT, 'scripts/install.sh'), args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const at = (p: string): string => path.join(dest, p);

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'hbts-install-'));
  dest = path.join(work, 'dest');
  const r = install(['--destdir', dest]);
  installOut = r.stdout + r.stderr;
  if (r.status !== 0) throw new Error(`install.sh failed (${r.status}):\n${installOut}`);
}, 90_000);

afterAll(() => {
  // Daemons the namespace script started and could not stop (it records them).
  const pids = path.join(work, 'pids');
  if (existsSync(pids)) {
    for (const p of readFileSync(pids, 'utf8').split(/\s+/).filter(Boolean)) {
      try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ }
    }
  }
  if (!process.env.HBTS_KEEP_TEST_DIR) rmSync(work, { recursive: true, force: true });
});

describe('scripts/install.sh', () => {
  it('installs the package, the command links, the classic paths, resource.d, man pages, init scripts, units and samples', () => {
    const pkg = at('usr/local/lib/heartbeat-ts');
    for (const f of ['bin/heartbeat', 'dist/bin/heartbeat.js', 'resource.d/IPaddr2', 'resource.d/hbts-funcs', 'etc/ha.d/shellfuncs',
      'node_modules/commander/package.json', 'node_modules/pino/package.json', 'package.json']) {
      expect(existsSync(path.join(pkg, f)), f).toBe(true);
    }
    // Only the run-time dependencies are copied.
    expect(existsSync(path.join(pkg, 'node_modules/vitest'))).toBe(false);
    expect(existsSync(path.join(pkg, 'node_modules/typescript'))).toBe(false);

    // Relative links, so the tree works both under DESTDIR and once in place.
    const links: Record<string, string> = {
      'usr/local/sbin/heartbeat': 'bin/heartbeat',
      'usr/local/sbin/ldirectord': 'bin/ldirectord',
      'usr/local/sbin/drbdadm': 'bin/drbdadm',
      'usr/local/sbin/drbdd': 'bin/drbdd',
      'usr/local/sbin/stonith': 'bin/stonith',
      'usr/local/sbin/meatclient': 'bin/meatclient',
      'usr/local/sbin/drbd-overview': 'bin/drbd-overview',
      'usr/local/bin/hb-demo': 'bin/hb-demo',
      'usr/local/bin/cl_status': 'bin/cl_status',
      'usr/share/heartbeat/hb_standby': 'bin/hb_standby',
      'usr/share/heartbeat/hb_takeover': 'bin/hb_takeover',
      'usr/lib/heartbeat/heartbeat': 'bin/heartbeat',
      'usr/lib/heartbeat/ipfail': 'bin/ipfail',
      'usr/libexec/heartbeat/heartbeat': 'bin/heartbeat',
      'etc/ha.d/resource.d/IPaddr2': 'resource.d/IPaddr2',
      'etc/ha.d/resource.d/drbddisk': 'resource.d/drbddisk',
      'etc/ha.d/resource.d/ldirectord': 'resource.d/ldirectord',
      'etc/ha.d/resource.d/hto-mapfuncs': 'resource.d/hto-mapfuncs',
      'etc/ha.d/shellfuncs': 'etc/ha.d/shellfuncs',
    };
    for (const [l, target] of Object.entries(links)) {
      expect(lstatSync(at(l)).isSymbolicLink(), l).toBe(true);
      expect(readlinkSync(at(l)).startsWith('/'), `${l} is relative`).toBe(false);
      expect(realpathSync(at(l)), l).toBe(realpathSync(path.join(pkg, target)));
    }
    // hbts-funcs stays in the package: the scripts find it through their real path.
    expect(existsSync(at('etc/ha.d/resource.d/hbts-funcs'))).toBe(false);

    for (const m of ['man8/heartbeat.8', 'man5/ha.cf.5', 'man1/cl_status.1', 'man8/drbdadm.8', 'man8/ldirectord.8', 'man7/resource.d.7']) {
      expect(existsSync(at(`usr/local/share/man/${m}`)), m).toBe(true);
    }

    for (const s of ['heartbeat', 'ldirectord', 'drbd']) {
      const text = readFileSync(at(`etc/init.d/${s}`), 'utf8');
      expect(text).toContain('HBTS_LIBDIR=/usr/local/lib/heartbeat-ts\n');
      expect(text).toContain('### BEGIN INIT INFO');
      expect(text).toContain(`# Provides:          ${s}`);
      expect(lstatSync(at(`etc/init.d/${s}`)).mode & 0o777).toBe(0o755);
      const unit = readFileSync(at(`usr/local/lib/systemd/system/${s}.service`), 'utf8');
      expect(unit).not.toContain('@SBINDIR@');
      expect(existsSync(at(`etc/default/${s}`))).toBe(true);
    }
    expect(readFileSync(at('usr/local/lib/systemd/system/heartbeat.service'), 'utf8')).toMatch(/^ExecStart=\/usr\/local\/sbin\/heartbeat -f$/m);

    // Samples where none were; never authkeys (it holds the cluster's secret).
    for (const f of ['etc/ha.d/ha.cf', 'etc/ha.d/haresources', 'etc/ha.d/ldirectord.cf', 'etc/drbd.conf', 'etc/drbd.d/r0.res']) {
      expect(existsSync(at(f)), f).toBe(true);
    }
    expect(existsSync(at('etc/ha.d/authkeys'))).toBe(false);
    expect(installOut).toContain('installed sample /etc/ha.d/ha.cf');
  });

  it('runs the installed commands from DESTDIR', () => {
    // heartbeat --check on the installed samples (with an authkeys of ours).
    const ha = path.join(work, 'ha.d-check');
    mkdirSync(ha);
    for (const f of ['ha.cf', 'haresources']) writeFileSync(path.join(ha, f), readFileSync(at(`etc/ha.d/${f}`)));
    writeFileSync(path.join(ha, 'authkeys'), 'auth 1\n1 sha1 a-secret-of-this-test\n');
    chmodSync(path.join(ha, 'authkeys'), 0o600);
    const check = run(at('usr/local/sbin/heartbeat'), ['--check', '--confdir', ha]);
    expect(check.stderr).toContain('haresources:10: warning: cannot locate resource script apache2');
    expect(check.stderr).not.toContain('a-secret-of-this-test');
    // The sample names nodes alpha and beta; on another machine that is a warning, not an error.
    expect(check.status).toBe(0);

    const cl = run(at('usr/local/bin/cl_status'), []);
    expect(cl.status).toBe(0);
    expect(cl.stdout).toMatch(/^Usage: cl_status <sub-command>/);
    const ld = run(at('usr/local/sbin/ldirectord'), ['-t', at('etc/ha.d/ldirectord.cf')]);
    expect(ld.status).toBe(0);
    const dump = run(at('usr/local/sbin/drbdadm'), ['-c', at('etc/drbd.conf'), '--hostname', 'alpha', 'sh-resources']);
    expect(dump).toMatchObject({ status: 0, stdout: 'r0\n' });
    const sb = run(at('usr/share/heartbeat/hb_standby'), ['bogus']);
    expect(sb.status).toBe(1);
    expect(sb.stdout).toContain('wrong resources(bogus).');
  });

  it('keeps files that are not ours unless --force, and keeps the old one as FILE.hbts-orig', () => {
    const d2 = path.join(work, 'dest2');
    mkdirSync(path.join(d2, 'etc/ha.d/resource.d'), { recursive: true });
    mkdirSync(path.join(d2, 'etc/init.d'), { recursive: true });
    writeFileSync(path.join(d2, 'etc/ha.d/resource.d/IPaddr'), '#!/bin/sh\n# stock IPaddr\n');
    writeFileSync(path.join(d2, 'etc/ha.d/resource.d/MyService'), '#!/bin/sh\n# an admin script\n');
    writeFileSync(path.join(d2, 'etc/init.d/heartbeat'), '#!/bin/sh\n# the stock init script\n');
    writeFileSync(path.join(d2, 'etc/ha.d/ha.cf'), 'node mine\n');
    const first = install(['--destdir', d2]);
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('kept /etc/ha.d/resource.d/IPaddr (not ours; --force replaces it)');
    expect(first.stdout).toContain('kept /etc/init.d/heartbeat (not ours; --force replaces it)');
    expect(readFileSync(path.join(d2, 'etc/ha.d/resource.d/IPaddr'), 'utf8')).toContain('stock IPaddr');
    expect(readFileSync(path.join(d2, 'etc/ha.d/ha.cf'), 'utf8')).toBe('node mine\n');
    expect(lstatSync(path.join(d2, 'etc/ha.d/resource.d/IPaddr2')).isSymbolicLink()).toBe(true);

    // A second run replaces its own files silently.
    const again = install(['--destdir', d2]);
    expect(again.status).toBe(0);
    expect(again.stdout).not.toContain('IPaddr2');

    const forced = install(['--destdir', d2, '--force']);
    expect(forced.status).toBe(0);
    expect(forced.stdout).toContain('replaced /etc/ha.d/resource.d/IPaddr (the old one is /etc/ha.d/resource.d/IPaddr.hbts-orig)');
    expect(lstatSync(path.join(d2, 'etc/ha.d/resource.d/IPaddr')).isSymbolicLink()).toBe(true);
    expect(readFileSync(path.join(d2, 'etc/ha.d/resource.d/IPaddr.hbts-orig'), 'utf8')).toContain('stock IPaddr');
    expect(readFileSync(path.join(d2, 'etc/init.d/heartbeat'), 'utf8')).toContain('HBTS_LIBDIR=/usr/local/lib/heartbeat-ts');
    // Admin files without a namesake of ours and configs are never touched.
    expect(readFileSync(path.join(d2, 'etc/ha.d/resource.d/MyService'), 'utf8')).toContain('an admin script');
    expect(readFileSync(path.join(d2, 'etc/ha.d/ha.cf'), 'utf8')).toBe('node mine\n');

    // --link: the package is this checkout; --prefix and --sysconfdir move everything.
    const d3 = path.join(work, 'dest3');
    const linked = install(['--destdir', d3, '--link', '--prefix', '/opt/hbts', '--sysconfdir', '/etc/hbts']);
    expect(linked.status, linked.stdout + linked.stderr).toBe(0);
    expect(readlinkSync(path.join(d3, 'opt/hbts/lib/heartbeat-ts'))).toBe(realpathSync(REPO_ROOT));
    expect(readlinkSync(path.join(d3, 'opt/hbts/sbin/heartbeat'))).toBe('../lib/heartbeat-ts/bin/heartbeat');
    expect(readlinkSync(path.join(d3, 'usr/share/heartbeat/hb_standby'))).toBe('../../../opt/hbts/lib/heartbeat-ts/bin/hb_standby');
    expect(readlinkSync(path.join(d3, 'etc/hbts/ha.d/resource.d/IPaddr'))).toBe('../../../../opt/hbts/lib/heartbeat-ts/resource.d/IPaddr');
    expect(readFileSync(path.join(d3, 'etc/hbts/init.d/heartbeat'), 'utf8')).toContain('HBTS_LIBDIR=/opt/hbts/lib/heartbeat-ts\n');
    expect(readFileSync(path.join(d3, 'opt/hbts/lib/systemd/system/drbd.service'), 'utf8')).toMatch(/^ExecStart=\/opt\/hbts\/sbin\/drbdadm up all$/m);
    expect(run(path.join(d3, 'opt/hbts/sbin/drbdadm'), ['-c', path.join(REPO_ROOT, 'etc/drbd.conf'), '--hostname', 'alpha', 'sh-resources']).stdout).toBe('r0\n');

    expect(install(['--prefix', 'relative']).status).toBe(2);
    expect(install(['--bogus']).status).toBe(2);
  }, 120_000);

  itWithTools(['shellcheck'], 'the init scripts and install.sh are POSIX sh without shellcheck warnings', () => {
    const files = ['etc/init.d/heartbeat', 'etc/init.d/ldirectord', 'etc/init.d/drbd', 'scripts/install.sh'].map((f) => path.join(REPO_ROOT, f));
    // SC1090/SC1091: sourced files (/etc/default/NAME, shellfuncs) are not given to shellcheck.
    const r = spawnSync('shellcheck', ['-s', 'sh', '-S', 'warning', '-e', 'SC1090,SC1091', ...files], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const f of files) expect(readFileSync(f, 'utf8').startsWith('#!/bin/sh\n'), f).toBe(true);
  });

  itWithTools(['systemd-analyze'], 'the systemd units pass systemd-analyze verify', () => {
    const units = path.join(work, 'units');
    mkdirSync(units);
    const sbin = at('usr/local/sbin');
    for (const u of readdirSync(at('usr/local/lib/systemd/system'))) {
      // The unit as installed, its commands pointing into DESTDIR so that verify finds them.
      const text = readFileSync(at(`usr/local/lib/systemd/system/${u}`), 'utf8').replaceAll('/usr/local/sbin', sbin);
      writeFileSync(path.join(units, u), text);
    }
    expect(readdirSync(units).sort()).toEqual(['drbd.service', 'heartbeat.service', 'ldirectord.service']);
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...readdirSync(units).map((u) => path.join(units, u))], { encoding: 'utf8', timeout: 30_000 });
    const ours = r.stderr.split('\n').filter((l) => l.includes(units) || /^(heartbeat|ldirectord|drbd)\.service:/.test(l));
    // The one warning: KillMode=none, which ldirectord's unit keeps on purpose (docs/install.md).
    expect(ours.filter((l) => l !== '' && !l.includes('KillMode=none'))).toEqual([]);
    expect(r.status).toBe(0);
    const heartbeat = readFileSync(path.join(units, 'heartbeat.service'), 'utf8');
    expect(heartbeat).toMatch(/^Type=simple$/m);
    const ldirectord = readFileSync(path.join(units, 'ldirectord.service'), 'utf8');
    expect(ldirectord).toMatch(/^Type=forking$/m);
    expect(ldirectord).toMatch(/^PIDFile=\/run\/ldirectord\.ldirectord\.pid$/m);
    const drbd = readFileSync(path.join(units, 'drbd.service'), 'utf8');
    expect(drbd).toMatch(/^Type=oneshot$/m);
    expect(drbd).toMatch(/^RemainAfterExit=yes$/m);
    expect(drbd).toMatch(/^ExecStart=.*\/drbdadm up all$/m);
    expect(drbd).toMatch(/^ExecStop=.*\/drbdadm down all$/m);
  }, 60_000);
});

/** Output sections of the namespace script: `=== NAME rc=N` then the lines. */
function sections(out: string): Map<string, { rc: number; text: string }> {
  const m = new Map<string, { rc: number; text: string }>();
  const parts = out.split(/^=== /m).slice(1);
  for (const p of parts) {
    const nl = p.indexOf('\n');
    const head = /^(\S+) rc=(\d+)$/.exec(p.slice(0, nl));
    if (head) m.set(head[1]!, { rc: Number(head[2]), text: p.slice(nl + 1) });
  }
  return m;
}

describe('the installed init scripts, for real in a private namespace', () => {
  itWithTools(['unshare', 'ip', 'ss', 'mount'], 'heartbeat start/status/standby/stop, ldirectord start/status/stop, drbd status and a dry run', () => {
    expect(process.getuid?.()).toBe(0);
    const etc = path.join(work, 'ns-etc');
    const ha = path.join(etc, 'ha.d');
    const def = path.join(etc, 'default');
    const varlib = path.join(work, 'ns-varlib');
    mkdirSync(varlib);
    // The installed /etc/ha.d (links into the package), with a one-node configuration.
    mkdirSync(etc);
    spawnSync('cp', ['-a', at('etc/ha.d'), etc]);
    spawnSync('cp', ['-a', at('etc/default'), etc]);
    writeFileSync(path.join(ha, 'ha.cf'),
      'logfile /var/lib/heartbeat/ha-log\nlogfacility none\nkeepalive 200ms\ndeadtime 2\nwarntime 1\ninitdead 2\n'
      + 'udpport 694\nucast lo 127.0.0.1\nnode solo\nnode peer\nauto_failback on\ncrm off\n');
    writeFileSync(path.join(ha, 'authkeys'), 'auth 1\n1 sha1 init-script-test\n');
    chmodSync(path.join(ha, 'authkeys'), 0o600);
    // One group, run through the installed /etc/ha.d/resource.d/IPaddr2 (a link into the package).
    writeFileSync(path.join(ha, 'haresources'), 'solo IPaddr2::10.9.0.50/24/hb0\n');
    writeFileSync(path.join(ha, 'ldirectord.cf'),
      'backend=userspace\ncheckinterval=1\nchecktimeout=1\nquiescent=no\n'
      + 'virtual=127.0.0.1:8080\n\treal=127.0.0.2:8080 masq 1\n\tchecktype=connect\n');
    writeFileSync(path.join(def, 'ldirectord'), 'CONFIG_FILE=ldirectord.cf\n');
    writeFileSync(path.join(def, 'drbd'), `DRBDADM_OPTS="-d -c ${at('etc/drbd.conf')} --hostname alpha"\n`);
    const pids = path.join(work, 'pids');

    const script = `
set -u
D=${dest}
mount -t tmpfs tmpfs /run
mkdir -p /run/lock
mount --bind $D/usr/local /usr/local
mount --bind ${ha} /etc/ha.d
mount --bind ${def} /etc/default
mkdir -p /var/lib/heartbeat
mount --bind ${varlib} /var/lib/heartbeat
ip link set lo up
ip link add hb0 type veth peer name hb1 && ip addr add 10.9.0.1/24 dev hb0 && ip link set hb1 up && ip link set hb0 up
hostname solo
cleanup() {
  [ -f /run/heartbeat.pid ] && cat /run/heartbeat.pid >>${pids}
  [ -f /run/ldirectord.ldirectord.cf.pid ] && cat /run/ldirectord.ldirectord.cf.pid >>${pids}
  $D/etc/init.d/heartbeat stop >/dev/null 2>&1
  $D/etc/init.d/ldirectord stop >/dev/null 2>&1
}
trap cleanup EXIT
step() { name=$1; shift; "$@" >/run/step.out 2>&1; rc=$?; echo "=== $name rc=$rc"; cat /run/step.out; echo "$name $(date +%s.%N)" >>${work}/times; }
step hb-status-before $D/etc/init.d/heartbeat status
step hb-start $D/etc/init.d/heartbeat start
cat /run/heartbeat.pid >>${pids} 2>/dev/null
step hb-status $D/etc/init.d/heartbeat status
step hb-lock ls /run/lock/subsys
i=0; while [ ! -S /run/heartbeat/register ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
i=0; while ! ip -4 addr show hb0 | grep -q 10.9.0.50 && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done
step hb-group sh -c "ip -4 -o addr show hb0 | grep -o '10.9.0.50/24'"
step hb-restart env HBTS_RESTART_EXTRA_WAIT=0 $D/etc/init.d/heartbeat restart
cat /run/heartbeat.pid >>${pids} 2>/dev/null
step hb-status-restarted $D/etc/init.d/heartbeat status
i=0; while [ ! -S /run/heartbeat/register ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
step hb-standby $D/etc/init.d/heartbeat standby
step hb-reload $D/etc/init.d/heartbeat reload
step hb-bad $D/etc/init.d/heartbeat bogus
step hb-stop $D/etc/init.d/heartbeat stop
step hb-status-after $D/etc/init.d/heartbeat status
step hb-group-after sh -c "ip -4 -o addr show hb0 | grep -c '10.9.0.50/24'"
step hb-lock-after ls /run/lock/subsys
step ld-start $D/etc/init.d/ldirectord start
cat /run/ldirectord.ldirectord.cf.pid >>${pids} 2>/dev/null
step ld-status $D/etc/init.d/ldirectord status
i=0; while ! ss -ltn | grep -q '127.0.0.1:8080 ' && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
step ld-listen sh -c "ss -ltn | grep '127.0.0.1:8080 '"
step ld-stop $D/etc/init.d/ldirectord stop
i=0; while [ -f /run/ldirectord.ldirectord.cf.pid ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
step ld-status-after $D/etc/init.d/ldirectord status
step ld-bad $D/etc/init.d/ldirectord bogus
step drbd-status $D/etc/init.d/drbd status
step drbd-start $D/etc/init.d/drbd start
step drbd-stop $D/etc/init.d/drbd stop
# What the systemd units run (ExecStart/ExecReload/ExecStop), through the installed sbin links.
step unit-ld-start /usr/local/sbin/ldirectord start
cat /run/ldirectord.ldirectord.pid >>${pids} 2>/dev/null
step unit-ld-pid sh -c 'p=$(tr -d " \\n" </run/ldirectord.ldirectord.pid) && kill -0 $p && tr "\\0" " " </proc/$p/cmdline | grep -q ldirectord && echo live'
step unit-ld-reload /usr/local/sbin/ldirectord reload
step unit-ld-stop /usr/local/sbin/ldirectord stop
i=0; while [ -f /run/ldirectord.ldirectord.pid ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
step unit-ld-gone sh -c '! test -e /run/ldirectord.ldirectord.pid'
/usr/local/sbin/heartbeat -f >/run/hbfg.log 2>&1 &
fg=$!
echo $fg >>${pids}
i=0; while ! /usr/local/sbin/heartbeat -s >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
step unit-hb-status sh -c "/usr/local/sbin/heartbeat -s | grep -c 'pid $fg et al'"
step unit-hb-stop /usr/local/sbin/heartbeat -k
wait $fg
echo "=== unit-hb-exit rc=$?"
step unit-hb-log grep -c 'info: Configuration validated. Starting heartbeat 3.0.6' /run/hbfg.log
mv /etc/ha.d/ha.cf /etc/ha.d/ha.cf.away
step hb-unconfigured $D/etc/init.d/heartbeat start
echo "=== end rc=0"
`;
    const file = path.join(work, 'ns.sh');
    writeFileSync(file, script);
    const r = spawnSync('unshare', ['--mount', '--net', '--uts', '--propagation', 'private', 'sh', file], { encoding: 'utf8', timeout: 120_000 });
    const out = r.stdout + r.stderr;
    const s = sections(r.stdout);
    const get = (n: string): { rc: number; text: string } => {
      const v = s.get(n);
      if (!v) throw new Error(`no section ${n} in:\n${out}`);
      return v;
    };
    expect(s.has('end'), out).toBe(true);

    expect(get('hb-status-before')).toEqual({ rc: 3, text: 'heartbeat is stopped. No process\n' });
    expect(get('hb-start')).toEqual({ rc: 0, text: 'Starting High-Availability services: Done.\n\n' });
    const st = get('hb-status');
    expect(st.rc).toBe(0);
    expect(st.text).toMatch(/^heartbeat OK \[pid \d+ et al\] is running on solo \[solo\]\.\.\.\n$/);
    expect(get('hb-lock').text).toBe('heartbeat\n');
    expect(get('hb-group')).toEqual({ rc: 0, text: '10.9.0.50/24\n' });
    const rs = get('hb-restart');
    expect(rs.rc).toBe(0);
    expect(rs.text).toBe('Stopping High-Availability services: Done.\n\nWaiting to allow resource takeover to complete:Done.\n\n'
      + 'Starting High-Availability services: Done.\n\n');
    expect(get('hb-status-restarted').rc).toBe(0);
    // hb_standby's own "Going standby [all]." line may land on stderr (our hb_standby does so when it has no log to write to).
    const sb = get('hb-standby');
    expect(sb.rc).toBe(0);
    expect(sb.text).toMatch(/^auto_failback: on\nAttempting to enter standby mode(.*Going standby \[all\]\.\n)?Done\.\n$/);
    expect(get('hb-reload')).toEqual({ rc: 0, text: 'Reloading High-Availability services: Done.\n\n' });
    expect(get('hb-bad').rc).toBe(1);
    expect(get('hb-bad').text).toMatch(/^Usage: \S+ \{start\|stop\|status\|restart\|reload\|force-reload\}\n$/);
    expect(get('hb-stop')).toEqual({ rc: 0, text: 'Stopping High-Availability services: Done.\n\n' });
    expect(get('hb-status-after')).toEqual({ rc: 3, text: 'heartbeat is stopped. No process\n' });
    expect(get('hb-lock-after').text).toBe('');
    // The group was released at stop.
    expect(get('hb-group-after').text).toBe('0\n');
    expect(readFileSync(path.join(varlib, 'ha-log'), 'utf8')).toMatch(/Running \/etc\/ha\.d\/resource\.d\/IPaddr2 10\.9\.0\.50\/24\/hb0 start/);
    expect(readFileSync(path.join(varlib, 'ha-log'), 'utf8')).toContain('info: solo Heartbeat shutdown complete.');

    const ls = get('ld-start');
    expect(ls.rc, out).toBe(0);
    expect(ls.text).toContain('Running ldirectord: start');
    const lst = get('ld-status');
    expect(lst.rc).toBe(0);
    expect(lst.text).toMatch(/ldirectord for \S*ldirectord\.cf is running with pid: \d+/);
    expect(get('ld-listen').rc).toBe(0);
    expect(get('ld-stop').rc).toBe(0);
    const lsa = get('ld-status-after');
    expect(lsa.rc).toBe(3);
    expect(lsa.text).toContain('ldirectord is stopped for');
    expect(get('ld-bad').rc).toBe(1);
    expect(get('ld-bad').text).toContain('Usage: /etc/init.d/ldirectord {start|stop|restart|try-restart|status|reload|force-reload}');

    expect(get('drbd-status')).toEqual({ rc: 3, text: 'drbd not loaded\n' });
    const ds = get('drbd-start');
    expect(ds.rc, out).toBe(0);
    expect(ds.text).toContain('Starting DRBD resources: [ r0 ]\n');
    expect(ds.text).toContain('drbdd attach 0 /dev/vg0/r0 /dev/vg0/r0 internal');
    expect(ds.text).toContain('drbdd connect r0 ipv4:10.0.0.1:7788 ipv4:10.0.0.2:7788 --protocol=C');
    const dst = get('drbd-stop');
    expect(dst.rc).toBe(0);
    expect(dst.text).toContain('drbdd down r0');

    // systemd: ldirectord.service (Type=forking, PIDFile=/run/ldirectord.ldirectord.pid) ...
    expect(get('unit-ld-start').rc, out).toBe(0);
    expect(get('unit-ld-pid')).toEqual({ rc: 0, text: 'live\n' });
    expect(get('unit-ld-reload').rc).toBe(0);
    expect(get('unit-ld-stop').rc).toBe(0);
    expect(get('unit-ld-gone').rc).toBe(0);
    // ... and heartbeat.service (Type=simple, heartbeat -f; ExecStop heartbeat -k): the
    // foreground process is the daemon, logs on stderr, and exits 0 on -k.
    expect(get('unit-hb-status')).toEqual({ rc: 0, text: '1\n' });
    expect(get('unit-hb-stop').rc).toBe(0);
    expect(get('unit-hb-exit').rc).toBe(0);
    expect(get('unit-hb-log')).toEqual({ rc: 0, text: '1\n' });

    expect(get('hb-unconfigured')).toEqual({ rc: 0, text: 'Heartbeat not configured: /etc/ha.d/ha.cf not found. Heartbeat failure [rc=1]. Failed.\n' });
  }, 150_000);
});
