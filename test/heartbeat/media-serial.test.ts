/**
 * serial over a socat pty pair used as a null-modem cable, as hbnet does:
 *   socat -d -d pty,raw,echo=0,link=DIR/a pty,raw,echo=0,link=DIR/b
 * One end is opened here, the other here too or in a media-node.mjs process;
 * packets go out as classic frames and come back byte for byte.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { openSerial, type PacketSource, type SerialMedium } from '../../lib/heartbeat/media/index.js';
import { HaMessage, decodeAuthenticPacket, encodeClassic, encodeSignedNetstring, type AuthKey } from '../../lib/heartbeat/wire/index.js';
import { itWithTools } from '../helpers/env.js';
import { DEFAULT_WAIT_MS, MediaNode } from './media-harness.js';

const key: AuthKey = { index: 1, method: 'sha1', key: 'somesecret' };
const TOOLS = ['socat', 'stty', 'node'];
let seq = 0;
function status(src: string, info?: string, innerAuth = true): Uint8Array {
  seq++;
  const m = new HaMessage().add('t', 'status').add('st', 'active').add('dt', '1b58').add('protocol', '1').add('src', src).add('seq', seq.toString(16)).add('hg', '5').add('ts', '65f00000').add('ld', '0.00 0.00 0.00 1/1 1').add('ttl', '3');
  if (info !== undefined) m.add('info', info);
  return encodeSignedNetstring(m, { key, innerAuth });
}
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/** The next packet on `m` that `pred` accepts, within the bound. */
function nextPacket(m: SerialMedium, pred: (b: Uint8Array) => boolean = () => true, timeoutMs = DEFAULT_WAIT_MS): Promise<[Uint8Array, PacketSource]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      m.off('packet', on);
      reject(new Error(`no packet on ${m.name} within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (b: Uint8Array, from: PacketSource): void => {
      if (!pred(b)) return;
      clearTimeout(timer);
      m.off('packet', on);
      resolve([b, from]);
    };
    m.on('packet', on);
  });
}

/** A socat null-modem cable; `a` and `b` are its ends. */
class Cable {
  readonly a: string;
  readonly b: string;
  readonly #socat: ChildProcess;
  #log = '';
  private constructor(dir: string, socat: ChildProcess) {
    this.a = path.join(dir, 'a');
    this.b = path.join(dir, 'b');
    this.#socat = socat;
    socat.stderr!.on('data', (d: Buffer) => (this.#log += d.toString()));
  }
  static async plug(dir: string): Promise<Cable> {
    const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${dir}/a`, `pty,raw,echo=0,link=${dir}/b`], { stdio: ['ignore', 'ignore', 'pipe'] });
    const cable = new Cable(dir, socat);
    // socat logs "starting data transfer loop" once both ptys and their links exist.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`socat did not start: ${cable.#log}`)), DEFAULT_WAIT_MS);
      const check = (): void => {
        if (cable.#log.includes('starting data transfer loop') && existsSync(cable.a) && existsSync(cable.b)) {
          clearTimeout(timer);
          socat.stderr!.off('data', check);
          resolve();
        }
      };
      socat.stderr!.on('data', check);
      socat.once('exit', () => reject(new Error(`socat exited: ${cable.#log}`)));
    });
    return cable;
  }
  async unplug(): Promise<void> {
    if (this.#socat.exitCode !== null || this.#socat.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => this.#socat.once('exit', () => resolve()));
    this.#socat.kill('SIGTERM');
    await gone;
  }
}

describe('serial over a socat pty pair', () => {
  let dir = '';
  const cables: Cable[] = [];
  const media: SerialMedium[] = [];
  const nodes: MediaNode[] = [];
  let n = 0;
  const plug = async (): Promise<Cable> => {
    const d = path.join(dir, String(++n));
    mkdirSync(d);
    const c = await Cable.plug(d);
    cables.push(c);
    return c;
  };
  const open = async (device: string, opts: Partial<Parameters<typeof openSerial>[0]> = {}): Promise<SerialMedium> => {
    const m = await openSerial({ device, ...opts });
    media.push(m);
    return m;
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hbm-serial-'));
  });
  afterEach(async () => {
    await Promise.all(media.splice(0).map((m) => m.close()));
    await Promise.all(nodes.splice(0).map((x) => x.stop()));
    await Promise.all(cables.splice(0).map((c) => c.unplug()));
  });
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  itWithTools(TOOLS, 'carries heartbeat packets both ways as classic frames, named by the device path', async () => {
    const cable = await plug();
    const a = await open(cable.a);
    const b = await open(cable.b, { baud: 115200 });
    expect(a.name).toBe(cable.a);
    expect(a.baud).toBe(19200);

    const p = status('alpha');
    const arrival = nextPacket(b);
    a.send(p);
    const [frame, from] = await arrival;
    expect(from).toEqual({ address: cable.b });
    expect(text(frame).startsWith('>>>\nt=status\n')).toBe(true);
    const decoded = decodeAuthenticPacket(frame, [key]);
    expect(decoded.format).toBe('classic');
    expect(decoded.message.get('src')).toBe('alpha');

    const q = encodeClassic(decodeAuthenticPacket(status('beta'), [key]).message); // a classic packet goes as is
    const back = nextPacket(a);
    b.send(q);
    expect(text((await back)[0])).toBe(text(q));
    expect(a.stats.packetsReceived).toBe(1);
    expect(b.stats.packetsSent).toBe(1);
  });

  itWithTools(TOOLS, 'a frame longer than one 512-byte chunk is paced out and arrives whole; several frames keep their order', async () => {
    const cable = await plug();
    const a = await open(cable.a, { baud: 460800 });
    const b = await open(cable.b, { baud: 460800 });
    const long = status('alpha', 'y'.repeat(3000)); // 6+ chunks, 512/(460800/8) s = 9 ms apart
    const frames: string[] = [];
    const all = new Promise<void>((resolve) => {
      b.on('packet', (f) => {
        frames.push(decodeAuthenticPacket(f, [key]).message.get('info') ?? '-');
        if (frames.length === 3) resolve();
      });
    });
    a.send(status('alpha', 'first'));
    a.send(long);
    a.send(status('alpha', 'last'));
    await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`got only ${frames.length} frames`)), DEFAULT_WAIT_MS))]);
    expect(frames).toEqual(['first', 'y'.repeat(3000), 'last']);
  });

  itWithTools(TOOLS, 'noise, CRs, 8-bit bytes and an oversized frame on the line are dropped; the next good frame gets through', async () => {
    const cable = await plug();
    const a = await open(cable.a, { maxPacketBytes: 4096 });
    // write raw bytes into the other end, as a broken peer would
    const fd = openSync(cable.b, 'w');
    try {
      const good = text(encodeClassic(decodeAuthenticPacket(status('beta', 'good'), [key]).message));
      const arrival = nextPacket(a);
      writeSync(fd, Buffer.from(`garbage without newline ${'z'.repeat(10_000)}\n>>>\nt=${'x'.repeat(8000)}\n<<<\n`, 'latin1'));
      // CR before LF is ignored (IGNCR) and the 8th bit stripped (ISTRIP), like the original's tty setup
      writeSync(fd, Buffer.from(good.replace('t=status\n', 't=status\r\n').replace('info=good', 'info=g\xefod'), 'latin1'));
      const [frame] = await arrival;
      expect(text(frame)).toBe(good); // the CR is gone and 0xef & 0x7f is 'o': the frame is the good one exactly
      expect(a.stats.droppedOversized).toBe(1);
      expect(a.stats.discardedBytes).toBeGreaterThan(18_000);
    } finally {
      closeSync(fd);
    }
  });

  itWithTools(TOOLS, 'a netstring packet without inner auth is re-signed with the key; oversized and non-packets are refused', async () => {
    const cable = await plug();
    const a = await open(cable.a, { key, maxPacketBytes: 2048 });
    const b = await open(cable.b);
    const arrival = nextPacket(b);
    a.send(status('alpha', 'resigned', false));
    const [frame] = await arrival;
    expect(decodeAuthenticPacket(frame, [key]).message.get('info')).toBe('resigned');
    expect(() => a.send(status('alpha', 'q'.repeat(3000)))).toThrow(expect.objectContaining({ code: 'MEDIA_PACKET_TOO_LARGE' }));
    expect(() => a.send(new Uint8Array(Buffer.from('hello')))).toThrow(expect.objectContaining({ code: 'MEDIA_BAD_PACKET' }));
  });

  itWithTools(TOOLS, 'works across processes, and a pulled cable is a fault, not a crash', async () => {
    const cable = await plug();
    const here = await open(cable.a);
    const there = await MediaNode.start('serial-peer');
    nodes.push(there);
    await there.open('s', { kind: 'serial', device: cable.b, baud: 19200 });
    const p = status('alpha', 'to the other process');
    here.send(p);
    const got = await there.waitFor((e) => e.ev === 'packet' && e.id === 's');
    expect(got.name).toBe(cable.b);
    const frame = new Uint8Array(Buffer.from(got.b64!, 'base64'));
    expect(decodeAuthenticPacket(frame, [key]).message.get('info')).toBe('to the other process');
    const reply = status('beta', 'reply');
    const arrival = nextPacket(here);
    await there.send('s', reply);
    expect(decodeAuthenticPacket((await arrival)[0], [key]).message.get('info')).toBe('reply');

    const fault = new Promise<string>((resolve) => here.once('fault', (e) => resolve(e.code)));
    await cable.unplug();
    expect(await Promise.race([fault, new Promise((r) => setTimeout(() => r('no fault'), DEFAULT_WAIT_MS))])).toBe('MEDIA_DEVICE_LOST');
    here.send(status('alpha', 'into the void')); // counted, never thrown
    expect(here.stats.sendErrors).toBe(1);
  });
  itWithTools(TOOLS, 'with reopen, a lost device is opened again once the cable is back (bounded retry); frames flow again', async () => {
    const d = path.join(dir, 'replug');
    mkdirSync(d);
    const first = await Cable.plug(d);
    cables.push(first);
    const a = await open(first.a, { reopen: { firstMs: 50, maxMs: 200 } });
    const b = await open(first.b);
    const before = nextPacket(b);
    a.send(status('alpha', 'before'));
    expect(decodeAuthenticPacket((await before)[0], [key]).message.get('info')).toBe('before');

    const fault = new Promise<string>((resolve) => a.once('fault', (e) => resolve(e.code)));
    await first.unplug();
    expect(await Promise.race([fault, new Promise((r) => setTimeout(() => r('no fault'), DEFAULT_WAIT_MS))])).toBe('MEDIA_DEVICE_LOST');
    expect(a.lost).toBe(true);
    a.send(status('alpha', 'into the void')); // counted while lost, never thrown
    expect(a.stats.sendErrors).toBe(1);
    // The device stays missing for a while: attempts fail and are retried.
    const deadline = Date.now() + DEFAULT_WAIT_MS;
    while (a.reopenAttempts < 2) {
      if (Date.now() > deadline) throw new Error('no reopen attempts');
      await new Promise((r) => setTimeout(r, 20)); // poll interval of a bounded condition wait
    }
    const restored = new Promise<number>((resolve) => a.once('restored', resolve));
    const second = await Cable.plug(d);
    cables.push(second);
    const attempts = await Promise.race([restored, new Promise<number>((r) => setTimeout(() => r(-1), DEFAULT_WAIT_MS))]);
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(a.lost).toBe(false);
    expect(a.reopenAttempts).toBe(0);
    const b2 = await open(second.b);
    const after = nextPacket(b2);
    a.send(status('alpha', 'after'));
    expect(decodeAuthenticPacket((await after)[0], [key]).message.get('info')).toBe('after');
    const back = nextPacket(a);
    b2.send(status('beta', 'back'));
    expect(decodeAuthenticPacket((await back)[0], [key]).message.get('info')).toBe('back');
  });

  itWithTools(TOOLS, 'closing a medium that waits to reopen its lost device stops the retries', async () => {
    const cable = await plug();
    const a = await open(cable.a, { reopen: { firstMs: 30, maxMs: 30 } });
    const fault = new Promise<string>((resolve) => a.once('fault', (e) => resolve(e.code)));
    await cable.unplug();
    expect(await fault).toBe('MEDIA_DEVICE_LOST');
    await a.close();
    const n = a.reopenAttempts;
    await new Promise((r) => setTimeout(r, 120)); // 4 retry periods: none may run after close
    expect(a.reopenAttempts).toBe(n);
  });
});
