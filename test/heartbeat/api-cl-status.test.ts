/**
 * Debian's cl_status and ours against our API server: same stdout, same
 * stderr (timestamps and pids aside), same exit code, sub-command by
 * sub-command. Debian's binary has the socket path compiled in
 * (/run/heartbeat/register), so it runs in a private mount namespace with a
 * tmpfs over /run and our temp directory bound on /run/heartbeat; a real
 * heartbeat on the machine is invisible to it there. Ours is pointed at the
 * same socket with HEARTBEAT_API_SOCKET.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { ApiServer, fixedClusterView } from '../../lib/heartbeat/api/index.js';
import { REPO_ROOT, itWithTools } from '../helpers/env.js';
import { SNAPSHOT, VIEW } from './api-fixture.js';

/** Resources under pacemaker: no resource state, `pacemaker respawn`. */
const PACEMAKER_VIEW = fixedClusterView({ ...SNAPSHOT, resources: undefined, parameters: { ...SNAPSHOT.parameters, pacemaker: 'respawn' } });

const TOOLS = ['cl_status', 'unshare'];

interface Run {
  stdout: string;
  stderr: string;
  status: number | null;
}

/** Runs a command without blocking our event loop (the server under test lives in this process); bounded. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 15_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('latin1')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, status });
    });
  });
}

const NS_SCRIPT = 'mount -t tmpfs none /run && mkdir -p /run/heartbeat && mount --bind "$0" /run/heartbeat && exec cl_status "$@"';

const debian = (apiDir: string, args: string[]) => run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', NS_SCRIPT, apiDir, ...args]);
const ours = (apiDir: string, args: string[]) =>
  run(path.join(REPO_ROOT, 'bin', 'cl_status'), args, { ...process.env, HEARTBEAT_API_SOCKET: path.join(apiDir, 'register') });

/** cl_log lines carry a time, the host and a pid: compare the rest. */
const normalize = (r: Run) => ({
  stdout: r.stdout,
  stderr: r.stderr.replace(/^[A-Z][a-z]{2} [0-9]{2} [0-9:]{8} \S+ cl_status: \[\d+\]: /gm, '<log> '),
  status: r.status,
});

let tmp: string;
let servers: ApiServer[] = [];
let silent: net.Server | undefined;
const hungClients: net.Socket[] = [];
const dir = (name: string) => path.join(tmp, name, 'heartbeat');

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-api-'));
  servers = [
    await ApiServer.start({ view: VIEW, runDir: path.join(tmp, 'up') }),
    // Refuses every sign-on ("bad pid"), as the original does for a client it cannot verify.
    await ApiServer.start({ view: VIEW, runDir: path.join(tmp, 'refusing'), pidExists: () => false }),
    await ApiServer.start({ view: PACEMAKER_VIEW, runDir: path.join(tmp, 'pacemaker') }),
  ];
  fs.mkdirSync(dir('down'), { recursive: true });
  // Accepts and never answers: both clients must give up on their 5 s alarm.
  fs.mkdirSync(dir('hung'), { recursive: true });
  silent = net.createServer((s) => hungClients.push(s));
  await new Promise<void>((resolve) => silent!.listen(path.join(dir('hung'), 'register'), resolve));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  for (const s of hungClients) s.destroy();
  await new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()));
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** [server, arguments, expected stdout or undefined to only compare] */
const CASES: [string, string, string?][] = [
  ['up', 'hbstatus', 'Heartbeat is running on this machine.\n'],
  ['up', 'hbstatus -v'],
  ['up', 'hbstatus -m -v'],
  ['up', 'hbstatus -x'],
  ['up', 'listnodes', '10.77.0.1\nnode3\nnode2\nnode1\n'],
  ['up', 'listnodes -p', '10.77.0.1\n'],
  ['up', 'listnodes -n ping', 'node3\nnode2\nnode1\n'],
  ['up', 'listnodes -pn'],
  ['up', 'listnodes -v'],
  ['up', 'listnodes -m'],
  ['up', 'listnodes -x'],
  ['up', 'nodestatus node1', 'active\n'],
  ['up', 'nodestatus node3', 'dead\n'],
  ['up', 'nodestatus NODE2'],
  ['up', 'nodestatus 10.77.0.1', 'ping\n'],
  ['up', 'nodestatus -m node2', 'The cluster node node2 is active\n'],
  ['up', 'nodestatus node2 -m'],
  ['up', 'nodestatus nosuch'],
  ['up', 'nodestatus'],
  ['up', 'nodestatus -x node1'],
  ['up', 'nodetype node1', 'normal\n'],
  ['up', 'nodetype -m 10.77.0.1'],
  ['up', 'nodetype nosuch'],
  ['up', 'nodetype'],
  ['up', 'nodeweight node2', '50\n'],
  ['up', 'nodeweight -m node1'],
  ['up', 'nodeweight nosuch'],
  ['up', 'nodesite node2', 'east\n'],
  ['up', 'nodesite node1'],
  ['up', 'nodesite -m node2'],
  ['up', 'listhblinks node2', '\teth1\n\teth0\n'],
  ['up', 'listhblinks -v node1'],
  ['up', 'listhblinks -m node1'],
  ['up', 'listhblinks 10.77.0.1'],
  ['up', 'listhblinks nosuch'],
  ['up', 'listhblinks'],
  ['up', 'hblinkstatus node2 eth0', 'up\n'],
  ['up', 'hblinkstatus node2 eth1', 'dead\n'],
  ['up', 'hblinkstatus -m node1 eth1'],
  ['up', 'hblinkstatus node2 eth9'],
  ['up', 'hblinkstatus node2'],
  ['up', 'clientstatus node1 ipfail', 'online\n'],
  ['up', 'clientstatus node1 nosuch', 'offline\n'],
  ['up', 'clientstatus node3 ipfail', 'offline\n'],
  ['up', 'clientstatus node2 ipfail'],
  ['up', 'clientstatus node2 ipfail 100'],
  ['up', 'clientstatus nosuch ipfail'],
  ['up', 'clientstatus node1'],
  ['up', 'rscstatus', 'local\n'],
  ['up', 'rscstatus -m', 'This node is holding local resources.\n'],
  ['up', 'hbparameter -p keepalive', '1\n'],
  ['up', 'hbparameter -p deadtime', '5\n'],
  ['up', 'hbparameter -p warntime', '3\n'],
  ['up', 'hbparameter -p initdead', '10\n'],
  ['up', 'hbparameter -p auto_failback', 'on\n'],
  ['up', 'hbparameter -p udpport', '694\n'],
  ['up', 'hbparameter -pcrm'],
  ['up', 'hbparameter -p hbversion'],
  ['up', 'hbparameter -m -p deadtime'],
  ['up', 'hbparameter -p nosuch'],
  ['up', 'hbparameter -p'],
  ['up', 'hbparameter'],
  ['up', 'parameter -p deadtime'],
  ['up', 'test'],
  ['up', ''],
  ['up', '-h'],
  ['pacemaker', 'hbstatus -v'],
  ['pacemaker', 'hbstatus -m -v'],
  ['pacemaker', 'rscstatus'],
  ['pacemaker', 'hbparameter -p crm', 'respawn\n'],
  ['down', 'hbstatus', 'Heartbeat is stopped on this machine.\n'],
  ['down', 'hbstatus -v'],
  ['down', 'listnodes'],
  ['down', 'rscstatus'],
  ['refusing', 'hbstatus', 'Heartbeat is apparently running on this machine, but refuses my connection\n'],
  ['refusing', 'hbstatus -v'],
  ['refusing', 'nodestatus node1'],
];

describe('cl_status: Debian and ours give the same answers', () => {
  for (const [server, argText, expected] of CASES) {
    const args = argText === '' ? [] : argText.split(' ');
    itWithTools(TOOLS, `${server}: cl_status ${argText}`, async () => {
      const [d, o] = await Promise.all([debian(dir(server), args), ours(dir(server), args)]);
      expect(d.stderr).not.toMatch(/^mount:|^unshare:/m);
      expect(normalize(o)).toEqual(normalize(d));
      if (expected !== undefined) expect(o.stdout).toBe(expected);
    });
  }

  itWithTools(TOOLS, 'hung: a server that never answers ends both on the 5 s alarm (exit 12)', async () => {
    const started = Date.now();
    const [d, o] = await Promise.all([debian(dir('hung'), ['listnodes']), ours(dir('hung'), ['listnodes'])]);
    expect(normalize(o)).toEqual(normalize(d));
    expect(o.status).toBe(12);
    expect(Date.now() - started).toBeLessThan(12_000);
  }, 20_000);
});
