/**
 * Our cl_status against the outputs recorded from the real Heartbeat 3.0.6
 * cluster (../shared/reference/vectors/cl_status-catalogue.txt): our server
 * plays node1 (and, after node2 was killed, node1 alone; node2's heartbeat
 * is gone, so no socket) with the state the recording shows.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiServer, HB_VERSION_STRING, fixedClusterView, type ClusterSnapshot } from '../../lib/heartbeat/api/index.js';
import { REFERENCE, REPO_ROOT } from '../helpers/env.js';

const CATALOGUE = path.join(REFERENCE, 'vectors', 'cl_status-catalogue.txt');

interface Entry {
  readonly section: number;
  readonly node: string;
  readonly args: string[];
  readonly output: string;
  readonly rc: number;
}

/** `$ cl_status ARGS    # on NODE ...`, output lines, `[rc=N]`; `## ` starts a section. */
function parseCatalogue(text: string): Entry[] {
  const entries: Entry[] = [];
  let section = 0;
  let current: { node: string; args: string[]; lines: string[] } | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) section++;
    const cmd = /^\$ cl_status (.*?)\s+# on (node\d)/.exec(line);
    if (cmd) {
      current = { node: cmd[2]!, args: cmd[1]!.split(' ').filter((a) => a !== ''), lines: [] };
      continue;
    }
    const rc = /^\[rc=(\d+)\]$/.exec(line);
    if (rc && current) {
      entries.push({ section, node: current.node, args: current.args, output: current.lines.map((l) => l + '\n').join(''), rc: Number(rc[1]) });
      current = undefined;
      continue;
    }
    current?.lines.push(line);
  }
  return entries;
}

const base = {
  localNode: 'node1',
  signon: { deadtimeMs: 5000, keepaliveMs: 1000, logFacility: -1, hbVersion: HB_VERSION_STRING },
  parameters: { keepalive: '1', deadtime: '5', warntime: '3', initdead: '10', auto_failback: 'on', udpport: '694', pacemaker: 'false' },
} as const;

/** Both nodes up; node1 sees its own eth0 link as dead (its own packets are not heard back), as recorded. */
const BOTH_UP: ClusterSnapshot = {
  ...base,
  nodes: [
    { name: 'node1', type: 'normal', status: 'active', links: [{ name: 'eth0', status: 'dead' }] },
    { name: 'node2', type: 'normal', status: 'active', links: [{ name: 'eth0', status: 'up' }] },
  ],
  resources: 'local',
};

const NODE2_DEAD: ClusterSnapshot = {
  ...base,
  nodes: [
    { name: 'node1', type: 'normal', status: 'active', links: [{ name: 'eth0', status: 'dead' }] },
    { name: 'node2', type: 'normal', status: 'dead', links: [{ name: 'eth0', status: 'dead' }] },
  ],
  resources: 'all',
};

function run(args: string[], socket: string): Promise<{ out: string; rc: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(REPO_ROOT, 'bin', 'cl_status'), args, { env: { ...process.env, HEARTBEAT_API_SOCKET: socket } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (rc) => {
      clearTimeout(timer);
      resolve({ out, rc });
    });
  });
}

const normalize = (s: string) => s.replace(/^[A-Z][a-z]{2} [0-9]{2} [0-9:]{8} \S+ cl_status: \[\d+\]: /gm, '<log> ');

let tmp: string;
const servers: ApiServer[] = [];
const socketOf = (name: string) => path.join(tmp, name, 'heartbeat', 'register');

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-api-cat-'));
  servers.push(await ApiServer.start({ view: fixedClusterView(BOTH_UP), runDir: path.join(tmp, 'up') }));
  servers.push(await ApiServer.start({ view: fixedClusterView(NODE2_DEAD), runDir: path.join(tmp, 'killed') }));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const entries = fs.existsSync(CATALOGUE) ? parseCatalogue(fs.readFileSync(CATALOGUE, 'utf8')) : [];

describe('cl_status catalogue recorded from Heartbeat 3.0.6', () => {
  it('the catalogue is there and parses', () => {
    expect(entries.length).toBeGreaterThan(30);
  });

  for (const e of entries) {
    // node2's own view while both were up is not what our fixed views model.
    const socket = e.section === 1 ? (e.node === 'node1' ? 'up' : undefined) : e.node === 'node1' ? 'killed' : 'down';
    if (socket === undefined) continue;
    it(`section ${e.section}, on ${e.node}: cl_status ${e.args.join(' ')}`, async () => {
      const r = await run(e.args, socketOf(socket));
      expect(normalize(r.out)).toBe(normalize(e.output));
      expect(r.rc).toBe(e.rc);
    });
  }
});
