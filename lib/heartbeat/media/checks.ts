/** Checks of medium settings, with the ha.cf parser's limits; each failure is MEDIA_BAD_CONFIG. */
import { MediaError, MediaErrorCode } from './errors.js';
import { ipv4ToInt } from './interfaces.js';
import { MAX_MCAST_TTL, SERIAL_BAUD_RATES } from './limits.js';

const bad = (medium: string, message: string): MediaError => new MediaError(MediaErrorCode.BadConfig, message, { medium });

export function checkPort(medium: string, port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw bad(medium, `bad UDP port ${port}`);
  return port;
}

export function checkIpv4(medium: string, what: string, ip: string): string {
  if (ipv4ToInt(ip) === undefined) throw bad(medium, `${what} ${JSON.stringify(ip)} is not an IPv4 address`);
  return ip;
}

/** 224.0.0.0/4. */
export function checkMulticastGroup(medium: string, group: string): string {
  const n = ipv4ToInt(group);
  if (n === undefined || n >>> 28 !== 0xe) throw bad(medium, `${JSON.stringify(group)} is not an IPv4 multicast group`);
  return group;
}

export function checkTtl(medium: string, ttl: number): number {
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_MCAST_TTL) throw bad(medium, `mcast ttl ${ttl} is not in 0..${MAX_MCAST_TTL}`);
  return ttl;
}

export function checkBaud(medium: string, baud: number): number {
  if (!SERIAL_BAUD_RATES.includes(baud)) throw bad(medium, `baud ${baud} is not one of ${SERIAL_BAUD_RATES.join(', ')}`);
  return baud;
}

export function checkMaxPacket(medium: string, max: number, limit: number): number {
  if (!Number.isInteger(max) || max < 1 || max > limit) throw bad(medium, `maximum packet size ${max} is not in 1..${limit}`);
  return max;
}
