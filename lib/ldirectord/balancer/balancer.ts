/**
 * The user-space balancer: where the kernel has no IPVS, the daemon itself
 * listens on each TCP and UDP virtual address and port of the table and
 * relays every new connection (every new UDP client) to a real chosen by the
 * service's scheduler. The table is the MemoryBackend's: when the director
 * sets a real to weight 0 it takes no new connections while established ones
 * drain; a deleted real gets nothing new either. Persistence keeps a client
 * on its real for `persistent` seconds. Firewall-mark services need the
 * kernel and are reported, not served.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { Logger } from '../../shared/log/index.js';
import type { MemoryBackend } from '../backend/memory.js';
import { serviceKey, splitHostPort, type IpvsService, type IpvsTable } from '../ipvs/model.js';
import { newSchedulerState, schedule, type Candidate, type SchedulerState } from './scheduler.js';

const RETRY_BIND_MS = 2000;
const UDP_IDLE_MS = 60_000;

interface Counters {
  active: number;
  inactive: number;
  /** Connections relayed in all (tests and status read this). */
  total: number;
}

abstract class Listener {
  readonly state: SchedulerState = newSchedulerState();
  readonly counters = new Map<string, Counters>();
  private readonly sticky = new Map<string, { dest: string; until: number }>();
  constructor(public service: IpvsService, protected readonly log: Logger) {}

  protected pick(client: string): string | undefined {
    const s = this.service;
    const now = Date.now();
    const clientKey = persistenceKey(client, s.netmask);
    if (s.persistentSec !== undefined) {
      const held = this.sticky.get(clientKey);
      const dest = held && s.destinations.find((d) => d.address === held.dest && d.weight > 0);
      if (held && dest && held.until > now) {
        held.until = now + s.persistentSec * 1000;
        return dest.address;
      }
    }
    const candidates: Candidate[] = s.destinations.map((d) => {
      const c = this.counters.get(d.address);
      return { address: d.address, weight: d.weight, active: c?.active ?? 0, inactive: c?.inactive ?? 0 };
    });
    const chosen = schedule(s.scheduler, candidates, this.state, client)?.address;
    if (chosen !== undefined && s.persistentSec !== undefined) this.sticky.set(clientKey, { dest: chosen, until: now + s.persistentSec * 1000 });
    return chosen;
  }

  protected count(dest: string): Counters {
    let c = this.counters.get(dest);
    if (!c) {
      c = { active: 0, inactive: 0, total: 0 };
      this.counters.set(dest, c);
    }
    return c;
  }

  abstract open(): void;
  abstract close(): Promise<void>;
}

/** `a.b.c.d` masked with the persistence netmask (IPv4 only; other addresses as they are). */
function persistenceKey(client: string, netmask: string | undefined): string {
  if (netmask === undefined || !net.isIPv4(client) || !net.isIPv4(netmask)) return client;
  const a = client.split('.').map(Number);
  const m = netmask.split('.').map(Number);
  return a.map((x, i) => x & m[i]!).join('.');
}

function hostOf(address: string): { host: string; port: number } {
  const { host, port } = splitHostPort(address);
  return { host: host.replace(/^\[|\]$/g, ''), port: Number(port) };
}

class TcpListener extends Listener {
  private server: net.Server | undefined;
  private retry: NodeJS.Timeout | undefined;
  private readonly sockets = new Set<net.Socket>();
  private closed = false;

  open(): void {
    const { host, port } = hostOf(this.service.address);
    const server = net.createServer((client) => this.relay(client));
    server.on('error', (e: NodeJS.ErrnoException) => {
      this.log.error(`user-space balancer: cannot listen on ${this.service.address} (tcp): ${e.code ?? e.message}; retrying`);
      server.close();
      if (!this.closed) this.retry = setTimeout(() => this.open(), RETRY_BIND_MS);
    });
    server.listen({ host, port, exclusive: true });
    this.server = server;
  }

  private relay(client: net.Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    const dest = this.pick(client.remoteAddress ?? '');
    if (dest === undefined) {
      client.destroy();
      return;
    }
    const c = this.count(dest);
    c.active++;
    c.total++;
    const { host, port } = hostOf(dest);
    const upstream = net.connect({ host, port });
    this.sockets.add(upstream);
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      c.active--;
      this.sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', finish);
    client.on('error', finish);
    upstream.on('close', finish);
    client.on('close', finish);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server?.listening ? this.server.close(() => r()) : r()));
  }
}

class UdpListener extends Listener {
  private socket: dgram.Socket | undefined;
  private retry: NodeJS.Timeout | undefined;
  private readonly sessions = new Map<string, { upstream: dgram.Socket; dest: string; idle: NodeJS.Timeout }>();
  private closed = false;

  open(): void {
    const { host, port } = hostOf(this.service.address);
    const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    sock.on('error', (e: NodeJS.ErrnoException) => {
      this.log.error(`user-space balancer: cannot listen on ${this.service.address} (udp): ${e.code ?? e.message}; retrying`);
      sock.close();
      if (!this.closed) this.retry = setTimeout(() => this.open(), RETRY_BIND_MS);
    });
    sock.on('message', (msg, rinfo) => this.datagram(msg, rinfo));
    sock.bind({ address: host, port, exclusive: true });
    this.socket = sock;
  }

  private datagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const key = `${rinfo.address}:${rinfo.port}`;
    let s = this.sessions.get(key);
    if (s === undefined) {
      const dest = this.pick(rinfo.address);
      if (dest === undefined) return;
      const { host, port } = hostOf(dest);
      const upstream = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      upstream.on('message', (reply) => this.socket?.send(reply, rinfo.port, rinfo.address));
      upstream.on('error', () => this.end(key));
      upstream.connect(port, host);
      const c = this.count(dest);
      c.active++;
      c.total++;
      s = { upstream, dest, idle: setTimeout(() => this.end(key), UDP_IDLE_MS) };
      this.sessions.set(key, s);
      const session = s;
      upstream.once('connect', () => session.upstream.send(msg));
      return;
    }
    s.idle.refresh();
    s.upstream.send(msg);
  }

  private end(key: string): void {
    const s = this.sessions.get(key);
    if (!s) return;
    this.sessions.delete(key);
    clearTimeout(s.idle);
    this.count(s.dest).active--;
    try {
      s.upstream.close();
    } catch {
      /* already closed */
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    for (const k of [...this.sessions.keys()]) this.end(k);
    await new Promise<void>((r) => {
      try {
        this.socket?.close(() => r());
      } catch {
        r();
      }
      if (!this.socket) r();
    });
  }
}

export class UserspaceBalancer {
  private readonly listeners = new Map<string, Listener>();
  private unsubscribe: (() => void) | undefined;
  private readonly warned = new Set<string>();

  constructor(private readonly backend: MemoryBackend, private readonly log: Logger) {}

  start(): void {
    this.sync(this.backend.current());
    this.unsubscribe = this.backend.onChange((t) => this.sync(t));
  }

  /** Connections relayed so far per virtual service and real (`TCP 1.2.3.4:80` -> real -> counters). */
  stats(): Map<string, Map<string, Counters>> {
    return new Map([...this.listeners].map(([k, l]) => [k, l.counters]));
  }

  private sync(table: IpvsTable): void {
    const keys = new Set<string>();
    for (const s of table.services) {
      const key = serviceKey(s);
      if (s.protocol === 'FWM') {
        if (!this.warned.has(key)) this.log.warn(`user-space balancer: firewall-mark service ${s.address} needs the kernel's IPVS; not served`);
        this.warned.add(key);
        continue;
      }
      keys.add(key);
      const l = this.listeners.get(key);
      if (l) l.service = s;
      else {
        const created = s.protocol === 'TCP' ? new TcpListener(s, this.log) : new UdpListener(s, this.log);
        this.listeners.set(key, created);
        created.open();
      }
    }
    for (const [key, l] of this.listeners) {
      if (keys.has(key)) continue;
      this.listeners.delete(key);
      void l.close();
    }
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await Promise.all([...this.listeners.values()].map((l) => l.close()));
    this.listeners.clear();
  }
}
