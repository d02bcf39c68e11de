/**
 * ldirectord benchmarks.
 *
 * `ldchecks`: 1,000 reals (loopback listeners of this process, checktype
 * connect, checkinterval 1 s) under our daemon and under the original
 * ldirectord 4.12 (/usr/sbin/ldirectord, BENCH_LDIRECTORD), both with a stub
 * ipvsadm that accepts everything and lists nothing. Each listener stamps the
 * connections it receives, so the gap between two checks of the same real is
 * the round time as the real sees it. Also the daemon's CPU (utime+stime from
 * /proc) and RSS over the window.
 *
 * `balancer`: bytes and short connections through our user-space balancer
 * against a direct connection to the same server, in the same run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const REALS = 1000;
const PORT = 9000;
const CLK_TCK = 100;

function realAddress(i: number): string {
  return `127.0.${40 + Math.floor(i / 250)}.${(i % 250) + 1}`;
}

interface Listeners {
  stamps: Map<string, number[]>;
  close(): Promise<void>;
}

async function listen(): Promise<Listeners> {
  const stamps = new Map<string, number[]>();
  const servers: net.Server[] = [];
  await Promise.all(Array.from({ length: REALS }, (_, i) => new Promise<void>((resolve, reject) => {
    const host = realAddress(i);
    const list: number[] = [];
    stamps.set(host, list);
    const s = net.createServer((c) => {
      list.push(performance.now());
      c.destroy();
    });
    s.once('error', reject);
    s.listen(PORT, host, () => resolve());
    servers.push(s);
  })));
  return { stamps, close: () => Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined) };
}

function config(): string {
  const reals = Array.from({ length: REALS }, (_, i) => `\treal=${realAddress(i)}:${PORT} masq 1`).join('\n');
  return `checkinterval=1\nchecktimeout=2\nquiescent=no\nvirtual=127.0.39.1:${PORT}\n${reals}\n\tchecktype=connect\n\tscheduler=wrr\n`;
}

function procCpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
}

function procRssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

export interface CheckFigures {
  readonly daemon: string;
  readonly roundMedianMs: number;
  readonly roundP99Ms: number;
  readonly roundMaxMs: number;
  /** Share of reals checked at least once per interval (+10%) in the window. */
  readonly withinInterval: number;
  readonly cpuPercent: number;
  readonly rssMb: number;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function runDaemon(label: string, argv: string[], env: NodeJS.ProcessEnv, cwd: string, warmMs: number, windowMs: number): Promise<CheckFigures> {
  const l = await listen();
  let proc: ChildProcess | undefined;
  try {
    proc = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: 'ignore' });
    // Warm-up: until every real has been checked twice (start-up done), at most warmMs; then 2 s more.
    const warmDeadline = Date.now() + warmMs;
    while (Date.now() < warmDeadline && [...l.stamps.values()].some((s) => s.length < 2)) {
      if (proc.exitCode !== null) throw new Error(`${label} exited with ${proc.exitCode}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 2000));
    if (proc.exitCode !== null) throw new Error(`${label} exited with ${proc.exitCode}`);
    const t0 = performance.now();
    const cpu0 = procCpuTicks(proc.pid!);
    let rss = 0;
    const sampler = setInterval(() => (rss = Math.max(rss, procRssKb(proc!.pid!))), 500);
    await new Promise((r) => setTimeout(r, windowMs));
    clearInterval(sampler);
    const t1 = performance.now();
    const cpu1 = procCpuTicks(proc.pid!);
    const gaps: number[] = [];
    let ok = 0;
    for (const list of l.stamps.values()) {
      const inWin = list.filter((t) => t >= t0 && t <= t1);
      for (let i = 1; i < inWin.length; i++) gaps.push(inWin[i]! - inWin[i - 1]!);
      const maxGap = Math.max(inWin[0] !== undefined ? inWin[0] - t0 : Infinity, ...inWin.slice(1).map((t, i) => t - inWin[i]!), t1 - (inWin.at(-1) ?? -Infinity));
      if (maxGap <= 1100) ok++;
    }
    return {
      daemon: label,
      roundMedianMs: pct(gaps, 50),
      roundP99Ms: pct(gaps, 99),
      roundMaxMs: gaps.length ? Math.max(...gaps) : NaN,
      withinInterval: ok / REALS,
      cpuPercent: (((cpu1 - cpu0) / CLK_TCK) * 1000 * 100) / (t1 - t0),
      rssMb: rss / 1024,
    };
  } finally {
    if (proc && proc.exitCode === null) {
      proc.kill('SIGKILL');
      await new Promise((r) => proc!.once('exit', r));
    }
    await l.close();
  }
}

export async function benchLdChecks(repoRoot: string, windowS: number): Promise<{ ours: CheckFigures; original: CheckFigures | string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ldbench-'));
  try {
    writeFileSync(path.join(dir, 'bench.cf'), config());
    // A stub ipvsadm: every command succeeds, listings are empty. Both daemons get the same one.
    const stub = path.join(dir, 'ipvsadm');
    writeFileSync(stub, '#!/bin/sh\nexit 0\n');
    chmodSync(stub, 0o755);
    const env: NodeJS.ProcessEnv = { ...process.env, IPVSADM: stub };
    delete env.NODE_EXTRA_CA_CERTS;
    const ours = await runDaemon('ours', [process.execPath, path.join(repoRoot, 'bin/ldirectord'), '-d', 'bench.cf', 'start'], env, dir, 60_000, windowS * 1000);
    const orig = process.env.BENCH_LDIRECTORD || '/usr/sbin/ldirectord';
    let original: CheckFigures | string;
    if (!existsSync(orig)) original = `the original is not installed (no ${orig}; apt-get install ldirectord)`;
    else {
      // The original runs ./ipvsadm from the cwd with -d; its start-up issues ~4 commands per real.
      original = await runDaemon('original 4.12', [orig, '-d', 'bench.cf', 'start'], env, dir, 180_000, windowS * 1000);
    }
    return { ours, original };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printLdChecks(r: { ours: CheckFigures; original: CheckFigures | string }): void {
  console.log(`== ldirectord: ${REALS} reals, checktype connect, checkinterval 1 s (reference: the original ldirectord 4.12, same config and stub ipvsadm) ==`);
  console.log(`${'daemon'.padEnd(16)} ${'round med ms'.padStart(12)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'in 1 s'.padStart(7)} ${'CPU %'.padStart(6)} ${'RSS MB'.padStart(7)}`);
  const row = (f: CheckFigures): void => console.log(
    `${f.daemon.padEnd(16)} ${f.roundMedianMs.toFixed(0).padStart(12)} ${f.roundP99Ms.toFixed(0).padStart(8)} ${f.roundMaxMs.toFixed(0).padStart(8)} ${(f.withinInterval * 100).toFixed(0).padStart(6)}% ${f.cpuPercent.toFixed(1).padStart(6)} ${f.rssMb.toFixed(0).padStart(7)}`,
  );
  row(r.ours);
  if (typeof r.original === 'string') console.log(`original: skipped (${r.original})`);
  else {
    row(r.original);
    console.log(`ratio ours/original: round median ${(r.ours.roundMedianMs / r.original.roundMedianMs).toFixed(2)}, CPU ${(r.ours.cpuPercent / r.original.cpuPercent).toFixed(2)}, RSS ${(r.ours.rssMb / r.original.rssMb).toFixed(2)}`);
  }
}

export interface BalancerFigures {
  readonly directMBs: number;
  readonly relayMBs: number;
  readonly directConnPerS: number;
  readonly relayConnPerS: number;
}

/** Reads everything a connection sends; resolves with the byte count. */
function drain(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    const c = net.connect(port, host);
    c.on('data', (d) => (n += d.length));
    c.on('end', () => resolve(n));
    c.on('error', reject);
  });
}

export async function benchBalancer(repoRoot: string, megabytes: number, connections: number): Promise<BalancerFigures> {
  const chunk = Buffer.alloc(1 << 16, 7);
  const bulk = net.createServer((c) => {
    let left = megabytes * 16;
    const pump = (): void => {
      while (left > 0) {
        left--;
        if (!c.write(chunk)) return void c.once('drain', pump);
      }
      c.end();
    };
    pump();
  });
  const tiny = net.createServer((c) => c.end('ok'));
  await new Promise<void>((r) => bulk.listen(9101, '127.0.38.2', () => r()));
  await new Promise<void>((r) => tiny.listen(9102, '127.0.38.2', () => r()));
  const dir = mkdtempSync(path.join(tmpdir(), 'ldbal-'));
  writeFileSync(path.join(dir, 'bal.cf'), `backend=userspace\ncheckinterval=5\nvirtual=127.0.38.1:9101\n\treal=127.0.38.2:9101 masq 1\n\tchecktype=on\nvirtual=127.0.38.1:9102\n\treal=127.0.38.2:9102 masq 1\n\tchecktype=on\n`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const proc = spawn(process.execPath, [path.join(repoRoot, 'bin/ldirectord'), '-d', 'bal.cf', 'start'], { cwd: dir, env, stdio: 'ignore' });
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const ok = await drain('127.0.38.1', 9102).then(() => true, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error('the balancer did not come up within 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const timeBulk = async (host: string): Promise<number> => {
      const t = performance.now();
      const n = await drain(host, 9101);
      return n / 1e6 / ((performance.now() - t) / 1000);
    };
    const timeConns = async (host: string): Promise<number> => {
      const t = performance.now();
      for (let i = 0; i < connections; i++) await drain(host, 9102);
      return connections / ((performance.now() - t) / 1000);
    };
    // Alternate direct and relayed runs; keep the better of two each.
    const directMBs = Math.max(await timeBulk('127.0.38.2'), await timeBulk('127.0.38.2'));
    const relayMBs = Math.max(await timeBulk('127.0.38.1'), await timeBulk('127.0.38.1'));
    const directConnPerS = Math.max(await timeConns('127.0.38.2'), await timeConns('127.0.38.2'));
    const relayConnPerS = Math.max(await timeConns('127.0.38.1'), await timeConns('127.0.38.1'));
    return { directMBs, relayMBs, directConnPerS, relayConnPerS };
  } finally {
    proc.kill('SIGKILL');
    await new Promise((r) => proc.once('exit', r));
    await new Promise<void>((r) => bulk.close(() => r()));
    await new Promise<void>((r) => tiny.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printBalancer(f: BalancerFigures, megabytes: number, connections: number): void {
  console.log(`== ldirectord user-space balancer on loopback (reference: a direct connection in the same run) ==`);
  console.log(`bulk ${megabytes} MB:        direct ${f.directMBs.toFixed(0)} MB/s, through the balancer ${f.relayMBs.toFixed(0)} MB/s, ratio ${(f.relayMBs / f.directMBs).toFixed(2)}`);
  console.log(`${connections} short connections: direct ${f.directConnPerS.toFixed(0)}/s, through the balancer ${f.relayConnPerS.toFixed(0)}/s, ratio ${(f.relayConnPerS / f.directConnPerS).toFixed(2)}`);
}
