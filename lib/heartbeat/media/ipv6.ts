/**
 * IPv6 addresses for `ucast6` and `mcast6`: canonical forms (so a configured
 * peer and a datagram's source compare equal however they are written), the
 * interface's IPv6 networks, and the on-link test that stands in for
 * SO_BINDTODEVICE as for IPv4 (interfaces.ts).
 */
import * as os from 'node:os';
import { MediaError, MediaErrorCode } from './errors.js';
import type { InterfaceLookup } from './interfaces.js';
import { INTERFACE_REFRESH_MS } from './limits.js';

/** The address without a `%scope`, in canonical (RFC 5952) form; undefined when it is not IPv6. */
export function canonicalIpv6(address: string): string | undefined {
  const bare = address.split('%')[0]!;
  if (!bare.includes(':')) return undefined;
  try {
    const host = new URL(`http://[${bare}]/`).hostname;
    return host.slice(1, -1);
  } catch {
    return undefined;
  }
}

/** A datagram's source as we compare it: canonical, no scope. */
export function plainIpv6(address: string): string {
  return canonicalIpv6(address) ?? address;
}

export function ipv6ToBigInt(address: string): bigint | undefined {
  const c = canonicalIpv6(address);
  if (c === undefined) return undefined;
  let text = c;
  // An embedded IPv4 tail (::ffff:1.2.3.4) as two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4 !== null) {
    const [a, b, cc, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + ((a << 8) | b).toString(16) + ':' + ((cc << 8) | d).toString(16);
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return undefined;
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export const isIpv6Multicast = (address: string): boolean => (ipv6ToBigInt(address) ?? 0n) >> 120n === 0xffn;
export const isIpv6LinkLocal = (address: string): boolean => (ipv6ToBigInt(address) ?? 0n) >> 118n === 0x3fan; // fe80::/10

export interface Ipv6Net {
  readonly address: string;
  readonly prefix: number;
}

export function inNet6(ip: string, net: Ipv6Net): boolean {
  const a = ipv6ToBigInt(ip);
  const b = ipv6ToBigInt(net.address);
  if (a === undefined || b === undefined) return false;
  const shift = BigInt(128 - net.prefix);
  return a >> shift === b >> shift;
}

export function ipv6Nets(ifname: string, lookup: InterfaceLookup = os.networkInterfaces): Ipv6Net[] {
  const nets: Ipv6Net[] = [];
  for (const info of lookup()[ifname] ?? []) {
    if (info.family !== 'IPv6' || info.cidr === null) continue;
    const prefix = Number(info.cidr.split('/')[1]);
    const address = canonicalIpv6(info.address);
    if (address === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 128) continue;
    nets.push({ address, prefix });
  }
  return nets;
}

/** An interface's IPv6 networks, re-read (at most once per INTERFACE_REFRESH_MS) when a source matches none. */
export class Ipv6InterfaceAddresses {
  readonly ifname: string;
  #nets: Ipv6Net[];
  #lastRead: number;
  readonly #lookup: InterfaceLookup;
  readonly #now: () => number;

  private constructor(ifname: string, nets: Ipv6Net[], lookup: InterfaceLookup, now: () => number) {
    this.ifname = ifname;
    this.#nets = nets;
    this.#lookup = lookup;
    this.#now = now;
    this.#lastRead = now();
  }

  /** Throws MEDIA_NO_INTERFACE when the interface is missing or has no IPv6 address (IPv6 disabled on it). */
  static read(ifname: string, opts: { lookup?: InterfaceLookup; now?: () => number } = {}): Ipv6InterfaceAddresses {
    const lookup = opts.lookup ?? os.networkInterfaces;
    const nets = ipv6Nets(ifname, lookup);
    if (nets.length === 0) {
      const exists = lookup()[ifname] !== undefined;
      throw new MediaError(MediaErrorCode.NoInterface, exists ? 'interface has no IPv6 address' : 'no such interface', { medium: ifname });
    }
    return new Ipv6InterfaceAddresses(ifname, nets, lookup, opts.now ?? (() => performance.now()));
  }

  get nets(): readonly Ipv6Net[] {
    return this.#nets;
  }

  onLink(ip: string): boolean {
    if (this.#nets.some((n) => inNet6(ip, n))) return true;
    const now = this.#now();
    if (now - this.#lastRead < INTERFACE_REFRESH_MS) return false;
    this.#lastRead = now;
    const fresh = ipv6Nets(this.ifname, this.#lookup);
    if (fresh.length > 0) this.#nets = fresh;
    return this.#nets.some((n) => inNet6(ip, n));
  }
}
