/**
 * The NBD server shell: Unix-socket (and optional loopback TCP) listeners, one
 * decoder per connection, requests carried out one at a time per connection
 * against a BlockBackend.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { CMD, CMD_FLAG, ERRNO, encodeServerGreeting, encodeSimpleReply, NbdServerDecoder, type NbdRequest } from './codec.js';
import { checkRequest, handleOption, type ExportCatalog, type ExportInfo } from './negotiate.js';

export interface BlockBackend {
  read(offset: number, length: number): Promise<Uint8Array>;
  write(offset: number, data: Uint8Array, fua: boolean): Promise<void>;
  flush(): Promise<void>;
  trim(offset: number, length: number, fua: boolean): Promise<void>;
  writeZeroes(offset: number, length: number, fua: boolean): Promise<void>;
}

export interface NbdExport extends ExportInfo {
  readonly backend: BlockBackend;
}

export interface NbdServerOptions {
  /** Current exports (looked up on every negotiation, so role changes apply to new connections). */
  readonly exports: () => readonly NbdExport[];
  /** Re-read for every request, so a demoted export refuses writes at once. */
  readonly isReadOnly?: (name: string) => boolean;
  readonly onLog?: (level: 'info' | 'warn', msg: string) => void;
}

/** errno from an exception thrown by a backend. */
function errnoOf(e: unknown): number {
  const code = (e as { code?: string }).code;
  if (code === 'ENOSPC') return ERRNO.ENOSPC;
  if (code === 'EPERM' || code === 'EROFS') return ERRNO.EPERM;
  if (code === 'IO_RANGE') return ERRNO.EINVAL;
  return ERRNO.EIO;
}

export class NbdServer {
  private readonly servers: net.Server[] = [];
  private readonly conns = new Set<net.Socket>();
  /** Requests served, for tests and counters. */
  readonly stats = { connections: 0, requests: 0, refusedWrites: 0 };

  constructor(private readonly opts: NbdServerOptions) {}

  private catalog(): ExportCatalog & { exports: readonly NbdExport[] } {
    const exports = this.opts.exports();
    return {
      exports,
      list: () => exports,
      lookup: (name) => (name === '' ? exports[0] : exports.find((e) => e.name === name)),
    };
  }

  async listenUnix(path: string): Promise<void> {
    try {
      fs.unlinkSync(path);
    } catch {
      /* not there */
    }
    await this.listen((s) => s.listen(path), path);
  }

  /** Loopback TCP only: the export has no authentication. Returns the bound port. */
  async listenTcp(port: number, host = '127.0.0.1'): Promise<number> {
    const s = await this.listen((srv) => srv.listen(port, host), `${host}:${port}`);
    return (s.address() as net.AddressInfo).port;
  }

  private listen(start: (s: net.Server) => void, what: string): Promise<net.Server> {
    const s = net.createServer((sock) => this.accept(sock));
    this.servers.push(s);
    return new Promise((resolve, reject) => {
      s.once('error', (e) => reject(new Error(`NBD listen on ${what}: ${e.message}`)));
      s.once('listening', () => resolve(s));
      start(s);
    });
  }

  private accept(sock: net.Socket): void {
    this.stats.connections++;
    this.conns.add(sock);
    sock.on('close', () => this.conns.delete(sock));
    sock.on('error', () => sock.destroy());
    const dec = new NbdServerDecoder();
    let clientFlags = 0;
    let exp: NbdExport | undefined;
    const queue: NbdRequest[] = [];
    let busy = false;
    const send = (b: Uint8Array) => {
      if (!sock.destroyed) sock.write(b);
    };
    const pump = async () => {
      if (busy) return;
      busy = true;
      try {
        while (queue.length > 0 && !sock.destroyed) {
          const r = queue.shift()!;
          if (r.type === CMD.DISC) {
            sock.end();
            return;
          }
          await this.serve(r, exp!, send);
          if (sock.writableNeedDrain) await new Promise<void>((res) => sock.once('drain', res));
        }
      } finally {
        busy = false;
      }
    };
    const handle = (chunk: Uint8Array): void => {
      const events = dec.push(chunk);
      for (const ev of events) {
        if (ev.kind === 'protocol-error') {
          this.opts.onLog?.('warn', `NBD client protocol error: ${ev.message}`);
          sock.destroy();
          return;
        }
        if (ev.kind === 'client-flags') clientFlags = ev.flags;
        else if (ev.kind === 'option') {
          const out = handleOption(ev.option, ev.data, clientFlags, this.catalog());
          for (const r of out.replies) send(r);
          if (out.close) {
            sock.end();
            return;
          }
          if (out.export !== undefined) {
            exp = out.export as NbdExport;
            dec.startTransmission();
            handle(new Uint8Array(0));
            return;
          }
        } else if (ev.kind === 'request') {
          queue.push(ev.request);
        }
      }
      // The decoder stops after a GO/EXPORT_NAME; when it did not start transmission, read on.
      const last = events[events.length - 1];
      if (last?.kind === 'option') {
        handle(new Uint8Array(0));
        return;
      }
      void pump();
    };
    sock.on('data', handle);
    send(encodeServerGreeting());
  }

  private async serve(r: NbdRequest, e: NbdExport, send: (b: Uint8Array) => void): Promise<void> {
    this.stats.requests++;
    const readOnly = this.opts.isReadOnly?.(e.name) ?? e.readOnly;
    const live: ExportInfo = { ...e, readOnly };
    const err = checkRequest(r, live);
    if (err !== undefined) {
      if (err === ERRNO.EPERM) {
        this.stats.refusedWrites++;
        this.opts.onLog?.('warn', `${e.name}: write refused: ${e.readOnlyReason ?? 'export is read-only'}`);
      }
      send(encodeSimpleReply(err, r.handle));
      return;
    }
    const off = Number(r.offset);
    const fua = (r.flags & CMD_FLAG.FUA) !== 0;
    try {
      switch (r.type) {
        case CMD.READ:
          send(encodeSimpleReply(0, r.handle, await e.backend.read(off, r.length)));
          return;
        case CMD.WRITE:
          await e.backend.write(off, r.data!, fua);
          break;
        case CMD.FLUSH:
          await e.backend.flush();
          break;
        case CMD.TRIM:
          await e.backend.trim(off, r.length, fua);
          break;
        case CMD.WRITE_ZEROES:
          await e.backend.writeZeroes(off, r.length, fua);
          break;
        case CMD.CACHE:
          break;
      }
      send(encodeSimpleReply(0, r.handle));
    } catch (ex) {
      this.opts.onLog?.('warn', `${e.name}: I/O error: ${(ex as Error).message}`);
      send(encodeSimpleReply(errnoOf(ex), r.handle));
    }
  }

  /** Open client connections. */
  get connectionCount(): number {
    return this.conns.size;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((res) => s.close(() => res()))));
    this.servers.length = 0;
  }
}
