/**
 * A tiny reader for the classic pcap files in reference/vectors (Ethernet,
 * IPv4, UDP): just enough to get the UDP payloads out, no dependencies.
 */
import { readFileSync } from 'node:fs';

export interface UdpDatagram {
  /** Packet number in the file, 1-based (as hbdecode and tcpdump count). */
  readonly frame: number;
  readonly time: number;
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly payload: Uint8Array;
}

const ip = (b: Buffer, o: number): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

export function readPcapUdp(file: string): UdpDatagram[] {
  const buf = readFileSync(file);
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${file}: not a pcap file`);
  const nano = (le ? magic : buf.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linktype = u32(20);
  if (linktype !== 1) throw new Error(`${file}: link type ${linktype}, only Ethernet (1) is read`);
  const out: UdpDatagram[] = [];
  let pos = 24;
  let frame = 0;
  while (pos + 16 <= buf.length) {
    frame++;
    const time = u32(pos) + u32(pos + 4) / (nano ? 1e9 : 1e6);
    const incl = u32(pos + 8);
    const pkt = buf.subarray(pos + 16, pos + 16 + incl);
    pos += 16 + incl;
    let eth = 12;
    let type = pkt.readUInt16BE(eth);
    if (type === 0x8100) {
      eth += 4;
      type = pkt.readUInt16BE(eth);
    }
    if (type !== 0x0800) continue;
    const ipo = eth + 2;
    const ihl = (pkt[ipo]! & 0x0f) * 4;
    if (pkt[ipo + 9] !== 17) continue;
    const frag = pkt.readUInt16BE(ipo + 6);
    if ((frag & 0x1fff) !== 0 || (frag & 0x2000) !== 0) throw new Error(`${file}: frame ${frame} is an IP fragment`);
    const udp = ipo + ihl;
    const len = pkt.readUInt16BE(udp + 4);
    out.push({
      frame,
      time,
      src: ip(pkt, ipo + 12),
      dst: ip(pkt, ipo + 16),
      srcPort: pkt.readUInt16BE(udp),
      dstPort: pkt.readUInt16BE(udp + 2),
      payload: new Uint8Array(pkt.subarray(udp + 8, udp + len)),
    });
  }
  return out;
}
