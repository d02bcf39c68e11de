/**
 * ucast6 / mcast6 (Heartbeat 3.0.6 has both plugins): the IPv6 address
 * helpers, settings checks, and ucast6 on the host's loopback beside an IPv4
 * ucast medium on the same port number (IPv6-only sockets: neither steals the
 * other's datagrams). Real two-node clusters over ucast6 and mcast6 are in
 * daemon-ipv6.test.ts.
 */
import * as dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import {
  Ipv6InterfaceAddresses,
  canonicalIpv6,
  inNet6,
  ipv6ToBigInt,
  isIpv6LinkLocal,
  isIpv6Multicast,
  openMcast6,
  openMedium,
  openUcast,
  openUcast6,
  type Medium,
} from '../../lib/heartbeat/media/index.js';
import { DEFAULT_WAIT_MS } from './media-harness.js';

async function freePort(): Promise<number> {
  const s = dgram.createSocket({ type: 'udp6', ipv6Only: true });
  await new Promise<void>((resolve) => s.bind(0, '::1', () => resolve()));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function packets(m: Medium): { bytes: string; from: string }[] {
  const got: { bytes: string; from: string }[] = [];
  m.on('packet', (b, from) => got.push({ bytes: Buffer.from(b).toString(), from: from.address }));
  return got;
}

async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + DEFAULT_WAIT_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10)); // poll interval of a bounded condition wait
  }
}

describe('IPv6 addresses', () => {
  it('canonical forms, numbers, prefixes, kinds', () => {
    expect(canonicalIpv6('FD77:0:0::0012')).toBe('fd77::12');
    expect(canonicalIpv6('fe80::1%eth0')).toBe('fe80::1');
    expect(canonicalIpv6('10.0.0.1')).toBeUndefined();
    expect(canonicalIpv6('fd77::zz')).toBeUndefined();
    expect(ipv6ToBigInt('::1')).toBe(1n);
    expect(ipv6ToBigInt('::ffff:1.2.3.4')).toBe(0xffff01020304n);
    expect(ipv6ToBigInt('ff02::1:2')).toBe((0xff02n << 112n) | 0x10002n);
    expect(inNet6('fd77::12', { address: 'fd77::11', prefix: 64 })).toBe(true);
    expect(inNet6('fd78::12', { address: 'fd77::11', prefix: 64 })).toBe(false);
    expect(isIpv6Multicast('ff02::1')).toBe(true);
    expect(isIpv6Multicast('fd77::1')).toBe(false);
    expect(isIpv6LinkLocal('fe80::abcd')).toBe(true);
    expect(isIpv6LinkLocal('fd77::1')).toBe(false);
  });

  it('an interface without IPv6 is MEDIA_NO_INTERFACE; on-link follows its networks', () => {
    const lookup = () => ({
      eth0: [{ address: '10.0.0.1', netmask: '255.255.255.0', family: 'IPv4' as const, mac: '', internal: false, cidr: '10.0.0.1/24' }],
      eth1: [{ address: 'fd77::11', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6' as const, mac: '', internal: false, cidr: 'fd77::11/64', scopeid: 0 }],
    });
    expect(() => Ipv6InterfaceAddresses.read('eth0', { lookup })).toThrow(expect.objectContaining({ code: 'MEDIA_NO_INTERFACE', message: expect.stringContaining('no IPv6 address') }));
    expect(() => Ipv6InterfaceAddresses.read('eth9', { lookup })).toThrow(expect.objectContaining({ code: 'MEDIA_NO_INTERFACE' }));
    const a = Ipv6InterfaceAddresses.read('eth1', { lookup });
    expect(a.onLink('fd77::99')).toBe(true);
    expect(a.onLink('fd78::99')).toBe(false);
  });

  it('bad settings are MEDIA_BAD_CONFIG', async () => {
    await expect(openUcast6({ interface: 'lo', peer: 'ff02::1' })).rejects.toMatchObject({ code: 'MEDIA_BAD_CONFIG' });
    await expect(openUcast6({ interface: 'lo', peer: 'fd77::zz' })).rejects.toMatchObject({ code: 'MEDIA_BAD_CONFIG' });
    await expect(openMcast6({ interface: 'lo', group: 'fd77::1', port: 694, hops: 1, loop: false })).rejects.toMatchObject({ code: 'MEDIA_BAD_CONFIG' });
    await expect(openMcast6({ interface: 'lo', group: 'ff02::1:77', port: 694, hops: 9, loop: false })).rejects.toMatchObject({ code: 'MEDIA_BAD_CONFIG' });
  });
});

describe('ucast6 on loopback', () => {
  it('sends to [peer]:udpport and keeps only the peer; an IPv4 ucast on the same port number is a separate socket', async () => {
    const port = await freePort();
    const six = await openMedium({ kind: 'ucast6', interface: 'lo', peer: '0:0::1' }, { udpPort: port });
    const four = await openUcast({ interface: 'lo', peer: '127.0.0.1', port });
    try {
      expect(six.kind).toBe('ucast6');
      expect(six.name).toBe('lo');
      const got6 = packets(six);
      const got4 = packets(four);
      six.send(new Uint8Array(Buffer.from('over six')));
      four.send(new Uint8Array(Buffer.from('over four')));
      await until(() => got6.length === 1 && got4.length === 1);
      expect(got6).toEqual([{ bytes: 'over six', from: '::1' }]);
      expect(got4).toEqual([{ bytes: 'over four', from: '127.0.0.1' }]);
    } finally {
      await six.close();
      await four.close();
    }
  });
});
