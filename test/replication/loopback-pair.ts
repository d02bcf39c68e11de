/**
 * Two drbdd on this machine's loopback (127.0.0.1 and 127.0.0.2), each with
 * its own run folder, log and backing file in one temp folder, the device not
 * exposed: what the two-node daemon tests share. `resource()` writes the
 * drbd.conf from the net and disk sections a test wants.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runBin, type CommandResult } from '../helpers/env.js';
import { waitFor } from '../shared/wait-for.js';

export type PairNode = 'a' | 'b';
export const MiB = 1024 * 1024;

export class LoopbackPair {
  readonly dir: string;
  readonly conf: string;
  readonly minor: number;
  readonly port: number;

  /** `host` prefixes the two host names (`${host}a`, `${host}b`); the backing files get `sizeMiB` each. */
  constructor(readonly host: string, sizeMiB: number) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `${host}-drbd-`));
    this.conf = path.join(this.dir, 'drbd.conf');
    this.minor = 200 + Math.floor(Math.random() * 100);
    this.port = 20000 + Math.floor(Math.random() * 20000);
    for (const n of ['a', 'b']) {
      fs.writeFileSync(path.join(this.dir, `${n}.img`), '');
      fs.truncateSync(path.join(this.dir, `${n}.img`), sizeMiB * MiB);
    }
  }

  /** Writes drbd.conf: resource r0 with these `net { }` and `disk { }` bodies, on the pair's port (or `port`). */
  resource(net: string, disk: string, port = this.port): void {
    const on = (n: PairNode, ip: string): string =>
      `  on ${this.host}${n} { device /dev/drbd${this.minor} minor ${this.minor}; disk ${this.dir}/${n}.img; address ${ip}:${port}; meta-disk internal; }`;
    fs.writeFileSync(this.conf, `resource r0 {\n  net { ${net} }\n  disk { ${disk} }\n${on('a', '127.0.0.1')}\n${on('b', '127.0.0.2')}\n}\n`);
  }

  env(n: PairNode): NodeJS.ProcessEnv {
    return {
      DRBD_HOSTNAME: `${this.host}${n}`,
      DRBD_LOCAL_ADDRESSES: n === 'a' ? '127.0.0.1' : '127.0.0.2',
      DRBD_TS_RUN_DIR: path.join(this.dir, `run-${n}`),
      DRBD_TS_LOG: path.join(this.dir, `${n}.log`),
      DRBD_TS_SYSLOG: '0',
      DRBD_TS_EXPOSE: 'none',
    };
  }

  adm(n: PairNode, ...args: string[]): CommandResult {
    return runBin('drbdadm', ['-c', this.conf, ...args], { env: this.env(n) });
  }

  proc(n: PairNode): string {
    return fs.readFileSync(path.join(this.dir, `run-${n}`, 'proc-drbd'), 'utf8');
  }

  log(n: PairNode): string {
    return fs.readFileSync(path.join(this.dir, `${n}.log`), 'utf8');
  }

  pidOf(n: PairNode): number {
    return Number(fs.readFileSync(path.join(this.dir, `run-${n}`, 'drbdd.pid'), 'utf8').trim());
  }

  /** Bounded wait until `drbdadm CMD r0` on `n` prints `want`. */
  async until(n: PairNode, cmd: string, want: string, ms = 60_000): Promise<void> {
    let last = '';
    await waitFor(() => (last = this.adm(n, cmd, 'r0').stdout.trim()) === want, ms, `${n} ${cmd} = ${want} (last: ${last})`);
  }

  /** `down` on both, SIGKILL of whatever daemon is left, the folder removed. */
  cleanup(): void {
    for (const n of ['a', 'b'] as const) {
      this.adm(n, 'down', 'r0');
      try {
        process.kill(this.pidOf(n), 'SIGKILL');
      } catch {
        /* gone, or never started */
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
