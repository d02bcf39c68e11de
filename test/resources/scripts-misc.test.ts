// resource.d Delay, MailTo, drbddisk, apache, ldirectord and etc/ha.d/shellfuncs,
// run for real with stub programs (mail, drbdadm, httpd, ldirectord) that
// record how they were called.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { itWithTools } from '../helpers/env.js';
import { RESOURCE_D, SHELLFUNCS, owned, runScript, scriptEnv, waitFor, writeStub } from './script-helpers.js';

const se = scriptEnv('hbts-scripts-misc');
const stubs = path.join(se.dir, 'bin');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  se.cleanup();
});

function timed<T>(fn: () => T): [T, number] {
  const t0 = Date.now();
  const r = fn();
  return [r, Date.now() - t0];
}

describe('Delay', () => {
  it('start sleeps STARTDELAY, stop STOPDELAY, status of a started Delay MONDELAY (like the original); a pseudo resource', () => {
    const env = { ...se.env, HA_DELAY_MONDELAY: '0' };
    // stopped: status answers at once, whatever MONDELAY is
    let [r, ms] = timed(() => runScript('Delay', ['5', '0.2', 'status'], { env: se.env }));
    expect(ms).toBeLessThan(4000);
    expect(r.stdout).toBe('INFO:  Resource is stopped\n');
    [r, ms] = timed(() => runScript('Delay', ['0.4', '0.2', 'status'], { env }));
    expect(r.stdout).toBe('INFO:  Resource is stopped\n');
    expect(r.status).toBe(7);
    [r, ms] = timed(() => runScript('Delay', ['0.4', '0.2', 'start'], { env }));
    expect(r.stdout).toBe('INFO:  Success\n');
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(owned(runScript('Delay', ['0.4', '0.2', 'status'], { env }).stdout)).toBe(true);
    // already running: no second wait
    [r, ms] = timed(() => runScript('Delay', ['0.4', '0.2', 'start'], { env }));
    expect(r.status).toBe(0);
    expect(se.log()).toContain('INFO: Delay already running.');
    // status waits MONDELAY, which defaults to STARTDELAY
    [r, ms] = timed(() => runScript('Delay', ['0.4', '0.2', 'status'], { env: se.env }));
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(r.stdout).toBe('INFO:  Running OK\n');
    [r, ms] = timed(() => runScript('Delay', ['0.4', '0.2', 'stop'], { env }));
    expect(r.status).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(200);
    expect(owned(runScript('Delay', ['0.4', '0.2', 'status'], { env }).stdout)).toBe(false);
    expect(runScript('Delay', ['0.4', '0.2', 'stop'], { env }).status).toBe(0);
    expect(se.log()).toContain('INFO: Delay already stopped.');
  });

  it('bad values and argument counts', () => {
    let r = runScript('Delay', ['soon', 'start'], { env: se.env });
    expect(r.stdout).toBe('ERROR:  Program is not configured\n');
    expect(r.status).toBe(6);
    r = runScript('Delay', ['1', '2', '3', 'start'], { env: se.env });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^usage: \S*Delay \[delay \[stopdelay\]\] /);
  });
});

describe('MailTo', () => {
  const tools = ['readlink', 'sed', 'date', 'uname', 'tr', 'mkdir', 'chmod', 'rm', 'cat', 'id', 'awk', 'grep', 'head'];
  /** A PATH with the basic tools and, optionally, a recording mail stub. */
  function mailEnv(withMail: boolean): NodeJS.ProcessEnv {
    const dir = path.join(se.dir, withMail ? 'mailbin' : 'nomailbin');
    fs.mkdirSync(dir, { recursive: true });
    for (const t of tools) {
      const p = spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
      if (p && !fs.existsSync(path.join(dir, t))) fs.symlinkSync(p, path.join(dir, t));
    }
    if (withMail) writeStub(path.join(dir, 'mail'), `{ printf 'ARGS'; printf ' [%s]' "$@"; echo; cat; echo ---; } >> "${se.dir}/mails"`);
    return { ...se.env, PATH: dir, HA_BIN: dir, HA_SBIN_DIR: dir, HA_NOARCHBIN: dir };
  }

  it('mails on start and stop with the original subjects; status from the state file', () => {
    const env = mailEnv(true);
    const host = os.hostname();
    expect(runScript('MailTo', ['root@example.org,ops@example.org', 'WebGroup', 'status'], { env }).stdout).toBe(
      'stopped\nINFO:  Resource is stopped\n',
    );
    let r = runScript('MailTo', ['root@example.org,ops@example.org', 'WebGroup', 'start'], { env });
    expect(r.stdout).toBe('INFO:  Success\n');
    const mails = fs.readFileSync(path.join(se.dir, 'mails'), 'utf8');
    expect(mails).toMatch(new RegExp(`^ARGS \\[-s\\] \\[WebGroup Takeover in progress at .+ on ${host}\\] \\[root@example.org,ops@example.org\\]\n`));
    expect(mails).toContain('\n\nCommand line was:\n');
    r = runScript('MailTo', ['root@example.org,ops@example.org', 'WebGroup', 'status'], { env });
    expect(r.stdout).toBe('running\nINFO:  Running OK\n');
    expect(owned(r.stdout)).toBe(true);
    expect(runScript('MailTo', ['root@example.org,ops@example.org', 'WebGroup', 'stop'], { env }).status).toBe(0);
    expect(fs.readFileSync(path.join(se.dir, 'mails'), 'utf8')).toMatch(
      new RegExp(`ARGS \\[-s\\] \\[WebGroup Migrating resource away at .+ from ${host}\\] \\[root@example.org,ops@example.org\\]`),
    );
    expect(owned(runScript('MailTo', ['root@example.org', 'status'], { env }).stdout)).toBe(false);
    // a one-letter subject becomes "Resource Group"
    runScript('MailTo', ['root@example.org', 'x', 'start'], { env });
    expect(fs.readFileSync(path.join(se.dir, 'mails'), 'utf8')).toContain('[Resource Group Takeover in progress at ');
    runScript('MailTo', ['root@example.org', 'stop'], { env });
  });

  it('without mail or sendmail: a warning, and start/stop still succeed', () => {
    const env = mailEnv(false);
    expect(runScript('MailTo', ['root@example.org', 'start'], { env }).status).toBe(0);
    expect(se.log()).toContain('WARN: neither mail nor sendmail is installed: no mail to root@example.org');
    expect(runScript('MailTo', ['root@example.org', 'stop'], { env }).status).toBe(0);
  });

  it('argument errors', () => {
    let r = runScript('MailTo', ['start'], { env: se.env });
    expect(r.stdout).toMatch(/^At least 1 Email address has to be given!\nUsage: /);
    expect(r.status).toBe(1);
    r = runScript('MailTo', ['a@b', 'subj', 'extra', 'start'], { env: se.env });
    expect(r.stdout).toMatch(/^Additional parameters found: 4 but max\. 3 are allowed!\n/);
    expect(r.status).toBe(1);
  });
});

describe('drbddisk', () => {
  const d = path.join(se.dir, 'drbd');
  fs.mkdirSync(d, { recursive: true });
  // drbdadm stub: records its arguments; fails "primary"/"secondary" as often
  // as the counter files say; "role" prints the role file.
  const drbdadm = writeStub(
    path.join(d, 'bin', 'drbdadm'),
    `echo "$*" >> "${d}/calls"
for op in primary secondary; do
  if [ "$1" = $op ]; then
    n=$(cat "${d}/fail-$op" 2>/dev/null || echo 0)
    if [ "$n" -gt 0 ]; then echo $((n - 1)) > "${d}/fail-$op"; echo "r0: State change failed: (-12) Device is held open by someone" >&2; exit 11; fi
    exit 0
  fi
done
case $1 in
  role) cat "${d}/role"; exit 0 ;;
  sh-minor) echo 0; exit 0 ;;
esac
exit 20`,
  );
  const env = { ...se.env, PATH: `${path.dirname(drbdadm)}:${process.env.PATH}`, DRBDDISK_DEFAULTFILE: path.join(d, 'none') };
  const calls = () => fs.readFileSync(path.join(d, 'calls'), 'utf8').trim().split('\n');
  const reset = (failPrimary: number, failSecondary: number) => {
    fs.writeFileSync(path.join(d, 'calls'), '');
    fs.writeFileSync(path.join(d, 'fail-primary'), String(failPrimary));
    fs.writeFileSync(path.join(d, 'fail-secondary'), String(failSecondary));
  };

  it('start promotes with drbdadm from PATH, retrying up to 6 times; stop demotes, up to 3 times', () => {
    reset(2, 0);
    let r = runScript('drbddisk', ['r0', 'start'], { env });
    expect(r.status).toBe(0);
    expect(calls()).toEqual(['primary r0', 'primary r0', 'primary r0']);
    reset(100, 0);
    r = runScript('drbddisk', ['r0', 'start'], { env });
    expect(r.status).toBe(1);
    expect(calls()).toEqual(Array(6).fill('primary r0'));
    reset(0, 100);
    r = runScript('drbddisk', ['r0', 'stop'], { env });
    expect(r.status).toBe(1);
    expect(calls()).toEqual(Array(3).fill('secondary r0'));
    reset(0, 0);
    expect(runScript('drbddisk', ['stop'], { env }).status).toBe(0);
    expect(calls()).toEqual(['secondary all']);
  }, 30_000);

  it('status: running (Primary) / stopped (Secondary) from drbdadm role; all → a message heartbeat reads as stopped', () => {
    reset(0, 0);
    fs.writeFileSync(path.join(d, 'role'), 'Primary/Secondary\n');
    let r = runScript('drbddisk', ['r0', 'status'], { env });
    expect(r).toMatchObject({ stdout: 'running (Primary)\n', status: 0 });
    expect(owned(r.stdout)).toBe(true);
    fs.writeFileSync(path.join(d, 'role'), 'Secondary/Primary\n');
    r = runScript('drbddisk', ['r0', 'status'], { env });
    expect(r).toMatchObject({ stdout: 'stopped (Secondary)\n', status: 3 });
    expect(owned(r.stdout)).toBe(false);
    fs.writeFileSync(path.join(d, 'role'), 'Primary\n'); // DRBD 9 style
    expect(runScript('drbddisk', ['r0', 'status'], { env }).stdout).toBe('running (Primary)\n');
    r = runScript('drbddisk', ['status'], { env });
    expect(r).toMatchObject({ stdout: 'A resource name is required for status inquiries.\n', status: 10 });
    expect(owned(r.stdout)).toBe(false);
    // an unusable answer: /proc/drbd decides; without it the resource is unconfigured
    fs.writeFileSync(path.join(d, 'role'), 'garbage\n');
    if (!fs.existsSync('/proc/drbd')) expect(runScript('drbddisk', ['r0', 'status'], { env }).stdout).toBe('stopped (Unconfigured)\n');
    r = runScript('drbddisk', ['r0', 'frob'], { env });
    expect(r).toMatchObject({ stdout: 'Usage: drbddisk [resource] {start|stop|status}\n', status: 1 });
  });
});

describe('apache', () => {
  const d = path.join(se.dir, 'apache');
  fs.mkdirSync(d, { recursive: true });
  // httpd stub: records its arguments, then a background "server" writes the
  // pid file (PidFile from the config or from -c) and leaves on WINCH (or
  // after 60 s, so that a failing test leaves nothing behind for long).
  const httpd = writeStub(
    path.join(d, 'httpd'),
    `echo "$*" >> "${d}/calls"
pidfile=$(awk 'tolower($1) == "pidfile" { print $2 }' "$3")
[ "$4" = -c ] && pidfile=\${5#PidFile }
sh -c 'trap "rm -f \\"$1\\"; exit 0" WINCH; echo $$ > "$1"; i=0; while [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done' server "$pidfile" </dev/null >/dev/null 2>&1 &
exit 0`,
  );
  const conf = path.join(d, 'httpd.conf');
  fs.writeFileSync(conf, `ServerRoot ${d}\nPidFile ${d}/run/httpd.pid\nListen 127.0.0.1:8080\n`);
  fs.mkdirSync(path.join(d, 'run'));
  const env = { ...se.env, HA_APACHE_HTTPD: httpd, HA_VARRUN: d };

  it('start runs HTTPD -DSTATUS -f CONF and waits for its pid; status; graceful stop', async () => {
    let r = runScript('apache', [conf, 'status'], { env });
    expect(r).toMatchObject({ stdout: 'INFO:  Resource is stopped\n', status: 7 });
    r = runScript('apache', [conf, 'start'], { env });
    expect(r).toMatchObject({ stdout: 'INFO:  Success\n', status: 0 });
    expect(fs.readFileSync(path.join(d, 'calls'), 'utf8')).toBe(`-DSTATUS -f ${conf}\n`);
    const pid = Number(fs.readFileSync(path.join(d, 'run', 'httpd.pid'), 'utf8'));
    expect(owned(runScript('apache', [conf, 'status'], { env }).stdout)).toBe(true);
    expect(runScript('apache', [conf, 'start'], { env }).status).toBe(0);
    expect(se.log()).toContain(`INFO: httpd already running (pid ${pid})`);
    expect(fs.readFileSync(path.join(d, 'calls'), 'utf8').split('\n')).toHaveLength(2);
    r = runScript('apache', [conf, 'stop'], { env });
    expect(r.status).toBe(0);
    // gone, or a zombie waiting for init to reap it
    await waitFor('the stub server to leave', () => {
      try {
        return / [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ')'));
      } catch {
        return true;
      }
    });
    expect(owned(runScript('apache', [conf, 'status'], { env }).stdout)).toBe(false);
    expect(runScript('apache', [conf, 'stop'], { env }).status).toBe(0);
  });

  it('a config without PidFile gets one under HA_VARRUN through -c', () => {
    const conf2 = path.join(d, 'nopid.conf');
    fs.writeFileSync(conf2, 'Listen 127.0.0.1:8081\n');
    fs.writeFileSync(path.join(d, 'calls'), '');
    expect(runScript('apache', [conf2, 'start'], { env }).status).toBe(0);
    const pidfile = path.join(d, `httpd-${conf2.replaceAll('/', '_')}.pid`);
    expect(fs.readFileSync(path.join(d, 'calls'), 'utf8')).toBe(`-DSTATUS -f ${conf2} -c PidFile ${pidfile}\n`);
    expect(fs.existsSync(pidfile)).toBe(true);
    expect(runScript('apache', [conf2, 'stop'], { env }).status).toBe(0);
  });

  it('no httpd: rc 5', () => {
    const r = runScript('apache', [conf, 'start'], { env: { ...env, HA_APACHE_HTTPD: path.join(d, 'nonexistent') } });
    expect(r).toMatchObject({ stdout: 'ERROR:  Program is not installed\n', status: 5 });
  });
});

describe('ldirectord', () => {
  it('passes the arguments to ldirectord; status text goes to stdout (the original wrote it to stderr)', () => {
    const stub = writeStub(
      path.join(se.dir, 'ld', 'ldirectord'),
      `echo "$*" >> "${se.dir}/ld/calls"
[ "$2" = status ] && { echo "ldirectord for /etc/ha.d/$1 is running with pid: 4242" >&2; exit 0; }
exit 0`,
    );
    const env = { ...se.env, HA_LDIRECTORD: stub };
    const r = runScript('ldirectord', ['web.cf', 'status'], { env });
    expect(r.stdout).toBe('ldirectord for /etc/ha.d/web.cf is running with pid: 4242\n');
    expect(owned(r.stdout)).toBe(true);
    expect(runScript('ldirectord', ['web.cf', 'start'], { env }).status).toBe(0);
    expect(fs.readFileSync(path.join(se.dir, 'ld', 'calls'), 'utf8')).toBe('web.cf status\nweb.cf start\n');
  });
});

describe('etc/ha.d/shellfuncs', () => {
  function shf(script: string, env: NodeJS.ProcessEnv = {}) {
    const r = spawnSync('sh', ['-c', `. ${SHELLFUNCS}\n${script}`, 'myscript'], {
      encoding: 'utf8',
      env: { ...process.env, HA_LOGFILE: '', HA_DEBUGLOG: '', HA_debug: '', ...env },
      timeout: 10_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('ha_log writes "{tag}:<TAB>{date} {message}" to HA_LOGFILE and HA_DEBUGLOG; ha_debug only with HA_debug', () => {
    const log = path.join(se.dir, 'sf.log');
    const dbg = path.join(se.dir, 'sf.debug');
    shf('ha_log "info: hello world"; ha_debug "debug: hidden"', { HA_LOGFILE: log, HA_DEBUGLOG: dbg });
    expect(fs.readFileSync(log, 'utf8')).toMatch(/^myscript\[\d+\]:\t\d{4}\/\d\d\/\d\d_\d\d:\d\d:\d\d info: hello world\n$/);
    expect(fs.readFileSync(dbg, 'utf8')).toMatch(/^myscript\[\d+\]:\t\S+ info: hello world\n$/);
    shf('ha_debug "debug: shown"', { HA_LOGFILE: log, HA_DEBUGLOG: dbg, HA_debug: '1' });
    expect(fs.readFileSync(dbg, 'utf8')).toMatch(/debug: shown\n$/);
    expect(fs.readFileSync(log, 'utf8')).not.toContain('debug: shown');
    // nowhere to log: stderr
    expect(shf('ha_log "ERROR: oops"').stderr).toMatch(/^myscript\[\d+\]: ERROR: oops\n$/);
  });

  it('ha_log to syslog: logger with the facility and a level taken from the text', () => {
    const bin = path.join(se.dir, 'loggerbin');
    writeStub(path.join(bin, 'logger'), `printf '%s|' "$@" >> "${se.dir}/logger.calls"; echo >> "${se.dir}/logger.calls"`);
    shf('ha_log "ERROR: boom"; ha_log "WARN: hmm"; ha_log "info: fine"; ha_log "plain"', { HA_LOGFACILITY: 'local7', HA_BIN: bin });
    const lines = fs.readFileSync(path.join(se.dir, 'logger.calls'), 'utf8').trim().split('\n');
    expect(lines.map((l) => l.replace(/\[\d+\]/, '[PID]'))).toEqual([
      '-t|myscript[PID]|-p|local7.err|--|ERROR: boom|',
      '-t|myscript[PID]|-p|local7.warning|--|WARN: hmm|',
      '-t|myscript[PID]|-p|local7.info|--|info: fine|',
      '-t|myscript[PID]|-p|local7.notice|--|plain|',
    ]);
    // logfacility none: no syslog
    shf('ha_log "info: quiet"', { HA_LOGFACILITY: 'none', HA_BIN: bin });
    expect(fs.readFileSync(path.join(se.dir, 'logger.calls'), 'utf8').trim().split('\n')).toHaveLength(4);
  });

  it('sets the classic variables (without overriding exported ones) and PATH', () => {
    const r = shf('echo "$HA_DIR|$HA_FUNCS|$HA_RCDIR|$HA_RESOURCEDIR|$HA_FIFO|$HA_RSCTMP|$HA_NOARCHBIN"; echo "$PATH"', {
      HA_DIR: '/etc/ha.d/',
      HA_RSCTMP: '/run/x',
    });
    const [vars, p] = r.stdout.split('\n');
    expect(vars).toBe('/etc/ha.d|/etc/ha.d/shellfuncs|/etc/ha.d/rc.d|/etc/ha.d/resource.d|/var/lib/heartbeat/fifo|/run/x|/usr/share/heartbeat');
    expect(p).toMatch(/^\/usr\/lib\/heartbeat:\/usr\/sbin:\/usr\/share\/heartbeat:/);
  });

  it('ha_parameter reads ha.cf; keepalive/deadtime fallbacks', () => {
    const cf = path.join(se.dir, 'ha.cf');
    fs.writeFileSync(cf, '# comment\nlogfacility   local0  # trailing\nnode a b\n');
    expect(shf('ha_parameter logfacility; ha_parameter node; ha_parameter keepalive; ha_parameter deadtime', { HA_CF: cf }).stdout).toBe(
      'local0\na b\n2\n5\n',
    );
  });

  itWithTools(['mkfifo'], 'ha_clustermsg frames stdin with >>> and <<< into the FIFO', async () => {
    const fifo = path.join(se.dir, 'fifo');
    spawnSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(reader);
    let got = '';
    reader.stdout.on('data', (b: Buffer) => (got += b.toString()));
    const r = shf("printf 't=ip-request\\nipaddr=10.0.0.3\\n' | ha_clustermsg", { HA_FIFO: fifo });
    expect(r.status).toBe(0);
    await waitFor('the message through the FIFO', () => got.includes('<<<'));
    expect(got).toBe('>>>\nt=ip-request\nipaddr=10.0.0.3\n<<<\n');
    // no FIFO: refuses instead of creating a file
    expect(shf('echo t=x | ha_clustermsg', { HA_FIFO: path.join(se.dir, 'nofifo') }).status).toBe(1);
    expect(fs.existsSync(path.join(se.dir, 'nofifo'))).toBe(false);
  });
});


describe('resource.d/hto-mapfuncs (for third-party wrappers)', () => {
  it('ra_execocf maps status to monitor and prints the classic closing lines', () => {
    const ocf = path.join(se.dir, 'ocf');
    writeStub(
      path.join(ocf, 'resource.d', 'heartbeat', 'Thing'),
      `echo "$1 $OCF_RESKEY_name $OCF_RESOURCE_INSTANCE" >> "${ocf}/calls"
case $1 in start) : > "${ocf}/on" ;; stop) rm -f "${ocf}/on" ;; monitor) [ -f "${ocf}/on" ] || exit 7 ;; esac
exit 0`,
    );
    const wrapper = writeStub(
      path.join(se.dir, 'wrap', 'Thing'),
      `. "${RESOURCE_D}/hto-mapfuncs"
usage() { echo "usage: $0 name $LEGAL_ACTIONS"; }
OCF_RESKEY_name=$1; export OCF_RESKEY_name
OCF_TYPE=Thing; OCF_RESOURCE_INSTANCE=Thing_$1
ra_execocf $2`,
    );
    const env = { ...process.env, ...se.env, OCF_ROOT: ocf, HA_FUNCS: SHELLFUNCS };
    const run = (args: string[]) => {
      const r = spawnSync(wrapper, args, { encoding: 'utf8', env, timeout: 10_000 });
      return { status: r.status, stdout: r.stdout };
    };
    expect(run(['x', 'status'])).toEqual({ status: 7, stdout: 'INFO:  Resource is stopped\n' });
    expect(run(['x', 'start'])).toEqual({ status: 0, stdout: 'INFO:  Success\n' });
    expect(run(['x', 'status'])).toEqual({ status: 0, stdout: 'INFO:  Running OK\n' });
    expect(run(['x', 'stop'])).toEqual({ status: 0, stdout: 'INFO:  Success\n' });
    expect(run(['x', 'frob']).stdout).toBe('ERROR: Unknown operation: frob\nusage: ' + wrapper + ' name (start|stop|status|usage|meta-data)\n');
    expect(fs.readFileSync(path.join(ocf, 'calls'), 'utf8')).toBe('monitor x Thing_x\nstart x Thing_x\nmonitor x Thing_x\nstop x Thing_x\n');
  });
});

describe('layouts', () => {
  it('runs through the etc/ha.d/resource.d symlink and from a copy installed as /etc/ha.d does (shellfuncs found)', () => {
    const viaLink = spawnSync(path.join(RESOURCE_D, '..', 'etc', 'ha.d', 'resource.d', 'Delay'), ['0', 'stop'], {
      encoding: 'utf8',
      env: { ...process.env, ...se.env, HA_LOGTAG: '' },
      timeout: 10_000,
    });
    expect(viaLink.stdout).toBe('INFO:  Success\n');
    // an installed copy: /etc/ha.d/{shellfuncs,resource.d/*}
    const etc = path.join(se.dir, 'installed', 'ha.d');
    fs.mkdirSync(path.join(etc, 'resource.d'), { recursive: true });
    fs.copyFileSync(SHELLFUNCS, path.join(etc, 'shellfuncs'));
    for (const f of fs.readdirSync(RESOURCE_D)) fs.copyFileSync(path.join(RESOURCE_D, f), path.join(etc, 'resource.d', f));
    const logfile = path.join(se.dir, 'installed', 'log');
    const r = spawnSync(path.join(etc, 'resource.d', 'Delay'), ['0', 'stop'], {
      encoding: 'utf8',
      env: { ...process.env, ...se.env, HA_LOGFILE: logfile, HA_FUNCS: '' },
      timeout: 10_000,
    });
    expect(r.stdout).toBe('INFO:  Success\n');
    expect(fs.readFileSync(logfile, 'utf8')).toMatch(/^Delay\[\d+\]:\t\S+ INFO: Delay already stopped\.\n/);
  });
});

describe('Xinetd', () => {
  it('start enables the service and HUPs xinetd, stop disables it; xinetd must run', async () => {
    const d = path.join(se.dir, 'xinetd');
    const svcDir = path.join(d, 'xinetd.d');
    fs.mkdirSync(svcDir, { recursive: true });
    const svc = path.join(svcDir, 'tftp');
    fs.writeFileSync(svc, 'service tftp\n{\n\tsocket_type = dgram\n\tdisable\t= yes # off by default\n}\n');
    // a stand-in xinetd (found by its command name) that records HUPs
    const stub = writeStub(
      path.join(d, 'xinetd-hbts'),
      `trap 'echo hup >> "${d}/hups"' HUP\ni=0\nwhile [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done`,
    );
    const env = { ...se.env, HA_XINETD_DIR: svcDir, HA_XINETD_COMM: 'xinetd-hbts' };
    const hups = () => (fs.existsSync(path.join(d, 'hups')) ? fs.readFileSync(path.join(d, 'hups'), 'utf8').split('\n').length - 1 : 0);

    let r = runScript('Xinetd', ['tftp', 'start'], { env });
    expect(r).toMatchObject({ stdout: 'ERROR:  Program is not installed\n', status: 5 });
    const x = spawn(stub, [], { stdio: 'ignore' });
    children.push(x);
    await waitFor('the stand-in xinetd', () => spawnSync('ps', ['-e', '-o', 'comm='], { encoding: 'utf8' }).stdout.split('\n').includes('xinetd-hbts'));

    expect(runScript('Xinetd', ['tftp', 'status'], { env }).stdout).toBe('stopped\nINFO:  Resource is stopped\n');
    r = runScript('Xinetd', ['tftp', 'start'], { env });
    expect(r).toMatchObject({ stdout: 'INFO:  Success\n', status: 0 });
    expect(fs.readFileSync(svc, 'utf8')).toContain('\tdisable\t= no # off by default\n');
    await waitFor('a HUP', () => hups() === 1);
    r = runScript('Xinetd', ['tftp', 'status'], { env });
    expect(r.stdout).toBe('running\nINFO:  Running OK\n');
    expect(owned(r.stdout)).toBe(true);
    expect(runScript('Xinetd', ['tftp', 'start'], { env }).status).toBe(0);
    expect(runScript('Xinetd', ['tftp', 'stop'], { env }).status).toBe(0);
    expect(fs.readFileSync(svc, 'utf8')).toContain('\tdisable\t= yes # off by default\n');
    await waitFor('a second HUP', () => hups() === 2);
    expect(owned(runScript('Xinetd', ['tftp', 'status'], { env }).stdout)).toBe(false);
    expect(runScript('Xinetd', ['tftp', 'stop'], { env }).status).toBe(0);
    expect(runScript('Xinetd', ['nosuch', 'start'], { env }).status).toBe(5);
    x.kill('SIGKILL');
  });
});

describe('AudibleAlarm', () => {
  it('beeps on the console until stop, unless this node is listed', async () => {
    const d = path.join(se.dir, 'alarm');
    fs.mkdirSync(d, { recursive: true });
    const consoleFile = path.join(d, 'console');
    const env = { ...se.env, HA_VARRUN: d, HA_AUDIBLE_CONSOLE: consoleFile };
    let r = runScript('AudibleAlarm', ['other-node', 'start'], { env });
    expect(r).toMatchObject({ stdout: 'INFO:  Success\n', status: 0 });
    await waitFor('a BEL on the console', () => fs.existsSync(consoleFile) && fs.readFileSync(consoleFile, 'utf8').includes('\x07'));
    r = runScript('AudibleAlarm', ['other-node', 'status'], { env });
    expect(owned(r.stdout)).toBe(true);
    const pid = Number(fs.readFileSync(path.join(d, 'heartbeat-bell'), 'utf8'));
    expect(runScript('AudibleAlarm', ['other-node', 'stop'], { env }).status).toBe(0);
    await waitFor('the bell loop to end', () => {
      try {
        return / [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ')'));
      } catch {
        return true;
      }
    });
    expect(owned(runScript('AudibleAlarm', ['other-node', 'status'], { env }).stdout)).toBe(false);
    // listed: no bell
    expect(runScript('AudibleAlarm', [os.hostname().toUpperCase(), 'start'], { env }).status).toBe(0);
    expect(fs.existsSync(path.join(d, 'heartbeat-bell'))).toBe(false);
    expect(se.log()).toContain('is not enabled on');
  });
});

describe('LVM', () => {
  it('start activates the volume group, stop deactivates it (retrying), status from lvs', () => {
    const d = path.join(se.dir, 'lvm');
    // stubs: vgchange/vgscan/vgs/lvs over a state file; vgchange -a n fails
    // as often as fail-off says
    const body = (cmd: string) => `echo "${cmd} $*" >> "${d}/calls"\n`;
    writeStub(path.join(d, 'bin', 'vgscan'), body('vgscan'));
    writeStub(path.join(d, 'bin', 'vgs'), `${body('vgs')}[ "$1" = vg0 ]`);
    writeStub(path.join(d, 'bin', 'lvs'), `${body('lvs')}[ "$4" = vg0 ] || exit 5\nif [ -f "${d}/active" ]; then echo "  -wi-a-----"; else echo "  -wi-------"; fi`);
    writeStub(
      path.join(d, 'bin', 'vgchange'),
      `${body('vgchange')}[ "$3" = vg0 ] || { echo "Volume group \\"$3\\" not found" >&2; exit 5; }
case $2 in
  y) : > "${d}/active" ;;
  n) n=$(cat "${d}/fail-off" 2>/dev/null || echo 0)
     if [ "$n" -gt 0 ]; then echo $((n - 1)) > "${d}/fail-off"; echo "Logical volume vg0/data in use." >&2; exit 5; fi
     rm -f "${d}/active" ;;
esac`,
    );
    const env = { ...se.env, PATH: `${path.join(d, 'bin')}:${process.env.PATH}` };
    const calls = () => fs.readFileSync(path.join(d, 'calls'), 'utf8').trim().split('\n').filter((l) => l.startsWith('vgchange'));
    let r = runScript('LVM', ['vg0', 'status'], { env });
    expect(r.stdout).toBe('INFO:  Resource is stopped\n');
    expect(owned(r.stdout)).toBe(false);
    r = runScript('LVM', ['vg0', 'start'], { env });
    expect(r).toMatchObject({ stdout: 'INFO:  Success\n', status: 0 });
    expect(calls()).toEqual(['vgchange -a y vg0']);
    r = runScript('LVM', ['vg0', 'status'], { env });
    expect(r.stdout).toBe('INFO:  Running OK\n');
    expect(owned(r.stdout)).toBe(true);
    fs.writeFileSync(path.join(d, 'fail-off'), '2');
    r = runScript('LVM', ['vg0', 'stop'], { env });
    expect(r.status).toBe(0);
    expect(calls()).toEqual(['vgchange -a y vg0', 'vgchange -a n vg0', 'vgchange -a n vg0', 'vgchange -a n vg0']);
    expect(owned(runScript('LVM', ['vg0', 'status'], { env }).stdout)).toBe(false);
    // unknown VG: start fails, stop succeeds
    expect(runScript('LVM', ['vgX', 'start'], { env }).status).toBe(1);
    expect(runScript('LVM', ['vgX', 'stop'], { env }).status).toBe(0);
  });
});

describe('OCF (generic OCF agent wrapper)', () => {
  it('runs the agent found in any provider directory with the instance file exported', () => {
    const ocf = path.join(se.dir, 'ocf-generic');
    const haDir = path.join(se.dir, 'ocf-generic-ha.d');
    writeStub(
      path.join(ocf, 'resource.d', 'acme', 'Widget'),
      `echo "$1 $OCF_RESKEY_size $OCF_RESOURCE_INSTANCE" >> "${ocf}/calls"
case $1 in start) : > "${ocf}/on" ;; stop) rm -f "${ocf}/on" ;; monitor) [ -f "${ocf}/on" ] || exit 7 ;; esac
exit 0`,
    );
    fs.mkdirSync(path.join(haDir, 'conf', 'OCF', 'Widget'), { recursive: true });
    fs.writeFileSync(path.join(haDir, 'conf', 'OCF', 'Widget', 'w1'), '# parameters\nOCF_RESKEY_size=42\n');
    const env = { ...se.env, OCF_ROOT: ocf, HA_DIR: haDir };
    let r = runScript('OCF', ['Widget', 'w1', 'status'], { env });
    expect(r.stdout).toBe('OCF Resource Widget::w1 is stopped\n');
    expect(owned(r.stdout)).toBe(false);
    expect(runScript('OCF', ['Widget', 'w1', 'start'], { env }).status).toBe(0);
    r = runScript('OCF', ['Widget', 'w1', 'status'], { env });
    expect(r).toMatchObject({ stdout: 'OCF Resource Widget::w1 is running\n', status: 0 });
    expect(owned(r.stdout)).toBe(true);
    expect(runScript('OCF', ['Widget', 'w1', 'stop'], { env }).status).toBe(0);
    expect(fs.readFileSync(path.join(ocf, 'calls'), 'utf8')).toBe('monitor 42 w1\nstart 42 w1\nmonitor 42 w1\nstop 42 w1\n');
    expect(runScript('OCF', ['Nothing', 'w1', 'start'], { env }).status).toBe(1);
    expect(runScript('OCF', ['Widget', 'w1'], { env }).status).toBe(1);
  });
});

describe('Raid1', () => {
  it('start assembles with mdadm, stop stops; status from the md status table', () => {
    const d = path.join(se.dir, 'raid');
    const mdstat = path.join(d, 'mdstat');
    fs.mkdirSync(d, { recursive: true });
    const conf = path.join(d, 'mdadm.conf');
    fs.writeFileSync(conf, 'ARRAY /dev/md7 UUID=00000000:00000000:00000000:00000000\n');
    fs.writeFileSync(mdstat, 'Personalities : [raid1]\nunused devices: <none>\n');
    writeStub(
      path.join(d, 'bin', 'mdadm'),
      `echo "$*" >> "${d}/calls"
case $1 in
  --assemble) printf 'Personalities : [raid1]\\nmd7 : active raid1 loop1[1] loop0[0]\\n      1024 blocks [2/2] [UU]\\n' > "${mdstat}" ;;
  --stop) printf 'Personalities : [raid1]\\nunused devices: <none>\\n' > "${mdstat}" ;;
esac`,
    );
    const env = { ...se.env, PATH: `${path.join(d, 'bin')}:${process.env.PATH}`, HA_MDSTAT: mdstat };
    expect(runScript('Raid1', [conf, '/dev/md7', 'status'], { env })).toMatchObject({ stdout: 'INFO:  Resource is stopped\n', status: 7 });
    expect(runScript('Raid1', [conf, '/dev/md7', 'start'], { env })).toMatchObject({ stdout: 'INFO:  Success\n', status: 0 });
    expect(owned(runScript('Raid1', [conf, '/dev/md7', 'status'], { env }).stdout)).toBe(true);
    expect(runScript('Raid1', [conf, '/dev/md7', 'start'], { env }).status).toBe(0);
    expect(runScript('Raid1', [conf, '/dev/md7', 'stop'], { env }).status).toBe(0);
    expect(runScript('Raid1', [conf, '/dev/md7', 'stop'], { env }).status).toBe(0);
    expect(owned(runScript('Raid1', [conf, '/dev/md7', 'status'], { env }).stdout)).toBe(false);
    expect(fs.readFileSync(path.join(d, 'calls'), 'utf8')).toBe(`--assemble /dev/md7 --config=${conf}\n--stop /dev/md7\n`);
    expect(runScript('Raid1', [path.join(d, 'none.conf'), '/dev/md7', 'start'], { env }).status).toBe(5);
  });
});
