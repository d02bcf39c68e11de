/**
 * Our cl_status against the real Heartbeat 3.0.6 daemon: Debian's heartbeat
 * runs in private mount, network, UTS and PID namespaces (tmpfs over /run,
 * /etc/ha.d and /var/lib/heartbeat, so nothing of the machine's own setup is
 * touched, and the daemon dies with the namespace), one node of a two-node
 * cluster whose peer never comes. Once its API socket exists, Debian's
 * cl_status and ours run each sub-command back to back and must agree.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { apiParameters, recordedDirectives } from '../../lib/heartbeat/api/index.js';
import { REPO_ROOT, itWithTools } from '../helpers/env.js';

const DAEMON = '/usr/libexec/heartbeat/heartbeat';
const TOOLS = ['cl_status', 'unshare', 'ip', 'hostname', DAEMON];

/** The real daemon answers each request on its own main-loop tick (about 0.5-1 s), so the list is kept short. */
const COMMANDS = [
  'hbstatus -v',
  'listnodes -v',
  'nodestatus node2',
  'nodestatus nosuch',
  'nodetype node2',
  'nodeweight node1',
  'nodesite node1',
  'listhblinks nosuch',
  'hblinkstatus node2 eth9',
  'clientstatus node1 ipfail',
  'clientstatus node1 ipfail 0',
  'clientstatus node2 ipfail',
  'rscstatus',
  'hbparameter -p deadtime',
  'hbparameter -p nosuch',
  'hbparameter -p crm',
];

/** Names whose getparm values the real daemon must share with apiParameters() for HA_CF. */
const PARAMETERS = [
  'keepalive', 'deadtime', 'warntime', 'initdead', 'deadping', 'udpport', 'auto_failback', 'pacemaker', 'logfile', 'debugfile',
  'logfacility', 'use_logd', 'debug', 'baud', 'msgfmt', 'hopfudge', 'memreserve', 'max_rexmit_delay', 'realtime', 'syslogmsgfmt',
  'coredumps', 'cluster', 'autojoin', 'uuidfrom', 'compression', 'hbversion', 'node', 'ucast', 'nosuch',
];

const HA_CF = `logfile @DIR@/ha-log
debugfile @DIR@/ha-debug
keepalive 1
deadtime 3
initdead 6
udpport 694
ucast lo 127.0.0.1
auto_failback on
node node1 node2
crm off
`;

/** Runs inside the namespaces as their PID 1: when it exits, the kernel kills the daemon. */
const NS_SCRIPT = `set -e
D="$1"
hostname node1
ip link set lo up
mount -t tmpfs none /run
mkdir -p /run/heartbeat/rsctmp
chown hacluster:haclient /run/heartbeat; chmod 750 /run/heartbeat
mount -t tmpfs none /var/lib/heartbeat
for d in api casual ccm ckpt crm lrm pengine; do mkdir -p /var/lib/heartbeat/$d; done
for u in root nobody hacluster; do mkdir -p /var/lib/heartbeat/cores/$u; chown $u /var/lib/heartbeat/cores/$u; chmod 700 /var/lib/heartbeat/cores/$u; done
# Debian's scripts (harc, rc.d, resource.d) stay; our three files replace whatever config the machine has.
mkdir "$D/ha.d"
cp -a /etc/ha.d/. "$D/ha.d/"
cp "$D/ha.cf" "$D/authkeys" "$D/haresources" "$D/ha.d/"
chmod 600 "$D/ha.d/authkeys"
mount --bind "$D/ha.d" /etc/ha.d
${DAEMON} > "$D/daemon.out" 2>&1
# Bounded wait for comm-up (the socket appears then): at most 30 s.
i=0; while [ ! -S /run/heartbeat/register ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
[ -S /run/heartbeat/register ] || { echo "no API socket" >&2; exit 3; }
set +e
while IFS= read -r cmd; do
  for who in debian ours; do
    if [ $who = debian ]; then cl_status $cmd >"$D/out" 2>"$D/err"; else HEARTBEAT_API_SOCKET=/run/heartbeat/register "$2" $cmd >"$D/out" 2>"$D/err"; fi
    echo "rc=$?" >>"$D/out"
    printf '%s\\0%s\\0%s\\0' "$who $cmd" "$(cat "$D/out")" "$(cat "$D/err")"
  done
done < "$D/commands"
# getparm's table: every name at once (the daemon answers each on its own tick).
for p in $(cat "$D/parameters"); do cl_status hbparameter -p "$p" >"$D/param.$p" 2>/dev/null & done
wait
`;

interface Record_ {
  stdout: string;
  stderr: string;
}

let tmp: string;
let results: Map<string, Record_> | undefined;
let failure: string | undefined;

function runNamespace(): Promise<{ out: string; err: string; status: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['--mount', '--net', '--uts', '--pid', '--fork', '--propagation', 'private', 'sh', '-c', NS_SCRIPT, 'ns', tmp, path.join(REPO_ROOT, 'bin', 'cl_status')]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('latin1')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ out, err, status });
    });
  });
}

const normalize = (s: string) => s.replace(/^[A-Z][a-z]{2} [0-9]{2} [0-9:]{8} \S+ cl_status: \[\d+\]: /gm, '<log> ');

describe('cl_status against the real heartbeat 3.0.6', () => {
  beforeAll(async () => {
    if (!TOOLS.every((t) => fs.existsSync(t) || process.env.PATH?.split(':').some((p) => fs.existsSync(path.join(p, t))))) return;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-api-real-'));
    fs.chmodSync(tmp, 0o755);
    fs.writeFileSync(path.join(tmp, 'ha.cf'), HA_CF.replaceAll('@DIR@', tmp));
    fs.writeFileSync(path.join(tmp, 'authkeys'), 'auth 1\n1 sha1 somesecret\n', { mode: 0o600 });
    fs.writeFileSync(path.join(tmp, 'haresources'), '');
    fs.writeFileSync(path.join(tmp, 'commands'), COMMANDS.join('\n') + '\n');
    fs.writeFileSync(path.join(tmp, 'parameters'), PARAMETERS.join('\n') + '\n');
    const r = await runNamespace();
    if (r.status !== 0) {
      failure = `namespace run failed (${r.status}): ${r.err}\n${fs.existsSync(path.join(tmp, 'ha-log')) ? fs.readFileSync(path.join(tmp, 'ha-log'), 'utf8').slice(-2000) : ''}`;
      return;
    }
    const parts = r.out.split('\0');
    results = new Map();
    for (let i = 0; i + 2 < parts.length; i += 3) results.set(parts[i]!, { stdout: parts[i + 1]!, stderr: normalize(parts[i + 2]!) });
  }, 120_000);

  itWithTools(TOOLS, 'getparm values are what apiParameters() derives from the same ha.cf', () => {
    expect(failure).toBeUndefined();
    const ours = apiParameters({ directives: recordedDirectives(HA_CF.replaceAll('@DIR@', tmp)), deadtimeMs: 3000 });
    const real = Object.fromEntries(PARAMETERS.map((p) => [p, fs.readFileSync(path.join(tmp, `param.${p}`), 'utf8').replace(/\n$/, '')]));
    const expected = Object.fromEntries(PARAMETERS.map((p) => [p, ours[p] ?? '']));
    // cl_status prints the version cached at sign-on for hbversion: the full string.
    expected.hbversion = '3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)';
    expect(real).toEqual(expected);
  });

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const cmd of COMMANDS) {
    itWithTools(TOOLS, `cl_status ${cmd}`, () => {
      expect(failure).toBeUndefined();
      const d = results?.get(`debian ${cmd}`);
      const o = results?.get(`ours ${cmd}`);
      expect(d).toBeDefined();
      expect(o).toEqual(d);
    });
  }
});
