/** A minimal NBD client for tests (no vitest here: imported by test files). */
import * as net from 'node:net';
import { CMD, CMD_FLAG, OPT, encodeGoData, encodeOption, encodeRequest } from '../../lib/replication/nbd/codec.js';

/** A minimal NBD client: GO, then FUA writes one at a time; resolves each write on its reply. */
export class SyncWriter {
  private sock!: net.Socket;
  private buf = Buffer.alloc(0);
  private waiting: ((b: Buffer) => void) | undefined;
  private need = 0;
  dead = false;

  async open(socketPath: string): Promise<void> {
    this.sock = net.connect(socketPath);
    this.sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.pump();
    });
    this.sock.on('error', () => this.die());
    this.sock.on('close', () => this.die());
    await this.read(18);
    this.sock.write(Buffer.concat([Buffer.from([0, 0, 0, 3]), encodeOption(OPT.GO, encodeGoData(''))]));
    for (;;) {
      const h = await this.read(20);
      const len = h.readUInt32BE(16);
      if (len > 0) await this.read(len);
      if (h.readUInt32BE(12) === 1) break; // ACK
      if (h.readUInt32BE(12) >= 0x80000000) throw new Error('GO refused');
    }
  }

  private die(): void {
    this.dead = true;
    const w = this.waiting;
    this.waiting = undefined;
    w?.(Buffer.alloc(0));
  }

  private pump(): void {
    if (this.waiting !== undefined && this.buf.length >= this.need) {
      const out = this.buf.subarray(0, this.need);
      this.buf = this.buf.subarray(this.need);
      const w = this.waiting;
      this.waiting = undefined;
      w(out);
    }
  }

  private read(n: number): Promise<Buffer> {
    return new Promise((res, rej) => {
      if (this.dead) return rej(new Error('connection gone'));
      this.need = n;
      this.waiting = (b) => (b.length === n ? res(b) : rej(new Error('connection gone')));
      this.pump();
    });
  }

  /** true when acknowledged with error 0. */
  async write(offset: number, data: Uint8Array, handle: bigint): Promise<boolean> {
    if (this.dead) return false;
    this.sock.write(encodeRequest({ type: CMD.WRITE, flags: CMD_FLAG.FUA, handle, offset: BigInt(offset), length: data.length, data }));
    try {
      const r = await this.read(16);
      return r.readUInt32BE(4) === 0 && r.readBigUInt64BE(8) === handle;
    } catch {
      return false;
    }
  }

  close(): void {
    this.sock?.destroy();
  }
}

