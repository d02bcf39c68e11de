/**
 * What ucast, bcast and mcast have in common: a send socket of their own
 * (ephemeral source port, bound to the interface's primary address, like the
 * original's separate write socket) and a lease on the shared receive socket,
 * filtered to the datagrams this medium would have seen with SO_BINDTODEVICE.
 */
import * as dgram from 'node:dgram';
import { MediaError, MediaErrorCode } from './errors.js';
import { plainIpv4 } from './interfaces.js';
import { plainIpv6 } from './ipv6.js';
import { MediumBase, type MediumKind } from './medium.js';
import { leasePort, type PortLease } from './udp-port.js';

export interface UdpMediumPlan {
  readonly kind: Exclude<MediumKind, 'serial' | 'memory'>;
  /** The interface: its name is the link's, its primary address our source (IPv4). */
  readonly iface: { readonly ifname: string; readonly primary: { readonly address: string } };
  /** udp6 for ucast6 / mcast6 (IPv6 only sockets); udp4 by default. */
  readonly family?: 'udp4' | 'udp6';
  /** What the send socket binds (default: the interface's primary address). */
  readonly sendFrom?: string;
  /** The interface argument of addMembership (default: the primary address; `::%eth0` for IPv6). */
  readonly joinOn?: string;
  /** Where send() goes: the peer, the broadcast address or the group. */
  readonly destination: { readonly address: string; readonly port: number };
  /** What the receive socket binds: 0.0.0.0 (ucast, bcast) or the group (mcast). */
  readonly receive: { readonly address: string; readonly port: number };
  /** Keep a datagram from this source address? (interface subnet, and the peer for ucast) */
  readonly accepts: (source: string) => boolean;
  readonly maxPacketBytes: number;
  readonly configureSender: (socket: dgram.Socket) => void;
  readonly multicastGroup?: string;
}

export class UdpMedium extends MediumBase {
  readonly kind: UdpMediumPlan['kind'];
  readonly destination: UdpMediumPlan['destination'];
  readonly #plan: UdpMediumPlan;
  #sender: dgram.Socket | undefined;
  #lease: PortLease | undefined;

  private constructor(plan: UdpMediumPlan) {
    super(plan.iface.ifname, plan.maxPacketBytes);
    this.kind = plan.kind;
    this.destination = plan.destination;
    this.#plan = plan;
  }

  static async open(plan: UdpMediumPlan): Promise<UdpMedium> {
    const m = new UdpMedium(plan);
    try {
      await m.#start();
    } catch (e) {
      await m.close();
      throw e;
    }
    return m;
  }

  async #start(): Promise<void> {
    const plan = this.#plan;
    const family = plan.family ?? 'udp4';
    const sender = dgram.createSocket(family === 'udp6' ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' });
    this.#sender = sender;
    await new Promise<void>((resolve, reject) => {
      sender.once('error', reject);
      // Our packets leave with the interface's address, so peers' filters (and the original's) see them on this link.
      sender.bind({ port: 0, address: plan.sendFrom ?? plan.iface.primary.address }, () => {
        sender.off('error', reject);
        resolve();
      });
    }).catch((e: Error) => {
      throw new MediaError(MediaErrorCode.BindFailed, `cannot open the send socket: ${e.message}`, { medium: this.name, cause: e });
    });
    sender.on('error', (e) => this.#sendFailed(e));
    try {
      plan.configureSender(sender);
    } catch (e) {
      throw new MediaError(MediaErrorCode.BindFailed, `cannot set up the send socket: ${(e as Error).message}`, { medium: this.name, cause: e });
    }
    this.#lease = await leasePort(plan.receive.address, plan.receive.port, (bytes, from) => this.#received(bytes, from));
    this.#lease.onError((e) => this.fault(new MediaError(MediaErrorCode.ReceiveFailed, e.message, { medium: this.name, cause: e })));
    if (plan.multicastGroup !== undefined) {
      try {
        this.#lease.joinGroup(plan.multicastGroup, plan.joinOn ?? plan.iface.primary.address);
      } catch (e) {
        throw new MediaError(MediaErrorCode.BindFailed, `cannot join ${plan.multicastGroup}: ${(e as Error).message}`, { medium: this.name, cause: e });
      }
    }
  }

  #received(bytes: Buffer, from: dgram.RemoteInfo): void {
    const source = this.#plan.family === 'udp6' ? plainIpv6(from.address) : plainIpv4(from.address);
    if (!this.#plan.accepts(source)) {
      this.counters.droppedForeign++;
      return;
    }
    if (bytes.length > this.maxPacketBytes) {
      this.counters.droppedOversized++;
      return;
    }
    // dgram hands each datagram in a Buffer of its own, so the daemon may keep it.
    this.deliver(bytes, { address: source, port: from.port });
  }

  send(bytes: Uint8Array): void {
    if (this.closed || this.#sender === undefined) throw new MediaError(MediaErrorCode.Closed, 'send on a closed medium', { medium: this.name });
    if (bytes.length > this.maxPacketBytes) {
      throw new MediaError(MediaErrorCode.PacketTooLarge, `packet of ${bytes.length} bytes exceeds ${this.maxPacketBytes}`, { medium: this.name });
    }
    this.counters.packetsSent++;
    this.#sender.send(bytes, this.destination.port, this.destination.address, (e) => {
      if (e !== null && e !== undefined) this.#sendFailed(e);
    });
  }

  #sendFailed(e: Error): void {
    this.counters.sendErrors++;
    this.fault(new MediaError(MediaErrorCode.SendFailed, `write failure on ${this.kind} ${this.name}: ${e.message}`, { medium: this.name, cause: e }));
  }

  protected async release(): Promise<void> {
    const sender = this.#sender;
    this.#sender = undefined;
    if (sender !== undefined) {
      await new Promise<void>((resolve) => {
        try {
          sender.close(() => resolve());
        } catch {
          resolve(); // never bound
        }
      });
    }
    await this.#lease?.release();
    this.#lease = undefined;
  }
}
