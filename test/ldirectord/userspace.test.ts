/**
 * The user-space balancer for real: our ldirectord (backend=userspace, -d)
 * on loopback addresses with real TCP and UDP servers of this test; clients
 * connect to the virtual address. Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/env.js';

const work = mkdtempSync(path.join(tmpdir(), 'ldus-'));
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function namedHttp(host: string, port: number, name: string): Promise<http.Server> {
  const s = http.createServer((_req, res) => res.end(name));
  s.keepAliveTimeout = 1;
  return new Promise((resolve) => s.listen(port, host, () => resolve(s)));
}

function closeServer(s: net.Server | http.Server): Promise<void> {
  (s as http.Server).closeAllConnections?.();
  return new Promise((r) => s.close(() => r()));
}

function get(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/', agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', (e) => resolve(`error:${(e as NodeJS.ErrnoException).code}`));
    req.on('timeout', () => req.destroy());
  });
}

function startDirector(cf: string): { proc: ChildProcess; output: () => string } {
  const file = path.join(work, `t${cleanups.length}-${Date.now()}.cf`);
  writeFileSync(file, cf);
  const proc = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'ldirectord'), '-d', file, 'start'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  cleanups.push(() => new Promise<void>((r) => {
    if (proc.exitCode !== null) return r();
    proc.once('exit', () => r());
    proc.kill('SIGTERM');
    setTimeout(() => proc.kill('SIGKILL'), 10_000).unref();
  }));
  return { proc, output: () => out };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function sample(host: string, port: number, n: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const b = await get(host, port);
    out[b] = (out[b] ?? 0) + 1;
  }
  return out;
}

describe('user-space balancer (backend=userspace)', () => {
  it('reaches only live reals, spreads by weight, and moves new connections off a stopped real within one interval', async () => {
    const r1 = await namedHttp('127.0.31.2', 8080, 'r1');
    const r2 = await namedHttp('127.0.31.3', 8080, 'r2');
    cleanups.push(() => closeServer(r1));
    let r2open = true;
    cleanups.push(() => (r2open ? closeServer(r2) : undefined));
    // 127.0.31.4 never answers: it must never be chosen.
    const d = startDirector(`backend=userspace
checkinterval=1
checktimeout=1
quiescent=no
virtual=127.0.31.1:8080
\treal=127.0.31.2:8080 masq 1
\treal=127.0.31.3:8080 masq 3
\treal=127.0.31.4:8080 masq 5
\tchecktype=connect
\tscheduler=wrr
`);
    await waitFor('both live reals in', async () => (d.output().includes('Added real server: 127.0.31.3:8080') && d.output().includes('Added real server: 127.0.31.2:8080') ? true : undefined), 15_000);
    await waitFor('the virtual address to answer', async () => ((await get('127.0.31.1', 8080)).startsWith('r') ? true : undefined), 10_000);
    const s = await sample('127.0.31.1', 8080, 40);
    expect(s).toEqual({ r1: 10, r2: 30 });

    await closeServer(r2);
    r2open = false;
    const stopped = Date.now();
    await waitFor('new connections to leave r2', async () => {
      const b = await sample('127.0.31.1', 8080, 4);
      return b.r1 === 4 ? true : undefined;
    }, 5000);
    // One check interval (1 s) plus the check itself and the relay's reaction.
    expect(Date.now() - stopped).toBeLessThan(2500);
    expect(await sample('127.0.31.1', 8080, 10)).toEqual({ r1: 10 });
    expect(d.output()).toContain('Deleted real server: 127.0.31.3:8080 (127.0.31.1:8080)');
  }, 60_000);

  it('quiescent reals drain: an open connection keeps working while new ones go elsewhere; UDP is relayed too', async () => {
    const echo = (host: string, name: string): Promise<net.Server> => new Promise((resolve) => {
      const s = net.createServer((c) => c.on('data', (d) => c.write(`${name}:${d}`)));
      s.listen(7007, host, () => resolve(s));
    });
    const a = await echo('127.0.32.2', 'a');
    const b = await echo('127.0.32.3', 'b');
    cleanups.push(() => closeServer(a));
    const open: net.Socket[] = [];
    cleanups.push(() => {
      for (const s of open) s.destroy();
    });
    let bListening = true;
    cleanups.push(() => (bListening ? closeServer(b) : undefined));
    const udpReal = dgram.createSocket('udp4');
    udpReal.on('message', (m, r) => udpReal.send(`u:${m}`, r.port, r.address));
    await new Promise<void>((r) => udpReal.bind(7008, '127.0.32.4', () => r()));
    cleanups.push(() => new Promise<void>((r) => udpReal.close(() => r())));
    const d = startDirector(`backend=userspace
checkinterval=1
checktimeout=1
quiescent=yes
virtual=127.0.32.1:7007
\treal=127.0.32.2:7007 masq 1
\treal=127.0.32.3:7007 masq 1
\tchecktype=connect
\tscheduler=rr
virtual=127.0.32.1:7008
\treal=127.0.32.4:7008 masq 1
\tprotocol=udp
\tchecktype=on
`);
    await waitFor('both reals in', async () => ((d.output().match(/Added real server: 127\.0\.32\.[23]:7007/g) ?? []).length === 2 ? true : undefined), 15_000);
    const talk = (s: net.Socket, text: string): Promise<string> => new Promise((resolve) => {
      s.once('data', (x) => resolve(x.toString()));
      s.write(text);
    });
    const connect = async (): Promise<net.Socket> => {
      const s = await waitFor('a relayed connection', () => new Promise<net.Socket | undefined>((resolve) => {
        const c = net.connect(7007, '127.0.32.1', () => resolve(c));
        c.once('error', () => resolve(undefined));
      }), 10_000);
      open.push(s);
      return s;
    };
    // Find a connection relayed to b and keep it open.
    let toB: net.Socket | undefined;
    for (let i = 0; i < 4 && !toB; i++) {
      const s = await connect();
      if ((await talk(s, 'hello')).startsWith('b:')) toB = s;
    }
    expect(toB).toBeDefined();
    // b stops accepting (its check fails); the established connection stays.
    b.close();
    bListening = false;
    await waitFor('b quiesced', async () => (d.output().includes('Quiescent real server: 127.0.32.3:7007') ? true : undefined), 5000);
    expect(await talk(toB!, 'still there')).toBe('b:still there');
    for (let i = 0; i < 4; i++) expect(await talk(await connect(), 'x')).toBe('a:x');

    const client = dgram.createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => client.close(() => r())));
    const reply = await waitFor('a UDP reply through the virtual address', () => new Promise<string | undefined>((resolve) => {
      const t = setTimeout(() => resolve(undefined), 300);
      client.once('message', (m) => {
        clearTimeout(t);
        resolve(m.toString());
      });
      client.send('ping', 7008, '127.0.32.1');
    }), 10_000);
    expect(reply).toBe('u:ping');
  }, 60_000);
});
