/**
 * `mcast <dev> <group> <port> <ttl> <loop>`: send to group:port out of the
 * interface (IP_MULTICAST_IF), with the given ttl and loop-back; receive on a
 * socket bound to group:port that joined the group on the interface. The
 * port is independent of udpport. Linux delivers a group's datagrams to every
 * socket bound to the group and port whichever interface joined, so the
 * subnet filter decides here too.
 */
import { checkMaxPacket, checkMulticastGroup, checkPort, checkTtl } from './checks.js';
import { MediaError, MediaErrorCode } from './errors.js';
import { InterfaceAddresses, type InterfaceLookup } from './interfaces.js';
import { MAX_UDP_PAYLOAD } from './limits.js';
import { UdpMedium } from './udp-medium.js';

export interface McastOptions {
  readonly interface: string;
  readonly group: string;
  readonly port: number;
  /** 0..4 */
  readonly ttl: number;
  /** Hear our own packets (IP_MULTICAST_LOOP). */
  readonly loop: boolean;
  readonly maxPacketBytes?: number;
  readonly interfaces?: InterfaceLookup;
}

export async function openMcast(opts: McastOptions): Promise<UdpMedium> {
  const name = opts.interface;
  const group = checkMulticastGroup(name, opts.group);
  const port = checkPort(name, opts.port);
  const ttl = checkTtl(name, opts.ttl);
  if (typeof opts.loop !== 'boolean') throw new MediaError(MediaErrorCode.BadConfig, 'mcast loop must be 0 or 1', { medium: name });
  const maxPacketBytes = checkMaxPacket(name, opts.maxPacketBytes ?? MAX_UDP_PAYLOAD, MAX_UDP_PAYLOAD);
  const iface = InterfaceAddresses.read(name, { lookup: opts.interfaces });
  return UdpMedium.open({
    kind: 'mcast',
    iface,
    destination: { address: group, port },
    receive: { address: group, port },
    accepts: (source) => iface.onLink(source),
    maxPacketBytes,
    multicastGroup: group,
    configureSender: (s) => {
      s.setMulticastInterface(iface.primary.address);
      s.setMulticastTTL(ttl);
      s.setMulticastLoopback(opts.loop);
    },
  });
}
