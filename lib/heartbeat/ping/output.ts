/**
 * The pure part of our ping nodes: what command pings an address, and which
 * lines of its output are echo replies. Node has no raw or ICMP sockets, so
 * each ping-node address gets one long-lived `ping` process (iputils or GNU
 * inetutils) sending an echo request every keepalive; every reply it prints
 * counts as one heartbeat of the ping node, as an echo reply does for the
 * original's ping plugin (lib/plugins/HBcomm/ping.c).
 */

export type PingFamily = 4 | 6;

/**
 * `ping -n -i SECONDS ADDRESS` (IPv6: `-6`, understood by iputils; GNU
 * inetutils has `ping6` instead, chosen by `program`).
 */
export function pingCommand(address: string, family: PingFamily, intervalMs: number, program = 'ping'): string[] {
  const seconds = (Math.max(1, Math.round(intervalMs)) / 1000).toFixed(3).replace(/\.?0+$/, '');
  const args = ['-n', '-i', seconds, address];
  if (family === 6 && program === 'ping') args.unshift('-6');
  return [program, ...args];
}

export type PingLine =
  | { readonly kind: 'reply'; readonly seq: number }
  /** A diagnostic worth logging (`ping: sending packet: Network is unreachable`). */
  | { readonly kind: 'error'; readonly text: string }
  /** Headers, statistics, unreachable notices: nothing to do. */
  | { readonly kind: 'other' };

/**
 * One echo reply, in both tools' formats:
 * `64 bytes from 10.0.0.1: icmp_seq=3 ttl=64 time=0.04 ms` (inetutils, iputils -n),
 * `64 bytes from gw (10.0.0.1): icmp_seq=3 ttl=64 time=0.04 ms` (iputils with names),
 * `64 bytes from ::1: icmp_seq=1 ttl=64 time=0.04 ms` (IPv6). ICMP errors
 * (`92 bytes from 10.0.0.9: Destination Host Unreachable`, iputils'
 * `From 10.0.0.9 icmp_seq=1 Destination Host Unreachable`) are not replies.
 */
const REPLY = /^\d+ bytes from .+: icmp_seq=(\d+) ttl=\d+/;

export function parsePingLine(line: string): PingLine {
  const m = REPLY.exec(line);
  if (m) return { kind: 'reply', seq: Number(m[1]) };
  if (/^ping6?: /.test(line)) return { kind: 'error', text: line };
  return { kind: 'other' };
}

/** Splits a byte stream into lines (the last, unterminated piece waits for more). */
export class LineSplitter {
  private rest = '';
  /** Longest line kept; ping never prints more, a longer one is cut. */
  static readonly MAX_LINE = 4096;

  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const parts = text.split('\n');
    this.rest = parts.pop()!.slice(-LineSplitter.MAX_LINE);
    return parts.map((l) => l.replace(/\r$/, ''));
  }
}
