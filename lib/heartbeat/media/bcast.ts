/**
 * `bcast <dev>`: send to the interface's broadcast address at udpport,
 * receive on the shared 0.0.0.0:udpport whatever comes from the interface's
 * subnets. Our own broadcasts come back to us, as in the original (a node
 * hears itself on bcast: "Link node1:eth0 up").
 */
import { checkMaxPacket, checkPort } from './checks.js';
import { InterfaceAddresses, type InterfaceLookup } from './interfaces.js';
import { DEFAULT_UDP_PORT, MAX_UDP_PAYLOAD } from './limits.js';
import { UdpMedium } from './udp-medium.js';

export interface BcastOptions {
  readonly interface: string;
  readonly port?: number;
  readonly maxPacketBytes?: number;
  readonly interfaces?: InterfaceLookup;
}

export async function openBcast(opts: BcastOptions): Promise<UdpMedium> {
  const name = opts.interface;
  const port = checkPort(name, opts.port ?? DEFAULT_UDP_PORT);
  const maxPacketBytes = checkMaxPacket(name, opts.maxPacketBytes ?? MAX_UDP_PAYLOAD, MAX_UDP_PAYLOAD);
  const iface = InterfaceAddresses.read(name, { lookup: opts.interfaces });
  return UdpMedium.open({
    kind: 'bcast',
    iface,
    destination: { address: iface.primary.broadcast, port },
    receive: { address: '0.0.0.0', port },
    accepts: (source) => iface.onLink(source),
    maxPacketBytes,
    configureSender: (s) => s.setBroadcast(true),
  });
}
