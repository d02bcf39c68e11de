/**
 * `mcast6 <dev> <group> <port> <hops> <loop>` (Heartbeat 3.0.6's mcast6
 * plugin): send to [group]:port out of <dev> (IPV6_MULTICAST_IF) with the
 * hop limit and loop-back given; receive on the shared IPv6-only [::]:port
 * socket, which joined the group on <dev>; keep datagrams whose source is on
 * one of <dev>'s IPv6 networks (fe80::/64 included). Every interface has
 * fe80::/64, so with mcast6 on two interfaces a link-local sender is heard by
 * both media; the original's device-bound socket would tell them apart.
 */
import { checkMaxPacket, checkPort, checkTtl } from './checks.js';
import { MediaError, MediaErrorCode } from './errors.js';
import type { InterfaceLookup } from './interfaces.js';
import { Ipv6InterfaceAddresses, canonicalIpv6, isIpv6Multicast } from './ipv6.js';
import { MAX_UDP_PAYLOAD } from './limits.js';
import { UdpMedium } from './udp-medium.js';

export interface Mcast6Options {
  readonly interface: string;
  readonly group: string;
  readonly port: number;
  /** Hop limit, 0..4 like mcast's ttl. */
  readonly hops: number;
  readonly loop: boolean;
  readonly maxPacketBytes?: number;
  readonly interfaces?: InterfaceLookup;
}

export async function openMcast6(opts: Mcast6Options): Promise<UdpMedium> {
  const name = opts.interface;
  const group = canonicalIpv6(opts.group);
  if (group === undefined || !isIpv6Multicast(group)) {
    throw new MediaError(MediaErrorCode.BadConfig, `${JSON.stringify(opts.group)} is not an IPv6 multicast group`, { medium: name });
  }
  const port = checkPort(name, opts.port);
  const hops = checkTtl(name, opts.hops);
  if (typeof opts.loop !== 'boolean') throw new MediaError(MediaErrorCode.BadConfig, 'mcast6 loop must be 0 or 1', { medium: name });
  const maxPacketBytes = checkMaxPacket(name, opts.maxPacketBytes ?? MAX_UDP_PAYLOAD, MAX_UDP_PAYLOAD);
  const iface = Ipv6InterfaceAddresses.read(name, { lookup: opts.interfaces });
  const onDevice = `::%${name}`;
  return UdpMedium.open({
    kind: 'mcast6',
    family: 'udp6',
    iface: { ifname: name, primary: { address: '::' } },
    sendFrom: '::',
    destination: { address: `${group}%${name}`, port },
    receive: { address: '::', port },
    accepts: (source) => iface.onLink(source),
    maxPacketBytes,
    multicastGroup: group,
    joinOn: onDevice,
    configureSender: (s) => {
      s.setMulticastInterface(onDevice);
      s.setMulticastTTL(hops);
      s.setMulticastLoopback(opts.loop);
    },
  });
}
