/**
 * Parses `ipvsadm -L -n` and `ipvsadm -L -n --thresholds` into the table
 * model, and prints a table in the `-L -n` shape (the user-space backend's
 * `ldirectord status` view and test snapshots). Unknown lines are skipped:
 * a listing we cannot read must not stop the director.
 */
import type { ForwardMethod } from '../../config/ldirectord/model.js';
import type { IpvsDestination, IpvsProtocol, IpvsService, IpvsTable } from './model.js';

const FORWARD_BY_NAME: Record<string, ForwardMethod> = { Route: 'gate', Local: 'gate', Tunnel: 'ipip', Masq: 'masq' };
const NAME_BY_FORWARD: Record<ForwardMethod, string> = { gate: 'Route', ipip: 'Tunnel', masq: 'Masq' };

interface MutableService {
  protocol: IpvsProtocol;
  address: string;
  ipv6Fwmark?: boolean;
  scheduler: string;
  persistentSec?: number;
  netmask?: string;
  ops: boolean;
  schedFlags?: string;
  destinations: IpvsDestination[];
}

function parseServiceLine(line: string): MutableService | undefined {
  const t = line.trim().split(/\s+/);
  const protocol = t[0];
  if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'FWM') return undefined;
  let i = 1;
  const address = t[i++];
  if (address === undefined) return undefined;
  const s: MutableService = { protocol, address, scheduler: 'wlc', ops: false, destinations: [] };
  if (t[i] === 'IPv6') {
    s.ipv6Fwmark = true;
    i++;
  }
  if (t[i] !== undefined) s.scheduler = t[i++]!;
  for (; i < t.length; i++) {
    const w = t[i]!;
    if (w.startsWith('(') && w.endsWith(')')) s.schedFlags = w.slice(1, -1);
    else if (w === 'persistent') s.persistentSec = Number(t[++i]);
    else if (w === 'mask') s.netmask = t[++i];
    else if (w === 'ops') s.ops = true;
  }
  return s;
}

/** Parses one listing; with `thresholds` the destination lines carry Uthreshold/Lthreshold instead of Forward/Weight. */
function parseListing(text: string): MutableService[] {
  const out: MutableService[] = [];
  let current: MutableService | undefined;
  for (const raw of text.split('\n')) {
    if (/^\s+->\s/.test(raw)) {
      const t = raw.trim().split(/\s+/);
      if (current === undefined || t[1] === 'RemoteAddress:Port') continue;
      const address = t[1]!;
      if (t.length >= 4 && FORWARD_BY_NAME[t[2]!] !== undefined) {
        current.destinations.push({ address, forward: FORWARD_BY_NAME[t[2]!]!, weight: Number(t[3]), upperThreshold: 0, lowerThreshold: 0 });
      } else if (t.length >= 4) {
        current.destinations.push({ address, forward: 'gate', weight: 0, upperThreshold: Number(t[2]), lowerThreshold: Number(t[3]) });
      }
      continue;
    }
    const s = parseServiceLine(raw);
    if (s) {
      out.push(s);
      current = s;
    }
  }
  return out;
}

/** The table from `-L -n`, with thresholds merged in from `-L -n --thresholds` when given. */
export function parseIpvsListing(listing: string, thresholdsListing?: string): IpvsTable {
  const services = parseListing(listing);
  if (thresholdsListing !== undefined) {
    const byKey = new Map(parseListing(thresholdsListing).map((s) => [`${s.protocol} ${s.address}`, s]));
    for (const s of services) {
      const t = byKey.get(`${s.protocol} ${s.address}`);
      if (!t) continue;
      s.destinations = s.destinations.map((d) => {
        const td = t.destinations.find((x) => x.address === d.address);
        return td ? { ...d, upperThreshold: td.upperThreshold, lowerThreshold: td.lowerThreshold } : d;
      });
    }
  }
  return { services: services as IpvsService[] };
}

/** `ipvsadm -L -n` text of a table (connection counters as given, default 0). */
export function formatIpvsListing(table: IpvsTable, counters?: (service: IpvsService, dest: IpvsDestination) => { active: number; inactive: number }): string {
  let out = 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n' +
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
  for (const s of table.services) {
    let l = `${s.protocol}  ${s.address}${s.ipv6Fwmark ? ' IPv6' : ''} ${s.scheduler}`;
    if (s.schedFlags) l += ` (${s.schedFlags})`;
    if (s.persistentSec !== undefined) {
      l += ` persistent ${s.persistentSec}`;
      if (s.netmask && s.netmask !== '255.255.255.255' && s.netmask !== '128') l += ` mask ${s.netmask}`;
    }
    if (s.ops) l += ' ops';
    out += l + '\n';
    for (const d of s.destinations) {
      const c = counters?.(s, d) ?? { active: 0, inactive: 0 };
      out += `  -> ${d.address.padEnd(28)} ${NAME_BY_FORWARD[d.forward].padEnd(7)} ${String(d.weight).padEnd(6)} ${String(c.active).padEnd(10)} ${c.inactive}\n`;
    }
  }
  return out;
}
