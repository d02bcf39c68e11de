/** The media layer without real I/O: the mock, the serial framer and framing, pacing, interface filters, settings checks. */
import { describe, expect, it, vi } from 'vitest';
import {
  ClassicFrameReader,
  InterfaceAddresses,
  MediaError,
  MemorySegment,
  PacedWriter,
  SERIAL_CHUNK_BYTES,
  inNet,
  ipv4Nets,
  openMcast,
  openSerial,
  openUcast,
  packetsOf,
  serialFrameOf,
  sttyArgs,
  type PacketSource,
} from '../../lib/heartbeat/media/index.js';
import { HaMessage, decodePacket, encodeSignedNetstring, verifyPacket, type AuthKey } from '../../lib/heartbeat/wire/index.js';

const key: AuthKey = { index: 1, method: 'sha1', key: 'somesecret' };
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

function statusPacket(src: string, seq: number, innerAuth = true): Uint8Array {
  const m = new HaMessage().add('t', 'status').add('st', 'active').add('dt', '1b58').add('protocol', '1').add('src', src).add('seq', seq.toString(16)).add('hg', '5').add('ts', '65f00000').add('ld', '0.00 0.00 0.00 1/1 1').add('ttl', '3');
  return encodeSignedNetstring(m, { key, innerAuth });
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof MediaError) return e.code;
    throw e;
  }
  return 'no error';
}
async function asyncCodeOf(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (e) {
    if (e instanceof MediaError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('memory medium (the mock for core tests)', () => {
  it('delivers to every member of the segment, ourselves included when asked, asynchronously and in order', async () => {
    const lan = new MemorySegment();
    const a = lan.attach({ name: 'eth0', address: '10.0.0.1' });
    const b = lan.attach({ name: 'eth0', address: '10.0.0.2', hearSelf: false });
    const gotA: [string, PacketSource][] = [];
    const gotB: [string, PacketSource][] = [];
    a.on('packet', (p, from) => gotA.push([text(p), from]));
    b.on('packet', (p, from) => gotB.push([text(p), from]));
    a.send(bytes('one'));
    b.send(bytes('two'));
    expect(gotA).toEqual([]); // not synchronous
    await Promise.resolve();
    expect(gotA).toEqual([['one', { address: '10.0.0.1' }], ['two', { address: '10.0.0.2' }]]);
    expect(gotB).toEqual([['one', { address: '10.0.0.1' }]]);
    expect(a.stats.packetsSent).toBe(1);
    expect(b.stats.packetsReceived).toBe(1);
    expect(a.sent.map(text)).toEqual(['one']);
  });

  it('drops what dropIf says, refuses oversized sends, drops oversized injections, and refuses sends after close', async () => {
    const lan = new MemorySegment();
    const a = lan.attach({ name: 'eth0', address: 'a', maxPacketBytes: 8 });
    const b = lan.attach({ name: 'eth0', address: 'b', maxPacketBytes: 8 });
    const got: string[] = [];
    b.on('packet', (p) => got.push(text(p)));
    lan.dropIf = (from, to) => from === a && to === b;
    a.send(bytes('lost'));
    lan.dropIf = undefined;
    a.send(bytes('kept'));
    expect(codeOf(() => a.send(new Uint8Array(9)))).toBe('MEDIA_PACKET_TOO_LARGE');
    b.inject(new Uint8Array(9), { address: 'x' });
    await Promise.resolve();
    expect(got).toEqual(['kept']);
    expect(b.stats.droppedOversized).toBe(1);
    const closed = vi.fn();
    a.on('closed', closed);
    await a.close();
    expect(closed).toHaveBeenCalledOnce();
    expect(codeOf(() => a.send(bytes('x')))).toBe('MEDIA_CLOSED');
  });

  it('packetsOf iterates packets until the medium closes', async () => {
    const lan = new MemorySegment();
    const a = lan.attach({ name: 'eth0', address: 'a' });
    const seen: string[] = [];
    const done = (async () => {
      for await (const { bytes: p } of packetsOf(a)) seen.push(text(p));
    })();
    a.send(bytes('x'));
    a.send(bytes('y'));
    await new Promise((r) => setImmediate(r));
    await a.close();
    await done;
    expect(seen).toEqual(['x', 'y']);
  });
});

describe('serial framing', () => {
  it('cuts frames from >>> through <<<, across chunk boundaries, skipping noise between frames', () => {
    const r = new ClassicFrameReader();
    const frame1 = '>>>\nt=status\nsrc=a\n<<<\n';
    const frame2 = '>>>\nt=x\n<<<\n';
    const stream = `noise\n${frame1}junk line\n${frame2}`;
    const frames: string[] = [];
    for (let i = 0; i < stream.length; i += 3) frames.push(...r.push(bytes(stream.slice(i, i + 3))).map(text));
    expect(frames).toEqual([frame1, frame2]);
    expect(r.counters.discardedBytes).toBe('noise\n'.length + 'junk line\n'.length);
  });

  it('a new >>> inside a frame restarts it (the sender was cut off mid-frame)', () => {
    const r = new ClassicFrameReader();
    expect(r.push(bytes('>>>\nt=cut\n>>>\nt=x\n<<<\n')).map(text)).toEqual(['>>>\nt=x\n<<<\n']);
  });

  it('throws away a frame or a line over the bound and resynchronises at the next >>>', () => {
    const r = new ClassicFrameReader(64);
    const good = '>>>\nt=ok\n<<<\n';
    expect(r.push(bytes(`>>>\nt=${'x'.repeat(100)}\n<<<\n${good}`)).map(text)).toEqual([good]);
    expect(r.counters.oversizedFrames).toBe(1);
    // a newline-free flood is dropped as it comes, never buffered
    for (let i = 0; i < 100; i++) expect(r.push(bytes('y'.repeat(1000)))).toEqual([]);
    expect(r.push(bytes(`\n${good}`)).map(text)).toEqual([good]);
  });

  it('writes netstring packets as classic with a valid inner auth, re-signing with the key when given', () => {
    const signed = statusPacket('alpha', 1);
    const frame = serialFrameOf(signed, undefined, '/dev/ttyS0');
    expect(text(frame).startsWith('>>>\nt=status\n')).toBe(true);
    expect(text(frame).endsWith('<<<\n')).toBe(true);
    expect(verifyPacket(decodePacket(frame), [key]).ok).toBe(true);
    const unsigned = statusPacket('alpha', 2, false);
    expect(codeOf(() => serialFrameOf(unsigned, undefined, 'tty'))).toBe('MEDIA_BAD_PACKET');
    expect(verifyPacket(decodePacket(serialFrameOf(unsigned, key, 'tty')), [key]).ok).toBe(true);
    const classic = bytes('>>>\nt=x\n<<<\n');
    expect(serialFrameOf(classic, key, 'tty')).toBe(classic);
    expect(codeOf(() => serialFrameOf(bytes('hello'), key, 'tty'))).toBe('MEDIA_BAD_PACKET');
    expect(codeOf(() => serialFrameOf(bytes('###\nbroken'), key, 'tty'))).toBe('MEDIA_BAD_PACKET');
  });

  it('stty mode: raw first, then the original input flags (istrip, igncr) and RTS/CTS', () => {
    const args = sttyArgs('/dev/ttyS0', 19200);
    expect(args.slice(0, 3)).toEqual(['-F', '/dev/ttyS0', '19200']);
    expect(args.indexOf('raw')).toBeLessThan(args.indexOf('istrip'));
    expect(args).toEqual(expect.arrayContaining(['crtscts', 'clocal', 'cread', 'cs8', '-parenb', '-cstopb', 'igncr', '-echo']));
  });
});

describe('paced writer', () => {
  it('writes 512-byte chunks with 512/(baud/8) s between them, and drops frames past the backlog', () => {
    vi.useFakeTimers();
    try {
      const written: number[] = [];
      const w = new PacedWriter({ write: (c) => written.push(c.length), pendingBytes: 0 }, 19200, 2000);
      const pause = (512 * 1000) / (19200 / 8); // 213.3 ms
      expect(w.write(new Uint8Array(1200))).toBe(true);
      expect(written).toEqual([512]);
      expect(w.write(new Uint8Array(1000))).toBe(true); // 688 + 1000 queued
      expect(w.write(new Uint8Array(400))).toBe(false); // would pass 2000
      vi.advanceTimersByTime(pause - 1);
      expect(written).toEqual([512]);
      vi.advanceTimersByTime(2);
      expect(written).toEqual([512, 512]);
      vi.advanceTimersByTime(pause);
      // a short chunk ends a frame; the next frame follows without a pause
      expect(written).toEqual([512, 512, 176, 512]);
      vi.advanceTimersByTime(pause);
      expect(written).toEqual([512, 512, 176, 512, 488]);
      expect(w.backlogBytes).toBe(0);
      w.stop();
      expect(w.write(new Uint8Array(1))).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('interface addresses (the stand-in for SO_BINDTODEVICE)', () => {
  const table = (eth0: string[]) => () => ({
    lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4' as const, mac: '', internal: true, cidr: '127.0.0.1/8' }],
    eth0: eth0.map((cidr) => ({ address: cidr.split('/')[0]!, netmask: '', family: 'IPv4' as const, mac: '', internal: false, cidr })),
  });

  it('reads IPv4 networks with their broadcast address, primary first', () => {
    expect(ipv4Nets('eth0', table(['10.77.1.11/24', '10.77.9.1/16']))).toEqual([
      { address: '10.77.1.11', prefix: 24, broadcast: '10.77.1.255' },
      { address: '10.77.9.1', prefix: 16, broadcast: '10.77.255.255' },
    ]);
    expect(inNet('10.77.1.200', { address: '10.77.1.11', prefix: 24, broadcast: '' })).toBe(true);
    expect(inNet('::ffff:10.77.1.200', { address: '10.77.1.11', prefix: 24, broadcast: '' })).toBe(true);
    expect(inNet('10.77.2.1', { address: '10.77.1.11', prefix: 24, broadcast: '' })).toBe(false);
  });

  it('refuses a missing interface or one without IPv4', () => {
    expect(codeOf(() => InterfaceAddresses.read('eth9', { lookup: table([]) }))).toBe('MEDIA_NO_INTERFACE');
    expect(codeOf(() => InterfaceAddresses.read('eth0', { lookup: table([]) }))).toBe('MEDIA_NO_INTERFACE');
  });

  it('re-reads the addresses on a miss, at most once a second', () => {
    let now = 0;
    let nets = ['10.77.1.11/24'];
    const lookup = vi.fn(() => table(nets)());
    const ifa = InterfaceAddresses.read('eth0', { lookup, now: () => now });
    expect(ifa.onLink('10.77.1.12')).toBe(true);
    nets = ['10.77.1.11/24', '10.88.0.1/24'];
    now = 500;
    expect(ifa.onLink('10.88.0.5')).toBe(false); // too soon to look again
    now = 1500;
    expect(ifa.onLink('10.88.0.5')).toBe(true);
    const calls = lookup.mock.calls.length;
    now = 1600;
    for (let i = 0; i < 100; i++) expect(ifa.onLink('192.0.2.1')).toBe(false);
    expect(lookup.mock.calls.length).toBe(calls);
  });
});

describe('settings checks', () => {
  const lookup = () => ({ eth0: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4' as const, mac: '', internal: true, cidr: '127.0.0.1/8' }] });
  it('refuses impossible medium settings with MEDIA_BAD_CONFIG', async () => {
    expect(await asyncCodeOf(() => openUcast({ interface: 'eth0', peer: '10.0.0.256', interfaces: lookup }))).toBe('MEDIA_BAD_CONFIG');
    expect(await asyncCodeOf(() => openUcast({ interface: 'eth0', peer: '10.0.0.1', port: 0, interfaces: lookup }))).toBe('MEDIA_BAD_CONFIG');
    expect(await asyncCodeOf(() => openUcast({ interface: 'eth0', peer: '10.0.0.1', maxPacketBytes: 70000, interfaces: lookup }))).toBe('MEDIA_BAD_CONFIG');
    expect(await asyncCodeOf(() => openMcast({ interface: 'eth0', group: '10.1.1.1', port: 694, ttl: 1, loop: false, interfaces: lookup }))).toBe('MEDIA_BAD_CONFIG');
    expect(await asyncCodeOf(() => openMcast({ interface: 'eth0', group: '239.1.1.1', port: 694, ttl: 5, loop: false, interfaces: lookup }))).toBe('MEDIA_BAD_CONFIG');
    expect(await asyncCodeOf(() => openSerial({ device: '/dev/null', baud: 12345 }))).toBe('MEDIA_BAD_CONFIG');
    expect(await asyncCodeOf(() => openUcast({ interface: 'nosuch0', peer: '10.0.0.1' }))).toBe('MEDIA_NO_INTERFACE');
  });

  it('refuses to open a serial device that is missing or not a tty', async () => {
    expect(await asyncCodeOf(() => openSerial({ device: '/nonexistent/tty' }))).toBe('MEDIA_OPEN_FAILED');
    expect(await asyncCodeOf(() => openSerial({ device: '/dev/null' }))).toBe('MEDIA_OPEN_FAILED');
  });
});
