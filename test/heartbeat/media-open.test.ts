/** openMedia on the host's loopback: all or nothing, and the shared port comes and goes with its media. */
import * as dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { MediaError, openBcast, openMedia, openUcast, type Medium } from '../../lib/heartbeat/media/index.js';
import { DEFAULT_WAIT_MS } from './media-harness.js';

/** A free UDP port on loopback, found by binding port 0. */
async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function nextPacket(m: Medium): Promise<[Uint8Array, string]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nothing on ${m.name}`)), DEFAULT_WAIT_MS);
    m.once('packet', (b, from) => {
      clearTimeout(timer);
      resolve([b, from.address]);
    });
  });
}

describe('openMedia (loopback)', () => {
  it('opens every medium or none: a failing serial line closes the bcast medium opened before it', async () => {
    const port = await freePort();
    const err = await openMedia([{ kind: 'bcast', interface: 'lo' }, { kind: 'serial', device: '/nonexistent/tty' }], { udpPort: port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).code).toBe('MEDIA_OPEN_FAILED');
    // the port was released: an exclusive bind of it succeeds
    const probe = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.bind(port, '0.0.0.0', () => resolve());
    });
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });

  it('a bcast and a ucast medium on one port both hear a unicast datagram from the peer', async () => {
    const port = await freePort();
    const [b, u] = await openMedia([{ kind: 'bcast', interface: 'lo' }, { kind: 'ucast', interface: 'lo', peer: '127.0.0.1' }], { udpPort: port });
    try {
      const got = Promise.all([nextPacket(b!), nextPacket(u!)]);
      u!.send(new Uint8Array(Buffer.from('###\nhello')));
      const [[pb, fromB], [pu]] = await got;
      expect(Buffer.from(pb).toString()).toBe('###\nhello');
      expect(Buffer.from(pu).toString()).toBe('###\nhello');
      expect(fromB).toBe('127.0.0.1');
      expect(u!.stats.packetsSent).toBe(1);
    } finally {
      await Promise.all([b!.close(), u!.close()]);
    }
    // and both closed: a new medium can have the port again
    const again = await openUcast({ interface: 'lo', peer: '127.0.0.1', port });
    await again.close();
    const bc = await openBcast({ interface: 'lo', port });
    expect(bc.closed).toBe(false);
    await bc.close();
    expect(bc.closed).toBe(true);
  });
});
