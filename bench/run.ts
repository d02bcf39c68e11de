import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchStartup } from './startup.js';

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
  console.log('== command start-up (30 runs each; reference: bare node in the same run) ==');
  console.log(`${'command'.padEnd(34)} ${'median ms'.padStart(10)} ${'p90 ms'.padStart(8)} ${'x node'.padStart(7)}  budget 150 ms`);
  for (const f of [reference, ...figures]) {
    const ratio = f.medianMs / reference.medianMs;
    const verdict = f === reference ? '' : f.p90Ms < 150 ? 'ok' : 'OVER';
    console.log(
      `${f.command.replace(repoRoot + '/', '').padEnd(34)} ${f.medianMs.toFixed(1).padStart(10)} ${f.p90Ms.toFixed(1).padStart(8)} ${ratio.toFixed(2).padStart(7)}  ${verdict}`,
    );
  }
}

printStartup();
