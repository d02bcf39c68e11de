/**
 * Shared UDP receive sockets, one per bound address and port in this process.
 *
 * The original binds one socket per medium to 0.0.0.0:udpport with
 * SO_REUSEADDR (ucast also SO_REUSEPORT) and SO_BINDTODEVICE, so each socket
 * only sees its own device. Without SO_BINDTODEVICE, several sockets on one
 * port do not work: Linux gives a unicast datagram to just one of them (with
 * SO_REUSEPORT, to one picked by hash), so a bcast and a ucast medium would
 * steal each other's packets. We therefore open the port once and hand every
 * datagram to every medium subscribed to it; each medium applies its own
 * interface/peer filter. reuseAddr stays on so a restarting daemon can bind
 * while the old socket is still closing, and so an mcast group socket can
 * share the number with 0.0.0.0:udpport (mcast 239.x.y.z 694).
 */
import * as dgram from 'node:dgram';
import { MediaError, MediaErrorCode } from './errors.js';

export type DatagramListener = (bytes: Buffer, from: dgram.RemoteInfo) => void;

class SharedSocket {
  readonly key: string;
  readonly socket: dgram.Socket;
  readonly listeners = new Set<DatagramListener>();
  readonly memberships = new Map<string, number>();
  refs = 0;
  closing = false;

  constructor(key: string, socket: dgram.Socket) {
    this.key = key;
    this.socket = socket;
    socket.on('message', (msg, rinfo) => {
      for (const l of [...this.listeners]) l(msg, rinfo);
    });
  }
}

const sockets = new Map<string, Promise<SharedSocket>>();

/** A medium's hold on a shared socket. */
export interface PortLease {
  readonly address: string;
  readonly port: number;
  /** Joins a multicast group on the interface with this address (counted: two media may join the same). */
  joinGroup(group: string, interfaceAddress: string): void;
  release(): Promise<void>;
  /** Called with socket errors (rare for UDP: e.g. ENOBUFS). */
  onError(listener: (e: Error) => void): void;
}

async function bindShared(address: string, port: number): Promise<SharedSocket> {
  // An IPv6 address (ucast6, mcast6) gets an IPv6-only socket, so [::]:694 and 0.0.0.0:694 do not steal from each other.
  const socket = dgram.createSocket(address.includes(':') ? { type: 'udp6', reuseAddr: true, ipv6Only: true } : { type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve, reject) => {
    const fail = (e: Error): void => {
      socket.close();
      reject(new MediaError(MediaErrorCode.BindFailed, `cannot bind UDP ${address}:${port}: ${e.message}`, { cause: e }));
    };
    socket.once('error', fail);
    socket.bind({ address: address.split('%')[0], port }, () => {
      socket.off('error', fail);
      resolve();
    });
  });
  return new SharedSocket(`${address}:${port}`, socket);
}

/** Subscribes `listener` to datagrams arriving at address:port, binding the port on first use. */
export async function leasePort(address: string, port: number, listener: DatagramListener): Promise<PortLease> {
  const key = `${address}:${port}`;
  let shared: SharedSocket;
  for (;;) {
    let pending = sockets.get(key);
    if (pending === undefined) {
      pending = bindShared(address, port);
      sockets.set(key, pending);
      pending.catch(() => sockets.delete(key));
    }
    shared = await pending;
    // The last holder may have released it while we waited: bind afresh.
    if (!shared.closing) break;
  }
  shared.refs++;
  shared.listeners.add(listener);
  const joined: string[] = [];
  const errorListeners: ((e: Error) => void)[] = [];
  const onError = (e: Error): void => errorListeners.forEach((l) => l(e));
  shared.socket.on('error', onError);
  let released = false;
  return {
    address,
    port,
    joinGroup(group, interfaceAddress) {
      const mkey = `${group}@${interfaceAddress}`;
      const n = shared.memberships.get(mkey) ?? 0;
      if (n === 0) shared.socket.addMembership(group, interfaceAddress);
      shared.memberships.set(mkey, n + 1);
      joined.push(mkey);
    },
    onError(l) {
      errorListeners.push(l);
    },
    async release() {
      if (released) return;
      released = true;
      shared.listeners.delete(listener);
      shared.socket.off('error', onError);
      for (const mkey of joined) {
        const n = (shared.memberships.get(mkey) ?? 1) - 1;
        if (n > 0) shared.memberships.set(mkey, n);
        else {
          shared.memberships.delete(mkey);
          const [group, iface] = mkey.split('@') as [string, string];
          try {
            shared.socket.dropMembership(group, iface);
          } catch {
            // The interface may be gone already; closing the socket drops it anyway.
          }
        }
      }
      if (--shared.refs > 0) return;
      shared.closing = true;
      sockets.delete(key);
      await new Promise<void>((resolve) => shared.socket.close(() => resolve()));
    },
  };
}
