import type { AddressFamily } from './model.js';

/**
 * Name lookups the parser needs, injected so that the core stays pure and tests
 * never depend on DNS, getent or the machine's /etc/services.
 */
export interface LdirectordResolver {
  /** First address of a host name for the family (getaddrinfo), or undefined. IP literals never reach this. */
  host(name: string, family: AddressFamily): string | undefined;
  /** Port of a service name for the protocol (getservbyname); protocol undefined = any. */
  service(name: string, protocol: 'tcp' | 'udp' | undefined): number | undefined;
}

/**
 * Dotted quad with decimal octets 0..255, as an unsigned 32-bit number; else
 * undefined. Octets with a leading zero are refused: getaddrinfo would read
 * `010` as octal 8, which is never what the admin meant.
 */
export function ipv4ToInt(text: string): number | undefined {
  const m = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/.exec(text);
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function isIpv4(text: string): boolean {
  return ipv4ToInt(text) !== undefined;
}

/** Strict IPv6 literal check (RFC 4291 text forms, optional trailing dotted quad). */
export function isIpv6(text: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || text.length > 45) return false;
  let body = text;
  const lastColon = body.lastIndexOf(':');
  if (body.includes('.')) {
    // A trailing dotted quad stands for two groups.
    if (!isIpv4(body.slice(lastColon + 1))) return false;
    body = body.slice(0, lastColon + 1) + '0:0';
  }
  const double = body.split('::');
  if (double.length > 2) return false;
  const groups = (s: string): string[] | undefined => {
    if (s === '') return [];
    const g = s.split(':');
    return g.every((x) => /^[0-9A-Fa-f]{1,4}$/.test(x)) ? g : undefined;
  };
  const head = groups(double[0]!);
  if (!head) return false;
  if (double.length === 1) return head.length === 8;
  const tail = groups(double[1]!);
  if (!tail) return false;
  return head.length + tail.length <= 7;
}

/** Resolves an address that may already be a literal; the resolver only sees names. */
export function resolveAddress(text: string, family: AddressFamily, resolver: LdirectordResolver): string | undefined {
  if (family === 'ipv4') {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(text)) return isIpv4(text) ? normalizeIpv4(text) : undefined;
  } else if (isIpv6(text)) return canonicalIpv6(text);
  else if (isIpv4(text)) return undefined;
  return resolver.host(text, family);
}

/** The compressed lowercase form (RFC 5952), so that one address has one spelling in ids and duplicates are found. */
export function canonicalIpv6(text: string): string {
  try {
    return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return text.toLowerCase();
  }
}

function normalizeIpv4(text: string): string {
  return intToIpv4(ipv4ToInt(text)!);
}

/** Numeric ports 0..65535 are taken as is (ld_getservbyname); names go to the resolver. */
export function resolvePort(text: string, protocol: 'tcp' | 'udp' | undefined, resolver: LdirectordResolver): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n < 65536 ? n : undefined;
  }
  return resolver.service(text, protocol);
}

/** name → port per protocol, as read from an /etc/services file. */
export type ServicesTable = Map<string, { tcp?: number; udp?: number; other?: number }>;

/** Parses /etc/services text: `name port/proto [aliases...] [# comment]`. */
export function parseEtcServices(text: string): ServicesTable {
  const table: ServicesTable = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const [name, portProto, ...aliases] = line.split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(portProto ?? '');
    if (!name || !m) continue;
    const port = Number(m[1]);
    const proto = m[2] === 'tcp' || m[2] === 'udp' ? m[2] : 'other';
    for (const n of [name, ...aliases]) {
      const entry = table.get(n) ?? {};
      // The first entry for a name wins, as getservbyname returns the first match.
      if (entry[proto] === undefined) entry[proto] = port;
      table.set(n, entry);
    }
  }
  return table;
}

export function lookupService(table: ServicesTable, name: string, protocol: 'tcp' | 'udp' | undefined): number | undefined {
  const e = table.get(name);
  if (!e) return undefined;
  if (protocol) return e[protocol];
  return e.tcp ?? e.udp ?? e.other;
}

/**
 * A small services table for machines without /etc/services and for tests:
 * the names ldirectord configs use in practice (netbase's entries for them).
 */
export const BUILTIN_SERVICES_TEXT = `
ftp 21/tcp
ssh 22/tcp
smtp 25/tcp mail
domain 53/tcp
domain 53/udp
http 80/tcp www
pop3 110/tcp pop-3
nntp 119/tcp readnews untp
ntp 123/udp
imap2 143/tcp imap
snmp 161/udp
ldap 389/tcp
ldap 389/udp
https 443/tcp
submission 587/tcp
ldaps 636/tcp
imaps 993/tcp
pop3s 995/tcp
radius 1812/udp
mysql 3306/tcp
postgresql 5432/tcp
sip 5060/tcp
sip 5060/udp
http-alt 8080/tcp webcache
`;

export const builtinServices: ServicesTable = parseEtcServices(BUILTIN_SERVICES_TEXT);

/** A resolver from fixed tables: used by tests and as the parser's default. */
export function staticResolver(hosts: Record<string, { ipv4?: string; ipv6?: string }> = { localhost: { ipv4: '127.0.0.1', ipv6: '::1' } }, services: ServicesTable = builtinServices): LdirectordResolver {
  return {
    host: (name, family) => hosts[name]?.[family],
    service: (name, protocol) => lookupService(services, name, protocol),
  };
}
