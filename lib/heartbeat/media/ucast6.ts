/**
 * `ucast6 <dev> <peer>` (Heartbeat 3.0.6's ucast6 plugin): ucast over IPv6.
 * Send to [peer]:udpport (a link-local peer through <dev>: `fe80::2%eth0`);
 * receive on the shared IPv6-only [::]:udpport socket, keeping what comes
 * from the peer, as our IPv4 ucast does.
 */
import { lookup } from 'node:dns/promises';
import { checkMaxPacket, checkPort } from './checks.js';
import { MediaError, MediaErrorCode } from './errors.js';
import type { InterfaceLookup } from './interfaces.js';
import { Ipv6InterfaceAddresses, canonicalIpv6, isIpv6LinkLocal, isIpv6Multicast } from './ipv6.js';
import { DEFAULT_UDP_PORT, MAX_UDP_PAYLOAD } from './limits.js';
import { UdpMedium } from './udp-medium.js';

export interface Ucast6Options {
  readonly interface: string;
  /** IPv6 address or host name (resolved once, AAAA). */
  readonly peer: string;
  readonly port?: number;
  readonly maxPacketBytes?: number;
  readonly interfaces?: InterfaceLookup;
}

async function resolvePeer6(ifname: string, peer: string): Promise<string> {
  const literal = canonicalIpv6(peer);
  if (literal !== undefined) {
    if (isIpv6Multicast(literal)) throw new MediaError(MediaErrorCode.BadConfig, `ucast6 peer ${JSON.stringify(peer)} is a multicast group`, { medium: ifname });
    return literal;
  }
  if (peer.includes(':')) throw new MediaError(MediaErrorCode.BadConfig, `ucast6 peer ${JSON.stringify(peer)} is not an IPv6 address`, { medium: ifname });
  try {
    return canonicalIpv6((await lookup(peer, { family: 6 })).address)!;
  } catch (e) {
    throw new MediaError(MediaErrorCode.BadConfig, `cannot resolve ucast6 peer ${JSON.stringify(peer)}`, { medium: ifname, cause: e });
  }
}

export async function openUcast6(opts: Ucast6Options): Promise<UdpMedium> {
  const name = opts.interface;
  const port = checkPort(name, opts.port ?? DEFAULT_UDP_PORT);
  const maxPacketBytes = checkMaxPacket(name, opts.maxPacketBytes ?? MAX_UDP_PAYLOAD, MAX_UDP_PAYLOAD);
  const peer = await resolvePeer6(name, opts.peer);
  Ipv6InterfaceAddresses.read(name, { lookup: opts.interfaces }); // the interface must exist and speak IPv6
  return UdpMedium.open({
    kind: 'ucast6',
    family: 'udp6',
    iface: { ifname: name, primary: { address: '::' } },
    // The kernel picks our source address for the peer (link-local for a link-local peer).
    sendFrom: '::',
    destination: { address: isIpv6LinkLocal(peer) ? `${peer}%${name}` : peer, port },
    receive: { address: '::', port },
    accepts: (source) => source === peer,
    maxPacketBytes,
    configureSender: () => {},
  });
}
