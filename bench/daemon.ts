/**
 * Heartbeat daemon benchmarks in hbnet namespaces, ours against the original
 * Heartbeat 3.0.6 measured in the same run:
 *  - detection latency beyond deadtime after a SIGKILL of the peer;
 *  - CPU time and RSS of one node's daemon at keepalive 100 ms, 2 and 8 nodes.
 * Every wait is bounded; every cluster is torn down (`hbnet down --purge`).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BenchCluster, sleep } from './hbnet.js';

export type Impl = 'ours' | 'original';

export interface DaemonBenchConfig {
  hbnet: string;
  /** Command that runs one of our daemons in the foreground. */
  ours: string;
  original: string;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const max = (xs: number[]): number => Math.max(...xs);

// ---------------------------------------------------------------- detection

export const DETECT_KEEPALIVE_MS = 200;
export const DETECT_DEADTIME_MS = 2000;
const DETECT_TIMINGS = { HBNET_KEEPALIVE: '200ms', HBNET_WARNTIME: '1', HBNET_DEADTIME: '2', HBNET_INITDEAD: '4', HBNET_MEDIA: 'ucast' };

export interface DetectionFigures {
  impl: Impl;
  /** Kill to "is dead" minus deadtime, per successful trial, ms. */
  beyondMs: number[];
  /** Last packet node1 got from node2 to "is dead", minus deadtime (how late the dead timer fires), ms. */
  overshootMs: number[];
  errors: string[];
}

/**
 * Two nodes of one implementation over ucast (keepalive 200 ms, deadtime 2 s).
 * Per trial: (re)start node2, wait until node1 has node2's link up and node2
 * is past its first 5 s (when it advertises deadtime + 2 s), SIGKILL every
 * process of node2 (`hbnet kill`), then poll node1's ha-log every 5 ms for
 * "node node2: is dead". Kill time = hbnet's events.log stamp, written just
 * before kill(2); seen time = the poll that first found the line.
 */
export async function benchDetection(cfg: DaemonBenchConfig, impl: Impl, trials: number, budgetMs: number): Promise<DetectionFigures> {
  const cmd = impl === 'ours' ? cfg.ours : cfg.original;
  const c = new BenchCluster(cfg.hbnet, DETECT_TIMINGS);
  const out: DetectionFigures = { impl, beyondMs: [], overshootMs: [], errors: [] };
  const endBy = Date.now() + budgetMs;
  try {
    c.hbnet(['up', 'node1', 'node2']);
    // node2's packets, to know when node1 last heard from it (10.77.0.12: hbnet's address of node2).
    c.captureStart('node2', ['udp', 'and', 'src', 'host', '10.77.0.12']);
    c.start('node1', cmd);
    await c.waitForLog('node1', "Local status now set to: 'up'", 20_000);
    for (let t = 0; t < trials && Date.now() < endBy; t++) {
      try {
        const from1 = c.logSize('node1');
        const from2 = c.logSize('node2');
        c.start('node2', cmd);
        const up2 = await c.waitForLog('node2', "Local status now set to: 'up'", 20_000, from2, 10);
        await c.waitForLog('node1', 'Link node2:eth0 up.', 20_000, from1, 10);
        const past = up2 + 5000 + 2 * DETECT_KEEPALIVE_MS - Date.now();
        if (past > 0) await sleep(past);
        const before = c.logSize('node1');
        c.hbnet(['kill', 'node2']);
        const killedAt = c.lastKillAt('node2');
        const seenAt = await c.waitForLog('node1', 'node node2: is dead', DETECT_DEADTIME_MS + 5000, before);
        out.beyondMs.push(seenAt - killedAt - DETECT_DEADTIME_MS);
        const last = c.packetTimes('node2').filter((t) => t <= seenAt).pop();
        if (last !== undefined) out.overshootMs.push(seenAt - last - DETECT_DEADTIME_MS);
        // A "reboot" before the next start: nothing left running, /run wiped (stale pid file, API socket).
        c.hbnet(['reset', 'node2']);
      } catch (e) {
        out.errors.push((e as Error).message.split('\n')[0] ?? String(e));
        try {
          c.hbnet(['reset', 'node2']);
        } catch {
          break;
        }
      }
    }
  } catch (e) {
    out.errors.push((e as Error).message.split('\n')[0] ?? String(e));
  } finally {
    try {
      c.captureStop();
    } catch {
      // down kills it anyway
    }
    c.down();
  }
  return out;
}

export function printDetection(ours: DetectionFigures, original: DetectionFigures | string): void {
  console.log(`== failure detection after SIGKILL of the peer (2 nodes, ucast, keepalive ${DETECT_KEEPALIVE_MS} ms, deadtime ${DETECT_DEADTIME_MS} ms; ms beyond deadtime) ==`);
  console.log('   kill: from the SIGKILL to "node NAME: is dead" (can be < 0: the timer runs from the last heartbeat, up to a keepalive before the kill)');
  console.log('   last pkt: from the last packet of the peer (capture on the switch) to "is dead": how late the dead timer fires');
  console.log(`${'daemon'.padEnd(22)} ${'trials'.padStart(6)} ${'kill med'.padStart(9)} ${'kill max'.padStart(9)} ${'last pkt med'.padStart(13)} ${'last pkt max'.padStart(13)}`);
  const fmt = (xs: number[], f: (x: number[]) => number): string => (xs.length ? f(xs).toFixed(0) : '-');
  const row = (name: string, f: DetectionFigures): void => {
    console.log(
      `${name.padEnd(22)} ${String(f.beyondMs.length).padStart(6)} ${fmt(f.beyondMs, median).padStart(9)} ${fmt(f.beyondMs, max).padStart(9)} ${fmt(f.overshootMs, median).padStart(13)} ${fmt(f.overshootMs, max).padStart(13)}`,
    );
    console.log(`${''.padEnd(22)} each kill: ${f.beyondMs.map((x) => x.toFixed(0)).join(' ')}; each last pkt: ${f.overshootMs.map((x) => x.toFixed(0)).join(' ')}`);
    for (const e of f.errors) console.log(`  ${name} trial failed: ${e}`);
  };
  row('ours (both nodes)', ours);
  if (typeof original === 'string') {
    console.log(`original: skipped (${original})`);
    return;
  }
  row('original 3.0.6 (both)', original);
  if (ours.beyondMs.length && original.beyondMs.length) {
    // Beyond-deadtime figures can be 0 or negative, so the ratio is of the whole latency, plus the timer's lateness when both are positive.
    const r = (a: number, b: number): string => (a > 0 && b > 0 ? (a / b).toFixed(2) : 'n/a (a figure <= 0)');
    const whole = (f: DetectionFigures, g: (x: number[]) => number): number => g(f.beyondMs) + DETECT_DEADTIME_MS;
    console.log(
      `ratio ours/original: kill to "is dead" median ${r(whole(ours, median), whole(original, median))}, max ${r(whole(ours, max), whole(original, max))}; ` +
        `beyond deadtime median ${r(median(ours.beyondMs), median(original.beyondMs))}` +
        (ours.overshootMs.length && original.overshootMs.length
          ? `; last pkt beyond deadtime median ${r(median(ours.overshootMs), median(original.overshootMs))}, max ${r(max(ours.overshootMs), max(original.overshootMs))}`
          : ''),
    );
  }
}

// ---------------------------------------------------------------- CPU / RSS

export interface CpuFigures {
  impl: Impl;
  nodes: number;
  /** Processes of the measured node (node1). */
  procs: number;
  /** CPU time of node1's processes over the window, as % of one CPU. */
  cpuPct: number;
  /** Mean over all nodes, % of one CPU. */
  cpuPctAllMean: number;
  /** Sum of VmRSS of node1's processes at the end of the window, KiB. */
  rssKiB: number;
  /** Sum of Pss (smaps_rollup) of node1's processes: shared pages split among sharers, KiB. */
  pssKiB: number;
  windowS: number;
  error?: string;
}

let clkTck = 0;
function ticksPerSecond(): number {
  if (!clkTck) {
    try {
      clkTck = parseInt(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }), 10) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime + stime of a process (all its threads), in ticks; undefined when it is gone. */
function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // fields 14 and 15 of proc(5)
  } catch {
    return undefined;
  }
}

function memKiB(pid: number, file: 'status' | 'smaps_rollup', field: 'VmRSS' | 'Pss'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * N nodes of one implementation over bcast, keepalive 100 ms: start all, wait
 * until node1 has every peer's link up, settle 2 s, then take utime + stime
 * of each node's processes (present at the start) over `windowS` seconds.
 */
export async function benchCpu(cfg: DaemonBenchConfig, impl: Impl, nodes: number, windowS: number): Promise<CpuFigures> {
  const cmd = impl === 'ours' ? cfg.ours : cfg.original;
  const names = Array.from({ length: nodes }, (_, i) => `node${i + 1}`);
  const c = new BenchCluster(cfg.hbnet, {
    HBNET_MEDIA: 'bcast',
    HBNET_KEEPALIVE: '100ms',
    HBNET_WARNTIME: '1',
    HBNET_DEADTIME: '2',
    HBNET_INITDEAD: '4',
  });
  const fig: CpuFigures = { impl, nodes, procs: 0, cpuPct: NaN, cpuPctAllMean: NaN, rssKiB: 0, pssKiB: 0, windowS };
  try {
    c.hbnet(['up', ...names]);
    for (const n of names) c.start(n, cmd);
    for (const n of names) await c.waitForLog(n, "Local status now set to: 'up'", 20_000, 0, 20);
    for (const n of names.slice(1)) await c.waitForLog('node1', `Link ${n}:eth0 up.`, 20_000, 0, 20);
    await sleep(2000);
    const pids = Object.fromEntries(names.map((n) => [n, c.pids(n)]));
    const start = Object.fromEntries(names.map((n) => [n, pids[n]!.map(cpuTicks)]));
    const t0 = process.hrtime.bigint();
    await sleep(windowS * 1000);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const pct = (n: string): number => {
      let ticks = 0;
      pids[n]!.forEach((p, i) => {
        const a = start[n]![i];
        const b = cpuTicks(p);
        if (a !== undefined && b !== undefined) ticks += b - a;
      });
      return (100 * ticks) / ticksPerSecond() / seconds;
    };
    fig.procs = pids['node1']!.length;
    fig.cpuPct = pct('node1');
    fig.cpuPctAllMean = names.map(pct).reduce((a, b) => a + b, 0) / names.length;
    fig.rssKiB = pids['node1']!.map((p) => memKiB(p, 'status', 'VmRSS')).reduce((a, b) => a + b, 0);
    fig.pssKiB = pids['node1']!.map((p) => memKiB(p, 'smaps_rollup', 'Pss')).reduce((a, b) => a + b, 0);
    fig.windowS = seconds;
  } catch (e) {
    fig.error = (e as Error).message.split('\n')[0] ?? String(e);
  } finally {
    c.down();
  }
  return fig;
}

export function printCpu(figs: CpuFigures[], originalSkipped?: string): void {
  const w = figs[0]?.windowS ?? 0;
  console.log(`== daemon CPU and RSS at keepalive 100 ms (bcast; node1's processes over ${w.toFixed(0)} s; CPU as % of one core) ==`);
  console.log(`${'daemon'.padEnd(16)} ${'nodes'.padStart(5)} ${'procs'.padStart(5)} ${'CPU %'.padStart(7)} ${'mean all %'.padStart(10)} ${'RSS MiB'.padStart(8)} ${'PSS MiB'.padStart(8)}`);
  for (const f of figs) {
    if (f.error) {
      console.log(`${f.impl.padEnd(16)} ${String(f.nodes).padStart(5)}  failed: ${f.error}`);
      continue;
    }
    console.log(
      `${f.impl.padEnd(16)} ${String(f.nodes).padStart(5)} ${String(f.procs).padStart(5)} ${f.cpuPct.toFixed(2).padStart(7)} ${f.cpuPctAllMean.toFixed(2).padStart(10)} ${(f.rssKiB / 1024).toFixed(1).padStart(8)} ${(f.pssKiB / 1024).toFixed(1).padStart(8)}`,
    );
  }
  if (originalSkipped) {
    console.log(`original: skipped (${originalSkipped})`);
    return;
  }
  for (const n of [...new Set(figs.map((f) => f.nodes))]) {
    const o = figs.find((f) => f.nodes === n && f.impl === 'ours' && !f.error);
    const r = figs.find((f) => f.nodes === n && f.impl === 'original' && !f.error);
    if (!o || !r) continue;
    const ratio = (a: number, b: number): string => (b > 0 ? (a / b).toFixed(2) : 'n/a (original 0)');
    console.log(`ratio ours/original, ${n} nodes: CPU ${ratio(o.cpuPct, r.cpuPct)}, RSS ${ratio(o.rssKiB, r.rssKiB)}, PSS ${ratio(o.pssKiB, r.pssKiB)}`);
  }
}
