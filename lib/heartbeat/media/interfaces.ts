/**
 * IPv4 addresses of a network interface, and the test that stands in for
 * SO_BINDTODEVICE. Node's dgram cannot bind a socket to a device, so a UDP
 * medium receives on the shared port and keeps a datagram only when its
 * source address lies in one of the interface's subnets: heartbeat links are
 * one-hop LAN segments, so a peer reached through eth1 has an eth1 address.
 */
import * as os from 'node:os';
import { MediaError, MediaErrorCode } from './errors.js';
import { INTERFACE_REFRESH_MS } from './limits.js';

export interface Ipv4Net {
  readonly address: string;
  readonly prefix: number;
  /** (address | ~mask): what SIOCGIFBRDADDR returns for a usual `brd +` setup. */
  readonly broadcast: string;
}

export type InterfaceLookup = () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;

export function ipv4ToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (m === null) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = Number(m[i]);
    if (part > 255) return undefined;
    n = n * 256 + part;
  }
  return n;
}

export const intToIpv4 = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** A dotted IPv4 address, also accepting the `::ffff:a.b.c.d` form dgram may report. */
export function plainIpv4(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

const maskOf = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

export function inNet(ip: string, net: Ipv4Net): boolean {
  const a = ipv4ToInt(plainIpv4(ip));
  const b = ipv4ToInt(net.address);
  if (a === undefined || b === undefined) return false;
  const mask = maskOf(net.prefix);
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}

/** The interface's IPv4 networks in the kernel's order (the primary address first); [] when none. */
export function ipv4Nets(ifname: string, lookup: InterfaceLookup = os.networkInterfaces): Ipv4Net[] {
  const infos = lookup()[ifname] ?? [];
  const nets: Ipv4Net[] = [];
  for (const info of infos) {
    if (info.family !== 'IPv4' || info.cidr === null) continue;
    const prefix = Number(info.cidr.split('/')[1]);
    const addr = ipv4ToInt(info.address);
    if (addr === undefined || !Number.isInteger(prefix)) continue;
    nets.push({ address: info.address, prefix, broadcast: intToIpv4((addr | ~maskOf(prefix)) >>> 0) });
  }
  return nets;
}

/**
 * The addresses of one interface, re-read when a datagram matches none of
 * them (an address was added, e.g. by IPaddr, or changed), at most once per
 * INTERFACE_REFRESH_MS so a flood of foreign datagrams costs no syscalls.
 */
export class InterfaceAddresses {
  readonly ifname: string;
  #nets: Ipv4Net[];
  #lastRead: number;
  readonly #lookup: InterfaceLookup;
  readonly #now: () => number;

  private constructor(ifname: string, nets: Ipv4Net[], lookup: InterfaceLookup, now: () => number) {
    this.ifname = ifname;
    this.#nets = nets;
    this.#lookup = lookup;
    this.#now = now;
    this.#lastRead = now();
  }

  /** Throws MEDIA_NO_INTERFACE when the interface is missing or has no IPv4 address (the original fails to start too). */
  static read(ifname: string, opts: { lookup?: InterfaceLookup; now?: () => number } = {}): InterfaceAddresses {
    const lookup = opts.lookup ?? os.networkInterfaces;
    const nets = ipv4Nets(ifname, lookup);
    if (nets.length === 0) {
      const exists = lookup()[ifname] !== undefined;
      throw new MediaError(MediaErrorCode.NoInterface, exists ? 'interface has no IPv4 address' : 'no such interface', { medium: ifname });
    }
    return new InterfaceAddresses(ifname, nets, lookup, opts.now ?? (() => performance.now()));
  }

  get nets(): readonly Ipv4Net[] {
    return this.#nets;
  }

  /** The primary address: our source address on this link. */
  get primary(): Ipv4Net {
    return this.#nets[0]!;
  }

  /** Is `ip` on this interface's link (one of its subnets)? */
  onLink(ip: string): boolean {
    if (this.#nets.some((n) => inNet(ip, n))) return true;
    const now = this.#now();
    if (now - this.#lastRead < INTERFACE_REFRESH_MS) return false;
    this.#lastRead = now;
    const fresh = ipv4Nets(this.ifname, this.#lookup);
    if (fresh.length > 0) this.#nets = fresh;
    return this.#nets.some((n) => inNet(ip, n));
  }
}
