/**
 * An in-memory medium for tests of the daemon's core: media attached to one
 * MemorySegment hear each other like hosts on one LAN (bcast-style, our own
 * packets included when `hearSelf`). Delivery is asynchronous (a microtask),
 * like a real socket, and in send order. `dropIf` lets a test cut links.
 */
import { MediaError, MediaErrorCode } from './errors.js';
import { MAX_UDP_PAYLOAD } from './limits.js';
import { MediumBase, type PacketSource } from './medium.js';

export interface MemoryMediumOptions {
  /** The link name (e.g. `eth0`, or a tty path). */
  readonly name: string;
  /** The address other media see as `from`. */
  readonly address: string;
  /** Hear our own packets, as bcast does (default true). */
  readonly hearSelf?: boolean;
  readonly maxPacketBytes?: number;
}

export class MemorySegment {
  readonly #members = new Set<MemoryMedium>();
  /** Return true to lose a packet from `from` to `to`. */
  dropIf: ((from: MemoryMedium, to: MemoryMedium, bytes: Uint8Array) => boolean) | undefined;

  attach(opts: MemoryMediumOptions): MemoryMedium {
    const m = new MemoryMedium(this, opts);
    this.#members.add(m);
    return m;
  }

  /** @internal */
  detach(m: MemoryMedium): void {
    this.#members.delete(m);
  }

  /** @internal */
  carry(from: MemoryMedium, bytes: Uint8Array): void {
    const copy = new Uint8Array(bytes);
    for (const to of this.#members) {
      if (to === from && !from.hearSelf) continue;
      if (this.dropIf?.(from, to, copy) === true) continue;
      queueMicrotask(() => to.inject(copy, { address: from.address }));
    }
  }
}

export class MemoryMedium extends MediumBase {
  readonly kind = 'memory' as const;
  readonly address: string;
  readonly hearSelf: boolean;
  readonly #segment: MemorySegment;
  /** Every packet this medium sent, in order (for assertions). */
  readonly sent: Uint8Array[] = [];

  constructor(segment: MemorySegment, opts: MemoryMediumOptions) {
    super(opts.name, opts.maxPacketBytes ?? MAX_UDP_PAYLOAD);
    this.#segment = segment;
    this.address = opts.address;
    this.hearSelf = opts.hearSelf ?? true;
  }

  send(bytes: Uint8Array): void {
    if (this.closed) throw new MediaError(MediaErrorCode.Closed, 'send on a closed medium', { medium: this.name });
    if (bytes.length > this.maxPacketBytes) {
      throw new MediaError(MediaErrorCode.PacketTooLarge, `packet of ${bytes.length} bytes exceeds ${this.maxPacketBytes}`, { medium: this.name });
    }
    this.counters.packetsSent++;
    this.sent.push(new Uint8Array(bytes));
    this.#segment.carry(this, bytes);
  }

  /** Delivers a packet as if it had arrived (oversized ones are dropped and counted, as on a real medium). */
  inject(bytes: Uint8Array, from: PacketSource): void {
    if (bytes.length > this.maxPacketBytes) {
      this.counters.droppedOversized++;
      return;
    }
    this.deliver(bytes, from);
  }

  protected async release(): Promise<void> {
    this.#segment.detach(this);
  }
}
