/**
 * The kernel backend: ipvsadm from PATH, or the program named by $IPVSADM
 * (the original only looks at /sbin and /usr/sbin, or ./ipvsadm with -d).
 * The table is read with `-L -n` and `-L -n --thresholds` before each
 * decision, like the original; commands are run without a shell.
 */
import { execFile } from 'node:child_process';
import { ipvsadmArgs, type IpvsCommand } from '../ipvs/command.js';
import { parseIpvsListing } from '../ipvs/listing.js';
import type { IpvsTable } from '../ipvs/model.js';
import type { IpvsBackend } from './types.js';

export function ipvsadmProgram(env: NodeJS.ProcessEnv = process.env): string {
  return env.IPVSADM && env.IPVSADM !== '' ? env.IPVSADM : 'ipvsadm';
}

function run(program: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(program, args, { timeout: 30_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
      resolve({ code, stdout, stderr: stderr || (err && typeof (err as { code?: unknown }).code !== 'number' ? err.message : '') });
    });
  });
}

export class IpvsadmBackend implements IpvsBackend {
  readonly name = 'ipvsadm' as const;
  constructor(readonly program: string = ipvsadmProgram(), private readonly onRun?: (argv: string) => void) {}

  /** A listing taken by `available()`, used for the first read (saves a run of ipvsadm at start-up). */
  private primed: string | undefined;

  prime(listing: string): void {
    this.primed = listing;
  }

  async read(): Promise<IpvsTable> {
    if (this.primed !== undefined) {
      const listing = this.primed;
      this.primed = undefined;
      const thr = await run(this.program, ['-L', '-n', '--thresholds']);
      return parseIpvsListing(listing, thr.code === 0 ? thr.stdout : undefined);
    }
    const [plain, thr] = await Promise.all([run(this.program, ['-L', '-n']), run(this.program, ['-L', '-n', '--thresholds'])]);
    return parseIpvsListing(plain.code === 0 ? plain.stdout : '', thr.code === 0 ? thr.stdout : undefined);
  }

  async apply(command: IpvsCommand): Promise<string | undefined> {
    const args = ipvsadmArgs(command);
    this.onRun?.(`${this.program} ${args.join(' ')}`);
    const r = await run(this.program, args);
    return r.code === 0 ? undefined : (r.stderr.trim() || `exit status ${r.code}`);
  }

  async close(): Promise<void> {}

  /** Whether the kernel answers (auto backend choice): `ipvsadm -L -n` works. */
  static async available(program: string = ipvsadmProgram()): Promise<string | undefined> {
    const r = await run(program, ['-L', '-n']);
    return r.code === 0 ? r.stdout : undefined;
  }
}
