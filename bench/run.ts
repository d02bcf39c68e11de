import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCpu, benchDetection, printCpu, printDetection, type CpuFigures, type DaemonBenchConfig } from './daemon.js';
import { ORIGINAL, sharedDir } from './hbnet.js';
import { benchStandby, benchTakeover, printStandby, printTakeover, type ResourceBenchConfig } from './resources.js';
import { benchStartup } from './startup.js';
import { benchBalancer, benchLdChecks, printBalancer, printLdChecks } from './ldirectord.js';
import { benchDrbd, printDrbd } from './drbd.js';

// dist/bench/run.js -> repository root
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function printStartup(): void {
  const { reference, figures } = benchStartup(repoRoot, [
    // Real work on the shipped samples, not just --help: parsing is part of start-up.
    { name: 'heartbeat', args: ['--check', '--confdir', path.join(repoRoot, 'etc/ha.d')] },
    { name: 'drbdadm', args: ['-c', path.join(repoRoot, 'etc/drbd.conf'), '--hostname', 'alpha', 'dump', 'all'] },
    { name: 'ldirectord', args: ['-t', path.join(repoRoot, 'etc/ha.d/ldirectord.cf')] },
    // No daemon runs here, so this times start-up plus a refused connection.
    { name: 'cl_status', args: ['hbstatus'] },
  ]);
  console.log('== command start-up (30 runs each; reference: bare node in the same run; NODE_EXTRA_CA_CERTS unset for both) ==');
  console.log(`${'command'.padEnd(34)} ${'median ms'.padStart(10)} ${'p90 ms'.padStart(8)} ${'x node'.padStart(7)}  budget 150 ms`);
  for (const f of [reference, ...figures]) {
    const ratio = f.medianMs / reference.medianMs;
    const verdict = f === reference ? '' : f.p90Ms < 150 ? 'ok' : 'OVER';
    console.log(
      `${f.command.replace(repoRoot + '/', '').padEnd(34)} ${f.medianMs.toFixed(1).padStart(10)} ${f.p90Ms.toFixed(1).padStart(8)} ${ratio.toFixed(2).padStart(7)}  ${verdict}`,
    );
  }
}

/** Why the daemon benchmarks cannot run here (hbnet needs root and its tools), or undefined. */
function daemonBenchMissing(hbnet: string): string | undefined {
  if (process.getuid?.() !== 0) return 'hbnet needs root';
  if (!existsSync(hbnet)) return `no hbnet at ${hbnet}`;
  const missing = ['ip', 'unshare', 'nsenter', 'perl'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0);
  return missing.length ? `missing tools: ${missing.join(', ')}` : undefined;
}

// BENCH_ORIGINAL: another path to the original daemon (a missing one skips the reference).
const originalPath = process.env.BENCH_ORIGINAL || ORIGINAL;
const originalMissing = (): string | undefined =>
  existsSync(originalPath) ? undefined : `the original is not installed (no ${originalPath}; apt-get install heartbeat)`;

const envInt = (name: string, dflt: number): number => {
  const v = parseInt(process.env[name] ?? '', 10);
  return Number.isFinite(v) && v > 0 ? v : dflt;
};

async function runDaemonBenches(which: Set<string>): Promise<void> {
  const hbnet = path.join(sharedDir(repoRoot), 'tools/hbnet/hbnet');
  const missing = daemonBenchMissing(hbnet);
  if (missing) {
    console.log(`== daemon benchmarks (${[...which].join(', ')}): skipped, ${missing} ==`);
    return;
  }
  const cfg: DaemonBenchConfig = { hbnet, ours: `${path.join(repoRoot, 'bin/heartbeat')} -f`, original: originalPath };
  const noOriginal = originalMissing();
  if (which.has('detection')) {
    const trials = envInt('BENCH_TRIALS', 5);
    const ours = await benchDetection(cfg, 'ours', trials, 70_000);
    const original = noOriginal ?? (await benchDetection(cfg, 'original', trials, 70_000));
    printDetection(ours, original);
  }
  if (which.has('cpu')) {
    const windowS = envInt('BENCH_CPU_SECONDS', 15);
    const figs: CpuFigures[] = [];
    for (const nodes of [2, 8]) {
      figs.push(await benchCpu(cfg, 'ours', nodes, windowS));
      if (!noOriginal) figs.push(await benchCpu(cfg, 'original', nodes, windowS));
    }
    printCpu(figs, noOriginal);
  }
  if (which.has('takeover') || which.has('standby')) {
    const trials = envInt('BENCH_TRIALS', 5);
    const rcfg: ResourceBenchConfig = { ...cfg, standby: { ours: [path.join(repoRoot, 'bin/hb_standby')], original: ['/usr/share/heartbeat/hb_standby'] } };
    if (which.has('takeover')) {
      const ours = await benchTakeover(rcfg, 'ours', trials, 90_000);
      const original = noOriginal ?? (await benchTakeover(rcfg, 'original', trials, 150_000));
      printTakeover(ours, original);
    }
    if (which.has('standby')) {
      const ours = await benchStandby(rcfg, 'ours', trials, 90_000);
      const original = noOriginal ?? (await benchStandby(rcfg, 'original', trials, 150_000));
      printStandby(ours, original);
    }
  }
}

// BENCH_ONLY=startup,detection,cpu,takeover,standby (or --only=...) runs a subset; default all.
const ALL = ['startup', 'detection', 'cpu', 'takeover', 'standby', 'ldchecks', 'balancer', 'drbd'];
const onlyArg = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length) ?? process.env.BENCH_ONLY ?? '';
const which = new Set(onlyArg.trim() ? onlyArg.split(',').map((s) => s.trim()).filter(Boolean) : ALL);
const unknown = [...which].filter((w) => !ALL.includes(w));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${ALL.join(', ')})`);
  process.exit(2);
}
if (which.has('startup')) printStartup();
if (['detection', 'cpu', 'takeover', 'standby'].some((w) => which.has(w))) await runDaemonBenches(which);
if (which.has('ldchecks')) {
  if (process.getuid?.() !== 0) console.log('== ldirectord checks: skipped, 1,000 loopback listeners on 127.0.40-43.x need root (ulimit) ==');
  else printLdChecks(await benchLdChecks(repoRoot, envInt('BENCH_LD_SECONDS', 15)));
}
if (which.has('balancer')) {
  const mb = envInt('BENCH_BALANCER_MB', 512);
  const conns = envInt('BENCH_BALANCER_CONNS', 2000);
  printBalancer(await benchBalancer(repoRoot, mb, conns), mb, conns);
}
if (which.has('drbd')) {
  const mb = envInt('BENCH_DRBD_MB', 256);
  printDrbd(await benchDrbd(repoRoot, mb, envInt('BENCH_DRBD_SECONDS', 5)), mb);
}
