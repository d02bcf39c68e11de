/**
 * Whole-line media directives (ucast, ucast6, mcast, mcast6, ping_group):
 * the HBcomm plugins split their line on blanks only (never commas) and
 * ignore words past the ones they need.
 */
import { isHostName, isIPv4, isIPv4Multicast, isIPv6, isIPv6Multicast, parseInteger } from './values.js';

export type MediumProblem = { message: string; token: string };

export type WholeLineMedium =
  | { type: 'ucast' | 'ucast6'; device: string; peer: string }
  | { type: 'mcast' | 'mcast6'; device: string; group: string; port: number; ttl: number; loop: boolean }
  | { type: 'ping_group'; name: string; addresses: string[] };

export interface WholeLineResult {
  medium?: WholeLineMedium;
  error?: MediumProblem;
  /** Words after the last one the plugin reads (the original ignores them silently). */
  ignored: string[];
}

export const WHOLE_LINE_MEDIA = new Set(['ucast', 'ucast6', 'mcast', 'mcast6', 'ping_group']);

/** Media read one value at a time, like plain directives (bcast eth0 eth1 = two media). */
export const PER_VALUE_MEDIA = new Set(['bcast', 'serial', 'ping', 'ping6']);

function port(text: string): number | undefined {
  const n = parseInteger(text);
  return n !== undefined && n > 0 && n <= 65535 ? n : undefined;
}

export function parseWholeLineMedium(type: string, words: readonly string[]): WholeLineResult {
  const [first, ...rest] = words;
  if (first === undefined) return { error: { message: `${type} needs a device or name`, token: type }, ignored: [] };
  switch (type) {
    case 'ucast':
    case 'ucast6': {
      const peer = rest[0];
      if (peer === undefined) return { error: { message: `${type} [${first}] missing target IP address/hostname`, token: first }, ignored: [] };
      const ok = type === 'ucast' ? isIPv4(peer) || isHostName(peer) : isIPv6(peer) || (isHostName(peer) && !isIPv4(peer));
      if (!ok) return { error: { message: `${type} [${first}] bad target address [${peer}]`, token: peer }, ignored: [] };
      return { medium: { type, device: first, peer }, ignored: rest.slice(1) };
    }
    case 'mcast':
    case 'mcast6': {
      const names = ['mcast address', 'port', type === 'mcast' ? 'ttl' : 'hops', 'loop'];
      for (let i = 0; i < names.length; i++) {
        if (rest[i] === undefined) return { error: { message: `${type} [${first}] missing ${names[i]}`, token: first }, ignored: [] };
      }
      const [group, portText, ttlText, loopText] = rest as [string, string, string, string];
      const groupOk = type === 'mcast' ? isIPv4Multicast(group) : isIPv6Multicast(group);
      if (!groupOk) return { error: { message: `${type} [${first}] bad addr [${group}]`, token: group }, ignored: [] };
      const p = port(portText);
      if (p === undefined) return { error: { message: `${type} [${first}] bad port [${portText}]`, token: portText }, ignored: [] };
      const ttl = parseInteger(ttlText);
      // Both plugins refuse a ttl/hop count above 4.
      if (ttl === undefined || ttl < 0 || ttl > 4) {
        return { error: { message: `${type} [${first}] bad ${names[2]} [${ttlText}] (0-4)`, token: ttlText }, ignored: [] };
      }
      if (loopText !== '0' && loopText !== '1') {
        return { error: { message: `${type} [${first}] bad loop [${loopText}] (0 or 1)`, token: loopText }, ignored: [] };
      }
      return { medium: { type, device: first, group, port: p, ttl, loop: loopText === '1' }, ignored: rest.slice(4) };
    }
    case 'ping_group': {
      if (rest.length === 0) return { error: { message: `ping_group [${first}] has no addresses`, token: first }, ignored: [] };
      const bad = rest.find((a) => !isIPv4(a) && !isHostName(a));
      if (bad !== undefined) return { error: { message: `ping_group [${first}] bad address [${bad}]`, token: bad }, ignored: [] };
      return { medium: { type, name: first, addresses: [...rest] }, ignored: [] };
    }
    default:
      throw new Error(`not a whole-line medium: ${type}`);
  }
}
