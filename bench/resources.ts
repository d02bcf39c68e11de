/**
 * Resource hand-over benchmarks in hbnet namespaces, ours against the
 * original Heartbeat 3.0.6 in the same harness and config (two nodes of one
 * implementation, ucast, keepalive 200 ms, deadtime 2 s, the group
 * `node1 hbdummy::svc1`; hbnet's hbdummy stamps every call in the node's
 * /var/log/hbdummy.log with epoch ms):
 *  - takeover: SIGKILL of the holder -> the group's start on the survivor;
 *  - standby: an hb_standby request on the holder -> the group's start on the peer.
 * Every wait is bounded; every cluster is torn down.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { BenchCluster, sleep } from './hbnet.js';
import type { DaemonBenchConfig, Impl } from './daemon.js';

export const RSC_KEEPALIVE_MS = 200;
export const RSC_DEADTIME_MS = 2000;
const RSC_TIMINGS = { HBNET_KEEPALIVE: '200ms', HBNET_WARNTIME: '1', HBNET_DEADTIME: '2', HBNET_INITDEAD: '4', HBNET_MEDIA: 'ucast', HBNET_HARESOURCES: 'node1 hbdummy::svc1' };
/** The original settles its first acquisition ~11 s after both nodes are active. */
const SETTLE_MS = 40_000;

export interface ResourceBenchConfig extends DaemonBenchConfig {
  /** How each implementation's hb_standby runs inside a node (argv). */
  readonly standby: Record<Impl, string[]>;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const max = (xs: number[]): number => Math.max(...xs);

interface DummyCall {
  readonly at: number;
  readonly op: string;
}

function dummyCalls(c: BenchCluster, node: string): DummyCall[] {
  const f = path.join(c.state, 'nodes', node, 'log/hbdummy.log');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [at, , name, op] = l.split(' ');
      return { at: Math.round(Number(at) * 1000), op: name === 'svc1' ? op! : '' };
    });
}

/** Bounded wait for hbdummy svc1 `op` on `node` after its first `from` calls. */
async function waitForCall(c: BenchCluster, node: string, op: string, timeoutMs: number, from: number): Promise<DummyCall> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = dummyCalls(c, node)
      .slice(from)
      .find((x) => x.op === op);
    if (hit !== undefined) return hit;
    if (Date.now() > deadline) throw new Error(`${node}: no svc1 ${op} within ${timeoutMs} ms`);
    await sleep(5); // poll interval of a bounded wait
  }
}

const peerOf = (n: string): string => (n === 'node1' ? 'node2' : 'node1');
const firstLine = (e: unknown): string => (e as Error).message.split('\n')[0] ?? String(e);

/** Starts both nodes and waits until node1 runs svc1 and both have finished their initial acquisition. */
async function startPair(c: BenchCluster, cmd: string): Promise<Record<string, number>> {
  const started: Record<string, number> = {};
  for (const n of ['node1', 'node2']) {
    c.start(n, cmd);
    started[n] = Date.now();
  }
  await waitForCall(c, 'node1', 'start', SETTLE_MS, 0);
  for (const n of ['node1', 'node2']) await c.waitForLog(n, 'Initial resource acquisition complete', SETTLE_MS, 0, 20);
  return started;
}

// ---------------------------------------------------------------- takeover

export interface TakeoverFigures {
  impl: Impl;
  /** SIGKILL of the holder -> svc1 start on the survivor (hbdummy's own stamp), ms. */
  killToStartMs: number[];
  /** SIGKILL -> the survivor's "node X: is dead" (5 ms log polls), ms. */
  killToDeadMs: number[];
  /** "is dead" -> svc1 start: the resource manager's part, ms. */
  deadToStartMs: number[];
  errors: string[];
}

/**
 * auto_failback off, so holders alternate without a failback: per trial the
 * holder (past its first 5 s, when it advertises deadtime + 2 s) is SIGKILLed
 * (`hbnet kill`: every process of the node), the survivor's svc1 start is
 * awaited, then the dead node is "rebooted" (`hbnet reset`), restarted, and
 * given time to finish its initial resource acquisition before it becomes the
 * survivor of the next trial.
 */
export async function benchTakeover(cfg: DaemonBenchConfig, impl: Impl, trials: number, budgetMs: number): Promise<TakeoverFigures> {
  const cmd = impl === 'ours' ? cfg.ours : cfg.original;
  const c = new BenchCluster(cfg.hbnet, { ...RSC_TIMINGS, HBNET_AUTO_FAILBACK: 'off' });
  const out: TakeoverFigures = { impl, killToStartMs: [], killToDeadMs: [], deadToStartMs: [], errors: [] };
  const endBy = Date.now() + budgetMs;
  try {
    c.hbnet(['up', 'node1', 'node2']);
    const started = await startPair(c, cmd);
    let holder = 'node1';
    for (let t = 0; t < trials && Date.now() < endBy; t++) {
      const survivor = peerOf(holder);
      try {
        const past = started[holder]! + 5000 + 2 * RSC_KEEPALIVE_MS - Date.now();
        if (past > 0) await sleep(past);
        const calls = dummyCalls(c, survivor).length;
        const logFrom = c.logSize(survivor);
        c.hbnet(['kill', holder]);
        const killedAt = c.lastKillAt(holder);
        const deadAt = await c.waitForLog(survivor, `node ${holder}: is dead`, RSC_DEADTIME_MS + 10_000, logFrom);
        const start = await waitForCall(c, survivor, 'start', 15_000, calls).catch((e: Error) => {
          const lines = readFileSync(c.logFile(survivor), 'latin1').slice(logFrom).trimEnd().split('\n');
          throw new Error(`${e.message} (trial ${t + 1}; ${survivor}'s log since the kill ends: ${lines.slice(-4).map((l) => l.replace(/^.*?heartbeat: \[\d+\]: /, '')).join(' | ')})`);
        });
        out.killToStartMs.push(start.at - killedAt);
        out.killToDeadMs.push(deadAt - killedAt);
        out.deadToStartMs.push(start.at - deadAt);
      } catch (e) {
        out.errors.push(firstLine(e));
      }
      // The dead node boots again and joins as the standby of the next trial.
      const from = c.logSize(holder);
      c.hbnet(['reset', holder]);
      c.start(holder, cmd);
      started[holder] = Date.now();
      try {
        await c.waitForLog(holder, 'Initial resource acquisition complete', SETTLE_MS, from, 20);
      } catch (e) {
        out.errors.push(`restart of ${holder}: ${firstLine(e)}`);
        break;
      }
      holder = survivor;
    }
  } catch (e) {
    out.errors.push(firstLine(e));
  } finally {
    c.down();
  }
  return out;
}

// ---------------------------------------------------------------- standby

export interface StandbyFigures {
  impl: Impl;
  command: string;
  /** hb_standby run on the holder -> svc1 stop there, ms. */
  requestToStopMs: number[];
  /** hb_standby run on the holder -> svc1 start on the peer, ms. */
  requestToStartMs: number[];
  errors: string[];
}

/**
 * auto_failback on; per trial `hb_standby` (all) runs on the holder (`hbnet
 * exec`, so the figure includes starting the command), the peer's svc1 start
 * is awaited, then the end of the hand-over on both sides (the holder's
 * "Other node completed standby takeover", the peer's "Standby resource
 * acquisition done"), and the peer is the holder of the next trial.
 */
export async function benchStandby(cfg: ResourceBenchConfig, impl: Impl, trials: number, budgetMs: number): Promise<StandbyFigures> {
  const cmd = impl === 'ours' ? cfg.ours : cfg.original;
  const standby = cfg.standby[impl];
  const c = new BenchCluster(cfg.hbnet, { ...RSC_TIMINGS, HBNET_AUTO_FAILBACK: 'on' });
  const out: StandbyFigures = { impl, command: standby.join(' '), requestToStopMs: [], requestToStartMs: [], errors: [] };
  const endBy = Date.now() + budgetMs;
  try {
    c.hbnet(['up', 'node1', 'node2']);
    await startPair(c, cmd);
    let holder = 'node1';
    for (let t = 0; t < trials && Date.now() < endBy; t++) {
      const peer = peerOf(holder);
      try {
        const hCalls = dummyCalls(c, holder).length;
        const pCalls = dummyCalls(c, peer).length;
        const hLog = c.logSize(holder);
        const pLog = c.logSize(peer);
        const requestAt = Date.now();
        c.hbnet(['exec', holder, ...standby]);
        const stop = await waitForCall(c, holder, 'stop', 15_000, hCalls);
        const start = await waitForCall(c, peer, 'start', 15_000, pCalls);
        out.requestToStopMs.push(stop.at - requestAt);
        out.requestToStartMs.push(start.at - requestAt);
        // The hand-over is over for both (the next request would be refused while it runs).
        await c.waitForLog(holder, 'Other node completed standby takeover', 15_000, hLog, 20);
        await c.waitForLog(peer, 'Standby resource acquisition done', 15_000, pLog, 20);
        holder = peer;
      } catch (e) {
        out.errors.push(firstLine(e));
        break;
      }
    }
  } catch (e) {
    out.errors.push(firstLine(e));
  } finally {
    c.down();
  }
  return out;
}

// ---------------------------------------------------------------- printing

const fmt = (xs: number[], f: (x: number[]) => number): string => (xs.length ? f(xs).toFixed(0) : '-');
const ratio = (a: number[], b: number[], f: (x: number[]) => number): string => (a.length && b.length && f(b) > 0 ? (f(a) / f(b)).toFixed(2) : 'n/a');

export function printTakeover(ours: TakeoverFigures, original: TakeoverFigures | string): void {
  console.log(`== takeover after SIGKILL of the holder (2 nodes, ucast, keepalive ${RSC_KEEPALIVE_MS} ms, deadtime ${RSC_DEADTIME_MS} ms, group hbdummy::svc1; ms) ==`);
  console.log('   kill->start: SIGKILL to svc1 start on the survivor; kill->dead: to "is dead"; dead->start: the resource manager\'s part');
  console.log(`${'daemon'.padEnd(22)} ${'trials'.padStart(6)} ${'kill->start med'.padStart(16)} ${'max'.padStart(6)} ${'kill->dead med'.padStart(15)} ${'dead->start med'.padStart(16)} ${'max'.padStart(6)}`);
  const row = (name: string, f: TakeoverFigures): void => {
    console.log(
      `${name.padEnd(22)} ${String(f.killToStartMs.length).padStart(6)} ${fmt(f.killToStartMs, median).padStart(16)} ${fmt(f.killToStartMs, max).padStart(6)} ${fmt(f.killToDeadMs, median).padStart(15)} ${fmt(f.deadToStartMs, median).padStart(16)} ${fmt(f.deadToStartMs, max).padStart(6)}`,
    );
    console.log(`${''.padEnd(22)} each kill->start: ${f.killToStartMs.join(' ')}; each dead->start: ${f.deadToStartMs.join(' ')}`);
    for (const e of f.errors) console.log(`  ${name} trial failed: ${e}`);
  };
  row('ours (both nodes)', ours);
  if (typeof original === 'string') {
    console.log(`original: skipped (${original})`);
    return;
  }
  row('original 3.0.6 (both)', original);
  console.log(
    `ratio ours/original: kill->start median ${ratio(ours.killToStartMs, original.killToStartMs, median)}, max ${ratio(ours.killToStartMs, original.killToStartMs, max)}; ` +
      `dead->start median ${ratio(ours.deadToStartMs, original.deadToStartMs, median)}`,
  );
}

export function printStandby(ours: StandbyFigures, original: StandbyFigures | string): void {
  console.log('== hb_standby hand-over (2 nodes, ucast, group hbdummy::svc1, auto_failback on; ms from running the command on the holder) ==');
  console.log(`${'daemon'.padEnd(22)} ${'trials'.padStart(6)} ${'->stop med'.padStart(11)} ${'->start med'.padStart(12)} ${'max'.padStart(6)}  command`);
  const row = (name: string, f: StandbyFigures): void => {
    console.log(
      `${name.padEnd(22)} ${String(f.requestToStartMs.length).padStart(6)} ${fmt(f.requestToStopMs, median).padStart(11)} ${fmt(f.requestToStartMs, median).padStart(12)} ${fmt(f.requestToStartMs, max).padStart(6)}  ${f.command}`,
    );
    console.log(`${''.padEnd(22)} each ->start: ${f.requestToStartMs.join(' ')}`);
    for (const e of f.errors) console.log(`  ${name} trial failed: ${e}`);
  };
  row('ours (both nodes)', ours);
  if (typeof original === 'string') {
    console.log(`original: skipped (${original})`);
    return;
  }
  row('original 3.0.6 (both)', original);
  console.log(
    `ratio ours/original: request->start median ${ratio(ours.requestToStartMs, original.requestToStartMs, median)}, max ${ratio(ours.requestToStartMs, original.requestToStartMs, max)}; ` +
      `request->stop median ${ratio(ours.requestToStopMs, original.requestToStopMs, median)}`,
  );
}
