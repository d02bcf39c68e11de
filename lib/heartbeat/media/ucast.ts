/**
 * `ucast <dev> <peer>`: send to peer:udpport; receive on the shared
 * 0.0.0.0:udpport. The original's receive socket takes any datagram on its
 * device; we keep only those from the configured peer, so two `ucast eth0`
 * lines report each packet once, on the right medium. The peer's address is
 * what ties a datagram to this link: no subnet test, so a peer reached
 * through a router (ucast's use case beside bcast) is heard too.
 */
import { lookup } from 'node:dns/promises';
import { checkIpv4, checkMaxPacket, checkPort } from './checks.js';
import { MediaError, MediaErrorCode } from './errors.js';
import { InterfaceAddresses, type InterfaceLookup } from './interfaces.js';
import { DEFAULT_UDP_PORT, MAX_UDP_PAYLOAD } from './limits.js';
import { UdpMedium } from './udp-medium.js';

export interface UcastOptions {
  readonly interface: string;
  /** IPv4 address or host name (resolved once, like the original's gethostbyname). */
  readonly peer: string;
  /** ha.cf `udpport`. */
  readonly port?: number;
  readonly maxPacketBytes?: number;
  /** For tests: where interface addresses come from. */
  readonly interfaces?: InterfaceLookup;
}

async function resolvePeer(ifname: string, peer: string): Promise<string> {
  if (/^[\d.]+$/.test(peer)) return checkIpv4(ifname, 'ucast peer', peer);
  try {
    return (await lookup(peer, { family: 4 })).address;
  } catch (e) {
    throw new MediaError(MediaErrorCode.BadConfig, `cannot resolve ucast peer ${JSON.stringify(peer)}`, { medium: ifname, cause: e });
  }
}

export async function openUcast(opts: UcastOptions): Promise<UdpMedium> {
  const name = opts.interface;
  const port = checkPort(name, opts.port ?? DEFAULT_UDP_PORT);
  const maxPacketBytes = checkMaxPacket(name, opts.maxPacketBytes ?? MAX_UDP_PAYLOAD, MAX_UDP_PAYLOAD);
  const peer = await resolvePeer(name, opts.peer);
  const iface = InterfaceAddresses.read(name, { lookup: opts.interfaces });
  return UdpMedium.open({
    kind: 'ucast',
    iface,
    destination: { address: peer, port },
    receive: { address: '0.0.0.0', port },
    accepts: (source) => source === peer,
    maxPacketBytes,
    configureSender: () => {},
  });
}
