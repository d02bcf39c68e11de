/**
 * `meatware`: a human resets the node. The device logs (at CRIT) that an
 * operator must power-cycle the host and run `meatclient -c HOST`, then waits
 * on the FIFO `meatware.HOST` (in /var/run, as the original) for
 * meatclient's `meatware reply HOST`. It waits as long as it takes: fencing
 * must not be assumed. Parameter: hostlist.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { HostListDevice } from './host-list-device.js';
import { S, type StonithRc } from './types.js';

export { DEFAULT_MEATWARE_DIR } from './params.js';
/** meatclient writes a fixed 256-byte record. */
export const MEATWARE_RECORD = 256;

export function meatwareFifo(dir: string, host: string): string {
  return path.join(dir, `meatware.${host.toLowerCase()}`);
}

/** Whether a record from the FIFO confirms the reset of `host` (exact name; the original accepted a prefix). */
export function meatwareConfirms(record: string, host: string): boolean {
  const words = record.replace(/\0.*$/s, '').trim().split(/\s+/);
  return words.length >= 3 && words[0] === 'meatware' && words[1]!.startsWith('reply') && words[2]!.toLowerCase() === host.toLowerCase();
}

function mkfifo(file: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('mkfifo', ['-m', '600', file], (err) => resolve(err ? err.message : undefined));
  });
}

export class MeatwareDevice extends HostListDevice {
  readonly type = 'meatware';
  readonly deviceId = 'Meatware STONITH device';
  private readonly waiting = new Set<net.Socket>();

  async reset(host: string): Promise<StonithRc> {
    const log = this.env.log;
    if (!this.configured) return S.OOPS;
    const h = host.toLowerCase();
    const fifo = meatwareFifo(this.env.meatwareDir, h);
    fs.rmSync(fifo, { force: true });
    const err = await mkfifo(fifo);
    if (err !== undefined) {
      log('CRIT', 'cannot create FIFO for Meatware_reset_host');
      return S.OOPS;
    }
    log('CRIT', `OPERATOR INTERVENTION REQUIRED to reset ${h}.`);
    log('CRIT', `Run "meatclient -c ${h}" AFTER power-cycling the machine.`);
    let fd: number;
    try {
      // Read-write: we are a writer too, so the FIFO never reports end-of-file while we wait.
      fd = fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    } catch {
      log('CRIT', 'cannot open FIFO for Meatware_reset_host');
      return S.OOPS;
    }
    const record = await new Promise<string | undefined>((resolve) => {
      const sock = new net.Socket({ fd, readable: true, writable: false });
      this.waiting.add(sock);
      let buf = '';
      let timer: NodeJS.Timeout | undefined;
      const done = (v: string | undefined): void => {
        if (timer) clearTimeout(timer);
        this.waiting.delete(sock);
        sock.destroy();
        resolve(v);
      };
      if (this.env.meatwareTimeoutMs !== undefined) timer = setTimeout(() => done(undefined), this.env.meatwareTimeoutMs);
      sock.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        // One record: a whole one, or a line (a hand-written `echo ... > FIFO`).
        if (buf.length >= MEATWARE_RECORD || buf.includes('\n') || buf.includes('\0')) done(buf.slice(0, MEATWARE_RECORD));
      });
      sock.on('error', () => done(undefined));
      sock.on('close', () => done(buf === '' ? undefined : buf));
    });
    if (record === undefined) {
      log('CRIT', 'read error on FIFO for Meatware_reset_host');
      fs.rmSync(fifo, { force: true });
      return S.OOPS;
    }
    if (record.replace(/\0.*$/s, '').trim().split(/\s+/).length < 3) {
      log('CRIT', `Format error - failed to Meatware-reset node ${h}`);
      return S.RESETFAIL;
    }
    if (!meatwareConfirms(record, h)) {
      log('CRIT', `failed to Meatware-reset node ${h}`);
      return S.RESETFAIL;
    }
    log('info', `node Meatware-reset: ${h}`);
    fs.rmSync(fifo, { force: true });
    return S.OK;
  }

  /** Stops waiting for an operator (daemon shutdown). */
  cancel(): void {
    for (const s of [...this.waiting]) s.destroy();
  }
}
