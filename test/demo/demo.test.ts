/**
 * bin/hb-demo run for real: as root it builds network namespaces, starts two
 * of our daemons, crashes the holder and shows the takeover and the failback;
 * without root it runs both nodes on the loopback interface. Each run must
 * end with exit 0, show the steps and figures, and leave nothing behind: no
 * namespace of its prefix, no process whose command line or environment
 * names its folder, no folder. An interrupted run (SIGINT) cleans up too.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, itWithTools } from '../helpers/env.js';

const DEMO = path.join(REPO_ROOT, 'bin/hb-demo');
const isRoot = process.getuid?.() === 0;
const DEADTIME_MS = 2000;

interface DemoRun {
  readonly pid: number;
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly out: string;
}

/**
 * Runs the demo (optionally through a wrapper such as runuser) with a bounded
 * time; `interruptOn` sends SIGINT once the output contains that text.
 */
function runDemo(args: string[], opts: { wrap?: string[]; interruptOn?: string; timeoutMs?: number } = {}): Promise<DemoRun> {
  const argv = [...(opts.wrap ?? []), DEMO, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let interrupted = false;
    const onData = (c: Buffer): void => {
      out += c.toString('utf8');
      if (opts.interruptOn !== undefined && !interrupted && out.includes(opts.interruptOn)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hb-demo did not finish within ${opts.timeoutMs ?? 90_000} ms:\n${out}`));
    }, opts.timeoutMs ?? 90_000);
    child.on('exit', (status, signal) => {
      clearTimeout(timer);
      resolve({ pid: child.pid ?? -1, status, signal, out });
    });
  });
}

/** The run's folder, from its "files:" line. */
function workDirOf(out: string): string {
  const m = /files: (\/\S+hbdemo-\d+-\S+) \(removed at the end\)/.exec(out);
  if (m === null) throw new Error(`no files: line in\n${out}`);
  return m[1]!;
}

/** Processes (other than this one) whose command line or environment mentions `text`. */
function processesMentioning(text: string): string[] {
  const hits: string[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    for (const f of ['cmdline', 'environ']) {
      try {
        if (readFileSync(`/proc/${e}/${f}`, 'latin1').includes(text)) {
          hits.push(`${e}: ${readFileSync(`/proc/${e}/cmdline`, 'latin1').split('\0').join(' ')}`);
          break;
        }
      } catch {
        // gone, or not readable
      }
    }
  }
  return hits;
}

function demoNamespaces(pid: number): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith(`hbdemo${pid}-`));
  } catch {
    return [];
  }
}

/** Nothing of the run is left: folder, processes, namespaces. */
function expectNothingLeft(r: DemoRun): void {
  const dir = workDirOf(r.out);
  expect(existsSync(dir)).toBe(false);
  expect(processesMentioning(dir)).toEqual([]);
  expect(demoNamespaces(r.pid)).toEqual([]);
}

const seconds = (out: string, re: RegExp): number => {
  const m = re.exec(out);
  if (m === null) throw new Error(`${String(re)} not in\n${out}`);
  return Math.round(parseFloat(m[1]!) * 1000);
};

/** The takeover and failback as the demo prints them, with their figures checked. */
function expectTakeoverShown(out: string, mode: 'netns' | 'loopback'): void {
  expect(out).toContain('node1 holds the group: cl_status rscstatus says "local" on both (node2 owns no group of its own)');
  expect(out).toMatch(/client: http:\/\/\S+ answers "hello from node1"/);
  expect(out).toContain(mode === 'netns' ? 'crash of node1: SIGKILL to every one of its processes, its link down' : 'crash of node1: SIGKILL to every one of its processes');
  const dead = seconds(out, /\+(\d+\.\d+) s {2}node2 logs "node node1: is dead"/);
  const taken = seconds(out, /\+(\d+\.\d+) s {2}node2 takes the group over/);
  const served = seconds(out, /\+(\d+\.\d+) s {2}client: "hello from node2"/);
  // The dead timer runs from the last heartbeat heard, up to a keepalive (200 ms) before the kill.
  expect(dead).toBeGreaterThanOrEqual(DEADTIME_MS - 300);
  expect(taken).toBeGreaterThanOrEqual(dead - 20);
  expect(served).toBeGreaterThanOrEqual(taken - 20);
  // Issue 4's failover bound: the group runs on the survivor within deadtime + 1 s.
  expect(served).toBeLessThanOrEqual(DEADTIME_MS + 1000);
  expect(out).toContain('cl_status rscstatus on node2: "all"');
  expect(out).toMatch(/\+\d+\.\d+ s {2}client: "hello from node1" again/);
  expect(out).toContain('cl_status rscstatus: "local" on node1 and on node2 (which gave the foreign class back)');
  expect(out).toMatch(/cleaned up: .*are gone/);
}

describe('hb-demo', () => {
  it('--help describes the demo and exits 0; a bad option exits 2', () => {
    const help = spawnSync(DEMO, ['--help'], { encoding: 'utf8', timeout: 20_000 });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Start two heartbeat-ts nodes on this machine');
    const bad = spawnSync(DEMO, ['--mode', 'cloud'], { encoding: 'utf8', timeout: 20_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("argument 'cloud' is invalid");
  });

  it('a taken service address is a clear error before anything starts (exit 1), and nothing is left', async () => {
    const base = 20000 + Math.floor(Math.random() * 20000);
    const taken = createServer();
    await new Promise<void>((res) => taken.listen({ host: '127.0.0.100', port: base + 1 }, res));
    try {
      const r = await runDemo(['--mode', 'loopback', '--hb-port', String(base), '--web-port', String(base + 1)], { timeoutMs: 30_000 });
      expect(r.status, r.out).toBe(1);
      expect(r.out).toContain(`hb-demo: failed during setting up: the service address 127.0.0.100:${base + 1} is not free (EADDRINUSE): choose another with --web-port`);
      expect(r.out).not.toContain('starting heartbeat');
      expectNothingLeft(r);
    } finally {
      taken.close();
    }
  });

  if (isRoot) {
    itWithTools(['ip', 'nsenter', 'unshare', 'mount'], 'as root: namespaces, takeover after a SIGKILL within deadtime + 1 s, failback, nothing left behind', async () => {
      const r = await runDemo([]);
      expect(r.status, r.out).toBe(0);
      expect(r.out).toContain('each in its own network namespaces (running as root)');
      expect(r.out).toContain('haresources: node1 IPaddr2::10.88.0.100/24/eth0 hbdemo-web::10.88.0.100::80');
      expect(r.out).toContain('client: http://10.88.0.100/ answers "hello from node1"');
      expectTakeoverShown(r.out, 'netns');
      expect(r.out).toContain('cleaned up: namespaces, processes and');
      expectNothingLeft(r);
    }, 120_000);

    itWithTools(['ip', 'nsenter', 'unshare', 'mount'], 'as root: Ctrl-C in the middle still removes the namespaces, processes and folder (exit 130)', async () => {
      const r = await runDemo(['--no-failback'], { interruptOn: 'node1 holds the group' });
      expect(r.status, r.out).toBe(130);
      expect(r.out).toContain('hb-demo: SIGINT: cleaning up');
      expectNothingLeft(r);
    }, 120_000);

    // The unprivileged path: as `nobody` when it can read the checkout, else
    // the same loopback mode as root (`--mode loopback`).
    const nobodyReads = spawnSync('runuser', ['-u', 'nobody', '--', 'test', '-r', path.join(REPO_ROOT, 'dist/bin/hb-demo.js')]).status === 0;
    itWithTools(nobodyReads ? ['runuser'] : [], `loopback mode ${nobodyReads ? 'as nobody' : 'as root (nobody cannot read the checkout)'}: multicast on lo, the service on 127.0.0.100, takeover and failback, nothing left`, async () => {
      // Ports of our own: another demo or test may use the defaults at the same time.
      const base = 20000 + Math.floor(Math.random() * 20000);
      const args = ['--hb-port', String(base), '--web-port', String(base + 1)];
      const r = nobodyReads ? await runDemo(args, { wrap: ['runuser', '-u', 'nobody', '--'] }) : await runDemo(['--mode', 'loopback', ...args]);
      expect(r.status, r.out).toBe(0);
      expect(r.out).toContain('on the loopback interface');
      expect(r.out).toContain(`haresources: node1 hbdemo-web::127.0.0.100::${base + 1}`);
      expectTakeoverShown(r.out, 'loopback');
      expectNothingLeft(r);
    }, 120_000);
  } else {
    it('without root: loopback mode, takeover and failback, nothing left behind', async () => {
      const base = 20000 + Math.floor(Math.random() * 20000);
      const r = await runDemo(['--hb-port', String(base), '--web-port', String(base + 1)]);
      expect(r.status, r.out).toBe(0);
      expect(r.out).toContain('on the loopback interface');
      expectTakeoverShown(r.out, 'loopback');
      expectNothingLeft(r);
    }, 120_000);
  }
});
