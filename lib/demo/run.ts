/**
 * The demo's script: start two nodes, show who holds the group, crash the
 * holder, time the takeover, bring it back for the failback, clean up. Every
 * wait is bounded; any failure names the step, shows the nodes' last log
 * lines, and still cleans up.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { type DemoCluster, LogTail, nodeDirs, repoFiles, run, sleep } from './cluster.js';
import { LoopbackCluster } from './loopback.js';
import { NetnsCluster } from './netns.js';
import { DemoError, DemoErrorCode, haresourcesText, makePlan, type DemoMode, type DemoPlan } from './plan.js';

export interface DemoOptions {
  readonly mode: DemoMode | 'auto';
  readonly failback: boolean;
  readonly subnet?: string;
  readonly webPort?: number;
  readonly hbPort?: number;
  /** Where output lines go (default stdout). */
  readonly print?: (line: string) => void;
}

export interface DemoFigures {
  readonly mode: DemoMode;
  /** SIGKILL of node1 -> node2 logs "node node1: is dead", ms. */
  readonly killToDeadMs: number;
  /** SIGKILL -> node2 starts the group (its resource start line), ms. */
  readonly killToAcquireMs: number;
  /** SIGKILL -> the client's first answer from node2, ms. */
  readonly killToServiceMs: number;
  /** The client's last answer from node1 -> its first from node2, ms. */
  readonly clientOutageMs: number;
  /** node1's restart -> the client's first answer from node1 again (failback), ms. */
  readonly failbackMs?: number;
}

/** Errors runDemo has already explained on its output (with the nodes' logs). */
export const reportedErrors = new WeakSet<object>();

const PROBE_INTERVAL_MS = 50;
const STARTUP_TIMEOUT_MS = 30_000;

interface ProbeEvent {
  readonly at: number;
  readonly node?: string;
  readonly error?: string;
  /** When the last answer before this event came. */
  readonly okBefore?: number;
}

/** The probe's JSON lines, kept in order, with a bounded wait for a condition. */
class ProbeWatch {
  readonly events: ProbeEvent[] = [];
  #buf = '';
  #exited: string | undefined;

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (c: string) => {
      this.#buf += c;
      let i: number;
      while ((i = this.#buf.indexOf('\n')) >= 0) {
        const line = this.#buf.slice(0, i);
        this.#buf = this.#buf.slice(i + 1);
        try {
          this.events.push(JSON.parse(line) as ProbeEvent);
        } catch {
          // not ours
        }
      }
    });
    let err = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (c: string) => (err += c));
    child.on('exit', (code, sig) => (this.#exited = `the client probe exited (${sig ?? code})${err ? `: ${err.trim()}` : ''}`));
  }

  /** Bounded wait for the first event from index `from` on that satisfies `ok`. */
  async waitFor(ok: (e: ProbeEvent) => boolean, timeoutMs: number, what: string, from = 0): Promise<ProbeEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.slice(from).find(ok);
      if (hit !== undefined) return hit;
      if (this.#exited !== undefined) throw new DemoError(DemoErrorCode.Command, this.#exited);
      if (Date.now() > deadline) throw new DemoError(DemoErrorCode.Timeout, `${what} within ${(timeoutMs / 1000).toFixed(0)} s (client saw: ${this.describe()})`);
      await sleep(20); // poll interval of a bounded wait
    }
  }

  describe(): string {
    const last = this.events[this.events.length - 1];
    return last === undefined ? 'nothing yet' : last.node !== undefined ? `hello from ${last.node}` : `no answer (${last.error})`;
  }
}

/** Removes namespaces and folders of earlier hb-demo runs that were killed before they could clean up. */
function removeStale(print: (l: string) => void): void {
  let names: string[] = [];
  try {
    names = readdirSync('/run/netns');
  } catch {
    // none
  }
  for (const ns of names) {
    const m = /^hbdemo(\d+)-/.exec(ns);
    if (m === null || existsSync(`/proc/${m[1]}`)) continue;
    for (const pid of run('ip', ['netns', 'pids', ns]).stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
    run('ip', ['netns', 'del', ns]);
    print(`(removed namespace ${ns} left by an earlier run)`);
  }
  let tmps: string[] = [];
  try {
    tmps = readdirSync(tmpdir());
  } catch {
    // no such folder: nothing stale
  }
  for (const d of tmps) {
    const m = /^hbdemo-(\d+)-/.exec(d);
    if (m !== null && !existsSync(`/proc/${m[1]}`)) rmSync(path.join(tmpdir(), d), { recursive: true, force: true });
  }
}

function tailOf(file: string, lines: number): string {
  if (!existsSync(file)) return '(none)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

export function chooseMode(requested: DemoMode | 'auto'): { mode: DemoMode; why: string } {
  const netnsMissing = NetnsCluster.missing();
  if (requested === 'netns') {
    if (netnsMissing) throw new DemoError(DemoErrorCode.Unavailable, `--mode netns: ${netnsMissing}`);
    return { mode: 'netns', why: 'as asked' };
  }
  if (requested === 'loopback') return { mode: 'loopback', why: 'as asked' };
  return netnsMissing ? { mode: 'loopback', why: `no namespaces: ${netnsMissing}` } : { mode: 'netns', why: 'running as root' };
}

export async function runDemo(o: DemoOptions): Promise<DemoFigures> {
  const print = o.print ?? ((l: string) => process.stdout.write(l + '\n'));
  const { mode, why } = chooseMode(o.mode);
  const files = repoFiles();
  const plan: DemoPlan = makePlan({
    mode,
    secret: randomBytes(12).toString('hex'),
    autoFailback: true,
    ...(o.subnet !== undefined ? { subnet: o.subnet } : {}),
    ...(o.webPort !== undefined ? { webPort: o.webPort } : {}),
    ...(o.hbPort !== undefined ? { hbPort: o.hbPort } : {}),
  });
  if (mode === 'netns') removeStale(print);
  // Namespaced nodes get /run and /var/lib of their own, so their files must not live there.
  const tmp = mode === 'netns' && /^\/(run|var\/run|var\/lib)(\/|$)/.test(tmpdir()) ? '/tmp' : tmpdir();
  const workDir = mkdtempSync(path.join(tmp, `hbdemo-${process.pid}-`));
  let cluster: DemoCluster;
  try {
    cluster =
      mode === 'netns' ? new NetnsCluster(plan, workDir, files, `hbdemo${process.pid}-`) : new LoopbackCluster(plan, workDir, files, `${process.pid}-${randomBytes(4).toString('hex')}`);
  } catch (e) {
    rmSync(workDir, { recursive: true, force: true });
    throw e;
  }

  // Clean up whatever happens: normal end, error, Ctrl-C, kill.
  const onSignal = (sig: NodeJS.Signals): void => {
    print(`\nhb-demo: ${sig}: cleaning up`);
    cluster.tearDown();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  const onExit = (): void => cluster.tearDown();
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
  process.on('exit', onExit);

  const t0 = Date.now();
  const stamp = (at = Date.now()): string => `[${((at - t0) / 1000).toFixed(1).padStart(5)} s]`;
  const say = (text: string, at?: number): void => print(`${stamp(at)} ${text}`);
  const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const [n1, n2] = plan.nodes;
  const url = `http://${plan.serviceAddress}${plan.servicePort === 80 ? '' : `:${plan.servicePort}`}/`;
  const t = plan.timings;
  let probe: ProbeWatch | undefined;
  let step = 'setting up';

  try {
    print(`hb-demo: two heartbeat-ts nodes on this machine, ${mode === 'netns' ? 'each in its own network namespaces' : 'on the loopback interface'} (${why})`);
    if (mode === 'netns') {
      print(`  ${n1.name} ${n1.address}, ${n2.name} ${n2.address}, a client ${plan.clientAddress}, on a private bridge (nothing leaves these namespaces)`);
      print(`  heartbeats: ucast on eth0, udpport ${plan.hbPort}`);
      if (!NetnsCluster.hasGratuitousArp()) {
        print('  note: no arping (iputils-arping) or send_arp here, so IPaddr2 cannot send a gratuitous ARP: the client learns');
        print('  the new holder\'s MAC only when its ARP entry for the service IP expires (shortened to ~2 s in the demo)');
      }
    } else {
      print(`  ${n1.name} and ${n2.name}: processes of this user with their own config, run and state folders`);
      print(`  heartbeats: multicast ${plan.mcastGroup}:${plan.hbPort} on lo. Without root no address can be added, so the`);
      print(`  service address ${plan.serviceAddress} (local, like all of 127.0.0.0/8) is bound by the web service of the holder`);
    }
    print(`  haresources: ${haresourcesText(plan).split('\n')[1]}`);
    print(`  keepalive ${t.keepaliveMs} ms, deadtime ${t.deadtimeS} s, auto_failback on (short demo timings)`);
    print(`  files: ${workDir} (removed at the end)`);
    print('');
    if (mode === 'loopback') await checkFree(plan.serviceAddress, plan.servicePort);
    cluster.setUp();

    step = 'starting the nodes';
    const log1 = new LogTail(cluster.logFile(n1.name));
    const log2 = new LogTail(cluster.logFile(n2.name));
    say(`starting heartbeat on ${n1.name} and ${n2.name}`);
    cluster.startDaemon(n1.name);
    cluster.startDaemon(n2.name);
    const up1 = await log1.waitFor("Local status now set to: 'up'", STARTUP_TIMEOUT_MS, 0, `${n1.name}'s start`);
    await log1.waitFor(`Status update for node ${n2.name}: status active`, STARTUP_TIMEOUT_MS, 0, `${n1.name} seeing ${n2.name} active`);
    say(`${n1.name} and ${n2.name} are up and see each other`);

    step = 'the first acquisition';
    await log1.waitFor('Initial resource acquisition complete', STARTUP_TIMEOUT_MS, 0, `${n1.name}'s acquisition of its group`);
    await waitForRsc(cluster, n1.name, 'local', 10_000);
    // As in 3.0.6, rscstatus names classes: n2 has run its (empty) local acquisition, so it says "local" too.
    await waitForRsc(cluster, n2.name, 'local', 10_000);
    say(`${n1.name} holds the group: cl_status rscstatus says "local" on both (${n2.name} owns no group of its own)`);
    probe = new ProbeWatch(cluster.spawnProbe(PROBE_INTERVAL_MS));
    const first = await probe.waitFor((e) => e.node === n1.name, 10_000, `the client getting an answer from ${n1.name} at ${url}`);
    say(`client: ${url} answers "hello from ${first.node}"`, first.at);

    // A node advertises deadtime + 2 s for its first 5 s; kill after that, so the figure is the steady-state one.
    const settle = up1 + 5000 + 2 * t.keepaliveMs - Date.now();
    if (settle > 0) await sleep(settle);

    step = 'the takeover';
    const from2 = log2.mark();
    const fromProbe = probe.events.length;
    const killedAt = Date.now();
    cluster.crash(n1.name);
    say(`crash of ${n1.name}: SIGKILL to every one of its processes${mode === 'netns' ? ', its link down' : ''}`, killedAt);
    const deadAt = await log2.waitFor(`node ${n1.name}: is dead`, t.deadtimeS * 1000 + 10_000, from2, `${n2.name} declaring ${n1.name} dead`, 5);
    say(`  +${secs(deadAt - killedAt)}  ${n2.name} logs "node ${n1.name}: is dead"`, deadAt);
    const acquireAt = await log2.waitFor(/Running \S*hbdemo-web \S+ \S+ start/, 15_000, from2, `${n2.name} starting the web service`, 5);
    say(`  +${secs(acquireAt - killedAt)}  ${n2.name} takes the group over (${mode === 'netns' ? 'service IP up, ' : ''}hbdemo-web starting)`, acquireAt);
    const served = await probe.waitFor((e) => e.node === n2.name, 15_000, `the client getting an answer from ${n2.name}`, fromProbe);
    say(`  +${secs(served.at - killedAt)}  client: "hello from ${n2.name}"`, served.at);
    const outageMs = served.at - (served.okBefore ?? killedAt);
    await waitForRsc(cluster, n2.name, 'all', 10_000);
    const rsc2 = cluster.clStatus(n2.name, ['rscstatus']).stdout.trim();
    print(`          takeover: kill -> "is dead" ${secs(deadAt - killedAt)} (deadtime ${t.deadtimeS} s), kill -> service from ${n2.name} ${secs(served.at - killedAt)}`);
    print(`          the client had no answer for ${secs(outageMs)}; cl_status rscstatus on ${n2.name}: "${rsc2}" (it holds ${n1.name}'s group)`);
    let failbackMs: number | undefined;
    if (o.failback) {
      step = 'the failback';
      cluster.reboot(n1.name);
      const fromProbe2 = probe.events.length;
      const from1 = log1.mark();
      const restartAt = Date.now();
      cluster.startDaemon(n1.name);
      say(`${n1.name} boots again and starts heartbeat (auto_failback on: the group should come back to it)`, restartAt);
      await log1.waitFor("Local status now set to: 'up'", STARTUP_TIMEOUT_MS, from1, `${n1.name}'s restart`);
      const back = await probe.waitFor((e) => e.node === n1.name, STARTUP_TIMEOUT_MS, `the client getting an answer from ${n1.name} again`, fromProbe2);
      failbackMs = back.at - restartAt;
      say(`  +${secs(failbackMs)}  client: "hello from ${n1.name}" again`, back.at);
      await waitForRsc(cluster, n1.name, 'local', 10_000);
      await waitForRsc(cluster, n2.name, 'local', 10_000);
      print(`          failback: ${n2.name} stopped the group, then ${n1.name} started it; the client had no answer for ${secs(back.at - (back.okBefore ?? restartAt))}`);
      print(`          cl_status rscstatus: "local" on ${n1.name} and on ${n2.name} (which gave the foreign class back)`);
    }
    step = 'cleaning up';
    return {
      mode,
      killToDeadMs: deadAt - killedAt,
      killToAcquireMs: acquireAt - killedAt,
      killToServiceMs: served.at - killedAt,
      clientOutageMs: outageMs,
      ...(failbackMs !== undefined ? { failbackMs } : {}),
    };
  } catch (e) {
    print(`\nhb-demo: failed during ${step}: ${(e as Error).message}`);
    for (const n of plan.nodes) {
      const log = cluster.logFile(n.name);
      print(`--- last lines of ${n.name}'s ha-log:\n${tailOf(log, 12)}`);
      // The daemon's own output repeats its log lines; it matters when there is no log (it did not start).
      const out = cluster.daemonOut(n.name).trim();
      if (out && !existsSync(log)) print(`--- ${n.name}'s daemon output:\n${out.split('\n').slice(-8).join('\n')}`);
      const web = path.join(nodeDirs(workDir, n.name).runDir, `hbdemo-web-${plan.servicePort}.log`);
      if (existsSync(web) && readFileSync(web, 'utf8').trim()) print(`--- ${n.name}'s web service output:\n${tailOf(web, 5)}`);
    }
    if (typeof e === 'object' && e !== null) reportedErrors.add(e);
    throw e;
  } finally {
    cluster.tearDown();
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, onSignal);
    process.off('exit', onExit);
    const left = cluster.leftovers();
    print(left.length ? `hb-demo: cleanup left: ${left.join(', ')}` : `${stamp()} cleaned up: ${mode === 'netns' ? 'namespaces, ' : ''}processes and ${workDir} are gone`);
  }
}

/** Loopback: the service address must be free, or the web service cannot start (a clear error now, not a timeout later). */
function checkFree(address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) =>
      reject(new DemoError(DemoErrorCode.Unavailable, `the service address ${address}:${port} is not free (${e.code ?? e.message}): choose another with --web-port`)),
    );
    srv.listen({ host: address, port }, () => srv.close(() => resolve()));
  });
}

async function waitForRsc(c: DemoCluster, node: string, want: string | readonly string[], timeoutMs: number): Promise<void> {
  const ok = typeof want === 'string' ? [want] : want;
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const r = c.clStatus(node, ['rscstatus']);
    last = r.stdout.trim() || r.stderr.trim();
    if (ok.includes(last)) return;
    if (Date.now() > deadline) throw new DemoError(DemoErrorCode.Timeout, `cl_status rscstatus on ${node} is "${last}", not ${ok.map((x) => `"${x}"`).join(' or ')}, after ${(timeoutMs / 1000).toFixed(0)} s`);
    await sleep(100); // poll interval of a bounded wait
  }
}
