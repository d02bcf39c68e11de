import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchStartup } from './startup.js';

// dist/bench/run.js -> repository root
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function printStartup(): void {
  const { reference, figures } = benchStartup(repoRoot, [
    { name: 'heartbeat', args: ['--help'] },
    { name: 'drbdadm', args: ['--help'] },
    { name: 'ldirectord', args: ['--help'] },
  ]);
  console.log('== command start-up (30 runs each; reference: bare node in the same run) ==');
  console.log(`${'command'.padEnd(24)} ${'median ms'.padStart(10)} ${'p90 ms'.padStart(8)} ${'x node'.padStart(7)}  budget 150 ms`);
  for (const f of [reference, ...figures]) {
    const ratio = f.medianMs / reference.medianMs;
    const verdict = f === reference ? '' : f.p90Ms < 150 ? 'ok' : 'OVER';
    console.log(
      `${f.command.padEnd(24)} ${f.medianMs.toFixed(1).padStart(10)} ${f.p90Ms.toFixed(1).padStart(8)} ${ratio.toFixed(2).padStart(7)}  ${verdict}`,
    );
  }
}

printStartup();
