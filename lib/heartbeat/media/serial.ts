/**
 * `serial <tty>` with `baud`: a tty (a real port, or one end of a socat pty
 * pair acting as a null-modem cable). The device is set up with stty, then
 * read and written through one non-blocking tty stream (node:tty, which
 * polls the fd instead of parking a thread-pool thread in read()).
 * Outgoing packets are written as classic frames, paced; incoming bytes are
 * cut into frames by ClassicFrameReader.
 */
import * as fs from 'node:fs';
import * as tty from 'node:tty';
import { MAX_WIRE_MESSAGE_BYTES, type AuthKey } from '../wire/index.js';
import { checkBaud, checkMaxPacket } from './checks.js';
import { MediaError, MediaErrorCode } from './errors.js';
import { DEFAULT_BAUD, MAX_SERIAL_BACKLOG_BYTES } from './limits.js';
import { MediumBase } from './medium.js';
import { PacedWriter } from './paced-writer.js';
import { ClassicFrameReader } from './serial-framer.js';
import { serialFrameOf } from './serial-frame.js';
import { configureTty } from './stty.js';

export interface SerialOptions {
  /** The tty path as written in ha.cf; also the medium's (link's) name. */
  readonly device: string;
  /** ha.cf `baud`. */
  readonly baud?: number;
  /**
   * The active authkeys key: netstring packets are re-signed with it when
   * written as classic, as serial.c does. Without it their inner `auth`
   * field (default `msgfmt classic`) is kept as is.
   */
  readonly key?: AuthKey;
  /** Largest frame sent or accepted (default: the wire codec's 256 KiB). */
  readonly maxPacketBytes?: number;
  /** Output backlog before new packets are dropped. */
  readonly maxBacklogBytes?: number;
  /**
   * Reopen a lost device (cable pulled, socat pty pair gone): first try after
   * `firstMs`, then at doubling intervals up to `maxMs`, for as long as the
   * medium is open. Off by default (a lost device stays lost).
   */
  readonly reopen?: { readonly firstMs?: number; readonly maxMs?: number };
}

/** Reopen schedule of a lost serial device: 1 s, 2 s, 4 s, 8 s, then every 10 s. */
export const SERIAL_REOPEN_FIRST_MS = 1000;
export const SERIAL_REOPEN_MAX_MS = 10_000;

export class SerialMedium extends MediumBase {
  readonly kind = 'serial' as const;
  readonly baud: number;
  #key: AuthKey | undefined;
  #reader: ClassicFrameReader;
  #stream: tty.ReadStream | undefined;
  #writer: PacedWriter | undefined;
  #lost = false;
  readonly #maxBacklog: number;
  readonly #reopen: { firstMs: number; maxMs: number } | undefined;
  #reopenTimer: NodeJS.Timeout | undefined;
  /** Reopen attempts since the device was lost (0 while it works). */
  reopenAttempts = 0;

  private constructor(opts: SerialOptions, baud: number, maxPacketBytes: number) {
    super(opts.device, maxPacketBytes);
    this.baud = baud;
    this.#key = opts.key;
    this.#reader = new ClassicFrameReader(maxPacketBytes);
    this.#maxBacklog = opts.maxBacklogBytes ?? MAX_SERIAL_BACKLOG_BYTES;
    if (opts.reopen !== undefined) {
      const firstMs = opts.reopen.firstMs ?? SERIAL_REOPEN_FIRST_MS;
      this.#reopen = { firstMs, maxMs: Math.max(firstMs, opts.reopen.maxMs ?? SERIAL_REOPEN_MAX_MS) };
    }
  }

  /** authkeys re-read: frames are re-signed with the new active key from now on. */
  setKey(key: AuthKey | undefined): void {
    this.#key = key;
  }

  /** True while the device is gone (waiting to be reopened). */
  get lost(): boolean {
    return this.#lost;
  }

  static async open(opts: SerialOptions): Promise<SerialMedium> {
    const device = opts.device;
    const baud = checkBaud(device, opts.baud ?? DEFAULT_BAUD);
    const max = checkMaxPacket(device, opts.maxPacketBytes ?? MAX_WIRE_MESSAGE_BYTES, MAX_WIRE_MESSAGE_BYTES);
    const m = new SerialMedium(opts, baud, max);
    try {
      await configureTty(device, baud);
      m.#attach(await openTty(device), m.#maxBacklog);
    } catch (e) {
      await m.close();
      throw e;
    }
    return m;
  }

  #attach(fd: number, maxBacklog: number): void {
    const stream = new tty.ReadStream(fd);
    this.#stream = stream;
    this.#writer = new PacedWriter(
      {
        write: (chunk) => stream.write(chunk),
        get pendingBytes() {
          return stream.writableLength;
        },
      },
      this.baud,
      maxBacklog,
    );
    // A destroyed earlier stream may still report; only the current one counts.
    stream.on('data', (chunk: Buffer) => {
      if (this.#stream === stream) this.#received(chunk);
    });
    stream.on('error', (e) => {
      if (this.#stream === stream) this.#deviceLost(e);
    });
    stream.on('end', () => {
      if (this.#stream === stream) this.#deviceLost(new Error('end of input'));
    });
  }

  #received(chunk: Buffer): void {
    const oversized = this.#reader.counters.oversizedFrames;
    for (const frame of this.#reader.push(chunk)) this.deliver(frame, { address: this.name });
    this.counters.droppedOversized += this.#reader.counters.oversizedFrames - oversized;
    this.counters.discardedBytes = this.#reader.counters.discardedBytes;
  }

  #deviceLost(e: Error): void {
    if (this.#lost || this.closed) return;
    this.#lost = true;
    this.#writer?.stop();
    // Let go of the tty at once: a pty's other side is freed only when no one holds it.
    const stream = this.#stream;
    this.#stream = undefined;
    stream?.destroy();
    this.fault(new MediaError(MediaErrorCode.DeviceLost, `serial device lost: ${e.message}`, { medium: this.name, cause: e }));
    if (this.#reopen !== undefined) this.#scheduleReopen(this.#reopen.firstMs);
  }

  #scheduleReopen(delayMs: number): void {
    if (this.closed) return;
    this.#reopenTimer = setTimeout(() => void this.#tryReopen(delayMs), delayMs);
  }

  async #tryReopen(lastDelayMs: number): Promise<void> {
    this.#reopenTimer = undefined;
    if (this.closed || !this.#lost) return;
    this.reopenAttempts++;
    let fd: number;
    try {
      await configureTty(this.name, this.baud);
      fd = await openTty(this.name);
    } catch {
      this.#scheduleReopen(Math.min(lastDelayMs * 2, this.#reopen!.maxMs));
      return;
    }
    if (this.closed) {
      fs.closeSync(fd);
      return;
    }
    this.#reader = new ClassicFrameReader(this.maxPacketBytes);
    this.#attach(fd, this.#maxBacklog);
    this.#lost = false;
    const attempts = this.reopenAttempts;
    this.reopenAttempts = 0;
    this.emit('restored', attempts);
  }

  send(packet: Uint8Array): void {
    if (this.closed || this.#writer === undefined) throw new MediaError(MediaErrorCode.Closed, 'send on a closed medium', { medium: this.name });
    const frame = serialFrameOf(packet, this.#key, this.name);
    if (frame.length > this.maxPacketBytes) {
      throw new MediaError(MediaErrorCode.PacketTooLarge, `frame of ${frame.length} bytes exceeds ${this.maxPacketBytes}`, { medium: this.name });
    }
    if (this.#lost) {
      // Like an unplugged cable: counted, already reported once.
      this.counters.sendErrors++;
      return;
    }
    if (!this.#writer.write(frame)) {
      this.counters.droppedBacklog++;
      return;
    }
    this.counters.packetsSent++;
  }

  protected async release(): Promise<void> {
    if (this.#reopenTimer !== undefined) clearTimeout(this.#reopenTimer);
    this.#reopenTimer = undefined;
    this.#writer?.stop();
    const stream = this.#stream;
    this.#stream = undefined;
    if (stream === undefined || stream.destroyed) return;
    await new Promise<void>((resolve) => {
      stream.once('close', () => resolve());
      stream.destroy();
    });
  }
}

/** Opens the tty read-write without making it our controlling terminal and without waiting for carrier. */
async function openTty(device: string): Promise<number> {
  const { O_RDWR, O_NOCTTY, O_NONBLOCK } = fs.constants;
  let fd: number;
  try {
    // fs.open, not fs.promises.open: a FileHandle would close the fd when collected.
    fd = await new Promise<number>((resolve, reject) => fs.open(device, O_RDWR | O_NOCTTY | O_NONBLOCK, (e, n) => (e === null ? resolve(n) : reject(e))));
  } catch (e) {
    throw new MediaError(MediaErrorCode.OpenFailed, `cannot open: ${(e as Error).message}`, { medium: device, cause: e });
  }
  if (!tty.isatty(fd)) {
    fs.closeSync(fd);
    throw new MediaError(MediaErrorCode.OpenFailed, 'not a tty', { medium: device });
  }
  return fd;
}

export const openSerial = (opts: SerialOptions): Promise<SerialMedium> => SerialMedium.open(opts);
