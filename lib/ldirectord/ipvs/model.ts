/**
 * The IPVS table as ldirectord sees it: virtual services and their real
 * servers. One model for both backends: the ipvsadm backend reads it from
 * `ipvsadm -L -n` listings; the user-space balancer keeps it in memory and
 * applies the same commands to it (applyIpvsCommand), so both behave alike.
 */
import type { ForwardMethod } from '../../config/ldirectord/model.js';

export type IpvsProtocol = 'TCP' | 'UDP' | 'FWM';

/** Identifies a virtual service: `TCP 10.0.0.1:80`, `UDP [::1]:53`, `FWM 7`, `FWM 7 IPv6`. */
export interface IpvsServiceRef {
  readonly protocol: IpvsProtocol;
  /** `IP:PORT` (IPv6 as `[addr]:port`), or the mark for FWM. */
  readonly address: string;
  /** Only meaningful for FWM: an IPv6 fwmark service (`-f MARK -6`). */
  readonly ipv6Fwmark?: boolean;
}

export interface IpvsServiceOptions {
  readonly scheduler: string;
  readonly persistentSec?: number;
  readonly netmask?: string;
  readonly ops: boolean;
  readonly schedFlags?: string;
}

export interface IpvsDestination {
  /** `IP:PORT` as the kernel stores it (after ipvsadm's port mapping). */
  readonly address: string;
  readonly forward: ForwardMethod;
  readonly weight: number;
  readonly upperThreshold: number;
  readonly lowerThreshold: number;
}

export interface IpvsService extends IpvsServiceRef, IpvsServiceOptions {
  readonly destinations: readonly IpvsDestination[];
}

export interface IpvsTable {
  readonly services: readonly IpvsService[];
}

export const EMPTY_TABLE: IpvsTable = { services: [] };

export function serviceKey(s: IpvsServiceRef): string {
  return `${s.protocol} ${s.address}${s.protocol === 'FWM' && s.ipv6Fwmark ? ' IPv6' : ''}`;
}

export function findService(table: IpvsTable, ref: IpvsServiceRef): IpvsService | undefined {
  const k = serviceKey(ref);
  return table.services.find((s) => serviceKey(s) === k);
}

/** Splits `IP:PORT` / `[v6]:PORT` into host and port text. */
export function splitHostPort(a: string): { host: string; port: string } {
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    return { host: a.slice(0, end + 1), port: a.slice(end + 2) || '0' };
  }
  const i = a.lastIndexOf(':');
  return i < 0 ? { host: a, port: '0' } : { host: a.slice(0, i), port: a.slice(i + 1) };
}

/**
 * Where the kernel keeps a real added with `-a`/`-e`: ipvsadm rewrites the
 * port to the virtual's for gatewaying and tunnelling on an address service
 * (the packet is not rewritten, so the port cannot differ). `-d` does not map.
 */
export function storedRealAddress(service: IpvsServiceRef, real: string, forward: ForwardMethod): string {
  if (service.protocol === 'FWM' || forward === 'masq') return real;
  return `${splitHostPort(real).host}:${splitHostPort(service.address).port}`;
}

/** A destination under its configured address, else under the port ipvsadm mapped it to. */
export function findDestination(
  service: IpvsService,
  real: string,
  forward: ForwardMethod,
): { dest: IpvsDestination; mapped: boolean } | undefined {
  const direct = service.destinations.find((d) => d.address === real);
  if (direct) return { dest: direct, mapped: false };
  const stored = storedRealAddress(service, real, forward);
  if (stored === real) return undefined;
  const mapped = service.destinations.find((d) => d.address === stored);
  return mapped ? { dest: mapped, mapped: true } : undefined;
}
