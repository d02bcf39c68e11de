/** The API socket shell: file modes, stale sockets, bad clients dropped while others are served, delivery, close. */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiConnection, ApiError, ApiServer, encodeApiMessage, lookupOwner, type ApiLogLevel } from '../../lib/heartbeat/api/index.js';
import { HaMessage } from '../../lib/heartbeat/wire/index.js';
import { VIEW } from './api-fixture.js';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-api-srv-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const signon = (pid = process.pid, fromId = String(pid)) =>
  HaMessage.of([['t', 'hbapi-req'], ['reqtype', 'signon'], ['dest', 'node1'], ['pid', String(pid)], ['from_id', fromId], ['uid', '0'], ['gid', '0']]);
const request = (reqtype: string, fields: [string, string][] = [], fromId = String(process.pid)) =>
  HaMessage.of([['t', 'hbapi-req'], ['reqtype', reqtype], ['dest', 'node1'], ['pid', String(process.pid)], ['from_id', fromId], ...fields]);

/** Resolves when the raw socket is closed by the other side (bounded by the test timeout). */
const closed = (s: net.Socket) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));

describe('ApiServer', () => {
  it('creates <run dir>/heartbeat (0750) and the socket (0777), replaces a stale socket, removes it on close', async () => {
    const first = await ApiServer.start({ view: VIEW, runDir: tmp });
    expect(first.socketPath).toBe(path.join(tmp, 'heartbeat', 'register'));
    const dirStat = fs.statSync(path.join(tmp, 'heartbeat'));
    expect(dirStat.mode & 0o777).toBe(0o750);
    // As root with Debian's accounts present, the directory is hacluster:haclient like Debian's /run/heartbeat.
    const owner = process.getuid?.() === 0 ? lookupOwner('hacluster', 'haclient') : undefined;
    if (owner !== undefined) expect([dirStat.uid, dirStat.gid]).toEqual([owner.uid, owner.gid]);
    expect(fs.statSync(first.socketPath).mode & 0o777).toBe(0o777);
    // A crashed daemon leaves its socket behind: the next one takes over.
    const second = await ApiServer.start({ view: VIEW, runDir: tmp });
    await second.close();
    expect(fs.existsSync(second.socketPath)).toBe(false);
    await first.close();
  });

  it('refuses to replace something that is not a socket', async () => {
    fs.mkdirSync(path.join(tmp, 'heartbeat'));
    fs.writeFileSync(path.join(tmp, 'heartbeat', 'register'), 'not a socket');
    await expect(ApiServer.start({ view: VIEW, runDir: tmp })).rejects.toThrow();
    expect(fs.readFileSync(path.join(tmp, 'heartbeat', 'register'), 'utf8')).toBe('not a socket');
  });

  it('drops a client that sends garbage and keeps serving the others', async () => {
    const logs: [ApiLogLevel, string][] = [];
    const server = await ApiServer.start({ view: VIEW, runDir: tmp, log: (l, m) => logs.push([l, m]) });
    try {
      const bad = net.createConnection(server.socketPath);
      bad.on('error', () => undefined);
      bad.write(Buffer.from('GET / HTTP/1.0\r\n\r\n'));
      await closed(bad);
      expect(logs.some(([l, m]) => l === 'warn' && m.includes('API_BAD_MAGIC'))).toBe(true);

      const good = await ApiConnection.connect(server.socketPath);
      good.send(signon());
      expect((await good.next())?.get('result')).toBe('OK');
      good.send(request('nodestatus', [['node', 'node2']]));
      expect((await good.next())?.get('st')).toBe('active');
      good.send(request('signoff'));
      expect(await good.next()).toBeUndefined(); // closed by the server after signoff
    } finally {
      await server.close();
    }
  });

  it('a frame whose body is not a message, and a cut frame, are dropped too', async () => {
    const logs: string[] = [];
    const server = await ApiServer.start({ view: VIEW, runDir: tmp, log: (_l, m) => logs.push(m) });
    try {
      const s = net.createConnection(server.socketPath);
      s.on('error', () => undefined);
      const body = Buffer.from('hello\0');
      const header = Buffer.alloc(8);
      header.writeInt32LE(body.length, 0);
      header.writeUInt32LE(0xabcd, 4);
      s.write(Buffer.concat([header, body]));
      await closed(s);
      expect(logs.some((m) => m.includes('API_BAD_BODY'))).toBe(true);

      const cut = net.createConnection(server.socketPath);
      cut.on('error', () => undefined);
      await new Promise<void>((resolve) => cut.once('connect', () => resolve()));
      cut.end(encodeApiMessage(signon()).subarray(0, 30));
      await closed(cut);
      expect(logs.some((m) => m.includes('API_TRUNCATED'))).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('forwards remote client-status queries and delivers the answer to the asking client', async () => {
    const toCluster: HaMessage[] = [];
    let notify: () => void = () => undefined;
    const forwarded = new Promise<void>((resolve) => (notify = resolve));
    const server = await ApiServer.start({
      view: VIEW,
      runDir: tmp,
      onClusterMessage: (m) => {
        toCluster.push(m);
        notify();
      },
    });
    try {
      const c = await ApiConnection.connect(server.socketPath);
      c.send(signon());
      await c.next();
      c.send(request('clientstatus', [['node', 'node2'], ['cn', 'ipfail']]));
      await forwarded;
      expect(toCluster[0]?.get('t')).toBe('query-cstatus');
      const answer = HaMessage.of([['t', 'respond-cstatus'], ['cs', 'online'], ['to_id', String(process.pid)]]);
      expect(server.deliver(String(process.pid), answer)).toBe(true);
      expect(server.deliver('nobody', answer)).toBe(false);
      expect((await c.next((m) => m.type === 'respond-cstatus'))?.get('cs')).toBe('online');
      await c.end();
    } finally {
      await server.close();
    }
  });

  it('a second sign-on with a from_id already connected is refused', async () => {
    const server = await ApiServer.start({ view: VIEW, runDir: tmp });
    try {
      const a = await ApiConnection.connect(server.socketPath);
      a.send(signon(process.pid, 'ipfail'));
      expect((await a.next())?.get('result')).toBe('OK');
      const b = await ApiConnection.connect(server.socketPath);
      b.send(signon(process.pid, 'ipfail'));
      const r = await b.next();
      expect(r?.get('result')).toBe('badreq');
      expect(r?.get('info')).toBe('duplicate add request');
      expect(await b.next()).toBeUndefined();
      // And ipfail now counts as online on this node.
      a.send(request('clientstatus', [['node', 'node1'], ['cn', 'ipfail']], 'ipfail'));
      expect((await a.next())?.get('cs')).toBe('online');
      await a.end();
    } finally {
      await server.close();
    }
  });

  it('a named client that disconnects without signing off is announced as gone (EOF)', async () => {
    const toCluster: HaMessage[] = [];
    let left: () => void = () => undefined;
    const gone = new Promise<void>((resolve) => (left = resolve));
    const server = await ApiServer.start({
      view: VIEW,
      runDir: tmp,
      onClusterMessage: (m) => {
        toCluster.push(m);
        if (m.get('st') === 'leave') left();
      },
    });
    try {
      const c = await ApiConnection.connect(server.socketPath);
      c.send(signon(process.pid, 'ipfail'));
      await c.next();
      await c.end();
      await gone;
      expect(toCluster.map((m) => [m.get('t'), m.get('st'), m.get('info')])).toEqual([
        ['hbapi-clstat', 'join', 'signon'],
        ['hbapi-clstat', 'leave', 'EOF'],
      ]);
    } finally {
      await server.close();
    }
  });

  it('the client reports a missing server as API_NO_SERVER', async () => {
    await expect(ApiConnection.connect(path.join(tmp, 'nothing'))).rejects.toBeInstanceOf(ApiError);
  });
});

describe('ApiServer bounds', () => {
  it('drops a client that keeps asking without reading', async () => {
    const logs: string[] = [];
    const server = await ApiServer.start({ view: VIEW, runDir: tmp, maxUnreadReplyBytes: 64 * 1024, log: (_l, m) => logs.push(m) });
    try {
      const s = net.createConnection(server.socketPath);
      s.on('error', () => undefined);
      s.pause(); // never reads
      const ask = encodeApiMessage(request('nodelist'));
      s.write(encodeApiMessage(signon()));
      // Far more replies than the kernel buffers between us hold.
      for (let i = 0; i < 20_000; i++) s.write(ask);
      await closed(s);
      expect(logs.some((m) => m.includes('unread'))).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('lookupOwner', () => {
  it('reads uid and gid from passwd and group files', () => {
    fs.writeFileSync(path.join(tmp, 'passwd'), 'root:x:0:0::/root:/bin/sh\nhacluster:x:102:105::/var/lib:/bin/false\n');
    fs.writeFileSync(path.join(tmp, 'group'), 'root:x:0:\nhaclient:x:105:\n');
    expect(lookupOwner('hacluster', 'haclient', tmp)).toEqual({ uid: 102, gid: 105 });
    expect(lookupOwner('nobody', 'haclient', tmp)).toBeUndefined();
    expect(lookupOwner('hacluster', 'haclient', path.join(tmp, 'none'))).toBeUndefined();
  });
});

describe('ApiServer logging', () => {
  it('a flood of bad clients gives a bounded number of log lines', async () => {
    const logs: string[] = [];
    const server = await ApiServer.start({ view: VIEW, runDir: tmp, log: (l, m) => l !== 'debug' && logs.push(m) });
    try {
      for (let i = 0; i < 30; i++) {
        const s = net.createConnection(server.socketPath);
        s.on('error', () => undefined);
        s.write(Buffer.alloc(8, 0xff));
        await closed(s);
      }
      expect(logs.length).toBe(10);
    } finally {
      await server.close();
    }
  });
});
