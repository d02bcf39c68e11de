/**
 * The one transport interface of heartbeat (the hashicorp/memberlist model):
 * every medium of ha.cf (`ucast`, `bcast`, `mcast`, `serial`) and the
 * in-memory mock look the same to the daemon. A medium moves opaque packets:
 * it neither decodes nor authenticates them (lib/heartbeat/wire does), it only
 * frames them (serial) and refuses what it cannot carry.
 */
import { EventEmitter, on } from 'node:events';
import type { MediaError } from './errors.js';

export type MediumKind = 'ucast' | 'bcast' | 'mcast' | 'ucast6' | 'mcast6' | 'serial' | 'memory';

/** Where a packet came from: the sender's IPv4 address and port, or the tty path for serial. */
export interface PacketSource {
  readonly address: string;
  readonly port?: number;
}

export interface MediumStats {
  packetsSent: number;
  packetsReceived: number;
  /** Sends the kernel refused (each also a `fault` event). */
  sendErrors: number;
  /** Received datagrams / frames larger than the medium's limit. */
  droppedOversized: number;
  /** Datagrams that reached the shared port but belong to another interface or peer. */
  droppedForeign: number;
  /** Packets not sent because the link's output backlog was full (serial). */
  droppedBacklog: number;
  /** Serial bytes that were not inside a `>>>` .. `<<<` frame. */
  discardedBytes: number;
}

export const emptyStats = (): MediumStats => ({
  packetsSent: 0,
  packetsReceived: 0,
  sendErrors: 0,
  droppedOversized: 0,
  droppedForeign: 0,
  droppedBacklog: 0,
  discardedBytes: 0,
});

export interface MediumEvents {
  /** One whole packet (a datagram, or a serial frame from `>>>\n` through `<<<\n`). */
  packet: [bytes: Uint8Array, from: PacketSource];
  /** Something went wrong while running; the medium stays usable unless `closed` follows. */
  fault: [error: MediaError];
  /** The medium was closed (by close(), or because its device went away). */
  closed: [];
  /** A lost device was opened again (serial with `reopen`), after `attempts` tries. */
  restored: [attempts: number];
}

export interface Medium {
  readonly kind: MediumKind;
  /**
   * The link name heartbeat uses in logs and the API (`Link node2:eth0 up.`):
   * the interface for ucast/bcast/mcast, the device path for serial.
   */
  readonly name: string;
  /** The largest packet send() accepts. */
  readonly maxPacketBytes: number;
  readonly stats: Readonly<MediumStats>;
  readonly closed: boolean;
  /**
   * Queues one packet. Throws MediaError (MEDIA_CLOSED, MEDIA_PACKET_TOO_LARGE,
   * MEDIA_BAD_PACKET) for a caller's mistake; a failure on the wire is a
   * `fault` event instead, so a dead link never throws into the daemon.
   */
  send(bytes: Uint8Array): void;
  close(): Promise<void>;
  on<E extends keyof MediumEvents>(event: E, listener: (...args: MediumEvents[E]) => void): this;
  off<E extends keyof MediumEvents>(event: E, listener: (...args: MediumEvents[E]) => void): this;
  once<E extends keyof MediumEvents>(event: E, listener: (...args: MediumEvents[E]) => void): this;
}

/** The shared plumbing of every implementation: events, stats, the closed flag. */
export abstract class MediumBase extends EventEmitter<MediumEvents> implements Medium {
  abstract readonly kind: MediumKind;
  readonly name: string;
  readonly maxPacketBytes: number;
  protected readonly counters: MediumStats = emptyStats();
  #closed = false;

  constructor(name: string, maxPacketBytes: number) {
    super();
    this.name = name;
    this.maxPacketBytes = maxPacketBytes;
  }

  get stats(): Readonly<MediumStats> {
    return { ...this.counters };
  }

  get closed(): boolean {
    return this.#closed;
  }

  abstract send(bytes: Uint8Array): void;

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.release();
    this.emit('closed');
  }

  /** Frees sockets, devices and timers; called once. */
  protected abstract release(): Promise<void>;

  /** Hands a received packet up, unless closed. */
  protected deliver(bytes: Uint8Array, from: PacketSource): void {
    if (this.#closed) return;
    this.counters.packetsReceived++;
    this.emit('packet', bytes, from);
  }

  protected fault(error: MediaError): void {
    // Without a listener, EventEmitter would throw 'error'-style; a fault is informational, so it is simply dropped.
    if (this.listenerCount('fault') > 0) this.emit('fault', error);
  }
}

/** The packets of a medium as an async iterator, ending when `signal` aborts or the medium closes. */
export async function* packetsOf(medium: MediumBase, signal?: AbortSignal): AsyncGenerator<{ bytes: Uint8Array; from: PacketSource }> {
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  medium.once('closed', stop);
  signal?.addEventListener('abort', stop, { once: true });
  try {
    for await (const [bytes, from] of on(medium, 'packet', { signal: ac.signal }) as AsyncIterable<[Uint8Array, PacketSource]>) {
      yield { bytes, from };
    }
  } catch (e) {
    if (!(e instanceof Error && e.name === 'AbortError')) throw e;
  } finally {
    medium.off('closed', stop);
    signal?.removeEventListener('abort', stop);
  }
}
