import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

export interface StartupFigure {
  command: string;
  medianMs: number;
  p90Ms: number;
}

/**
 * NODE_EXTRA_CA_CERTS makes every node process parse a CA bundle at start
 * (~50 ms on this machine); it is a property of the environment, not of our
 * code, and no command here makes TLS connections, so both sides run without it.
 */
const startupEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env['NODE_EXTRA_CA_CERTS'];
  return env;
};

function timeRuns(file: string, args: string[], runs: number): number[] {
  const env = startupEnv();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(file, args, { stdio: 'ignore', timeout: 10_000, env });
    const t1 = process.hrtime.bigint();
    if (r.error) throw r.error;
    times.push(Number(t1 - t0) / 1e6);
  }
  return times.sort((a, b) => a - b);
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/**
 * Start-up time of each bin/ command against a bare `node -e 0` measured in the
 * same run: scripts call `drbdadm role` and `cl_status` in loops, so start-up
 * must stay well under 150 ms.
 */
export function benchStartup(repoRoot: string, commands: { name: string; args: string[] }[], runs = 30): {
  reference: StartupFigure;
  figures: StartupFigure[];
} {
  const ref = timeRuns(process.execPath, ['-e', '0'], runs);
  const reference = { command: 'node -e 0', medianMs: quantile(ref, 0.5), p90Ms: quantile(ref, 0.9) };
  const figures = commands.map(({ name, args }) => {
    const t = timeRuns(path.join(repoRoot, 'bin', name), args, runs);
    return { command: [name, ...args].join(' '), medianMs: quantile(t, 0.5), p90Ms: quantile(t, 0.9) };
  });
  return { reference, figures };
}
