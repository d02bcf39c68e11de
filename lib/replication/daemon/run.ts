/**
 * drbdd: the user-space stand-in for the DRBD kernel module. It holds only what
 * drbdadm hands it over the control socket, attaches backing devices, serves each
 * minor as an NBD export, exposes the device path on a Primary, writes the
 * /proc/drbd-style status file and logs kernel-style lines.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { HbError } from '../../shared/errors.js';
import { createPidFile, daemonChildChannel, removePidFile } from '../../shared/daemon/index.js';
import { drbdConnectionPrefix, drbdDevicePrefix, drbdStateChangeText, FdSink, FileSink, Logger, SyslogSink, syslogFacility, syslogStyleTimestamp, type Destination } from '../../shared/log/index.js';
import { MDF } from '../metadata/superblock.js';
import { AttachedDisk } from '../metadata/store.js';
import { NbdServer, type NbdExport } from '../nbd/server.js';
import { exposeDevice, type Exposure } from './expose.js';
import { deviceStateOf, exitForRv, startEngine } from './engine-link.js';
import type { ReplicationEngine } from '../protocol/engine.js';
import { TcpTransport } from '../protocol/tcp.js';
import type { MachineStatus } from '../protocol/machine.js';
import { peerFactory, standalonePeerFactory, type LocalVolume, type Peer, type PeerHost } from './peer.js';
import { LineSplitter, type ControlRequest, type ControlResponse } from './protocol.js';
import type { ResourceSpec, VolumeSpec } from './spec.js';
import { checkDemote, checkDetach, checkInvalidate, checkOutdate, checkPromote, diskStateFromFlags, flagsForDiskState, isConnected, sanitize, UNCONFIGURED, type DeviceState, type Refusal } from './state.js';
import { procDrbdText, type Counters, type DeviceSnapshot, type ResourceSnapshot } from './status.js';

export const DEFAULT_RUN_DIR = '/var/run/drbd-ts';
export const DEFAULT_LOG_FILE = '/var/log/drbd-ts.log';

export function runDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.DRBD_TS_RUN_DIR ?? DEFAULT_RUN_DIR;
}

export const controlSocket = (runDir: string) => path.join(runDir, 'control');
export const procFile = (runDir: string) => path.join(runDir, 'proc-drbd');
export const nbdSocket = (runDir: string, minor: number) => path.join(runDir, `drbd${minor}.nbd`);
export const pidFile = (runDir: string) => path.join(runDir, 'drbdd.pid');

/** A refusal carried back to drbdadm with drbdsetup's exit status. */
class Refused extends Error {
  constructor(
    readonly exit: number,
    message: string,
  ) {
    super(message);
  }
}

/** Addresses, then the machine options: what a running engine was built from. */
function engineKeyOf(spec: ResourceSpec): string {
  const me = spec.me as { ip?: string; port?: number };
  return `${JSON.stringify([me.ip, me.port, spec.peer?.ip, spec.peer?.port])}|${JSON.stringify(spec.machine ?? null)}`;
}

function refusal(minor: number, r: Refusal): Refused {
  return new Refused(r.exit, `${minor}: State change failed: (${r.rv}) ${r.text}`);
}

interface VolumeRt {
  spec: VolumeSpec;
  state: DeviceState;
  disk?: AttachedDisk;
  nbd: NbdServer;
  exposure?: Exposure;
  counters: Counters;
  sync?: DeviceSnapshot['sync'];
  /** The replication engine, once connect was asked for (then it owns the states). */
  engine?: ReplicationEngine;
  /** The options and endpoints the engine runs with (adjust compares them with the file's). */
  engineKey?: string;
  status?: MachineStatus;
}

interface ResourceRt {
  spec: ResourceSpec;
  volumes: Map<number, VolumeRt>;
  peer?: Peer;
}

const zeroCounters = (): Counters => ({ ns: 0, nr: 0, dw: 0, dr: 0, al: 0, bm: 0, lo: 0, pe: 0, ua: 0, ap: 0, ep: 1, oos: 0 });

export interface DaemonOptions {
  readonly runDir: string;
  readonly log: Logger;
  /** Called when the last resource went down. */
  readonly onIdle?: () => void;
}

export class Drbdd {
  private readonly resources = new Map<string, ResourceRt>();
  private server: net.Server | undefined;
  private procTimer: NodeJS.Timeout | undefined;
  private readonly build: string;
  /** Serializes admin commands, like the kernel's state lock. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: DaemonOptions) {
    this.build = `GIT-hash: ${'0'.repeat(40)} build by heartbeat-ts@${os.hostname()}, drbdd (user space)`;
  }

  async start(): Promise<void> {
    fs.mkdirSync(this.o.runDir, { recursive: true });
    const sock = controlSocket(this.o.runDir);
    try {
      fs.unlinkSync(sock);
    } catch {
      /* none */
    }
    this.server = net.createServer((c) => this.onControl(c));
    await new Promise<void>((res, rej) => {
      this.server!.once('error', rej);
      this.server!.listen(sock, () => res());
    });
    fs.chmodSync(sock, 0o600);
    this.writeProc();
    this.procTimer = setInterval(() => this.writeProc(), 1000);
    this.procTimer.unref();
    this.o.log.info(`drbd: initialized. Version: 8.4.11 (api:1/proto:86-101) [heartbeat-ts drbdd, pid ${process.pid}]`);
  }

  async stop(): Promise<void> {
    clearInterval(this.procTimer);
    for (const name of [...this.resources.keys()]) await this.down(name).catch(() => {});
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    try {
      fs.unlinkSync(controlSocket(this.o.runDir));
    } catch {
      /* gone */
    }
  }

  private onControl(c: net.Socket): void {
    const split = new LineSplitter();
    c.setEncoding('utf8');
    c.on('error', () => c.destroy());
    c.on('data', (chunk: string) => {
      let lines: string[];
      try {
        lines = split.push(chunk);
      } catch {
        c.destroy();
        return;
      }
      for (const line of lines) {
        let req: ControlRequest;
        try {
          req = JSON.parse(line) as ControlRequest;
        } catch {
          c.write(JSON.stringify({ ok: false, exit: 20, message: 'malformed control request' }) + '\n');
          continue;
        }
        if (typeof req !== 'object' || req === null || typeof (req as { op?: unknown }).op !== 'string') {
          c.write(JSON.stringify({ ok: false, exit: 20, message: 'malformed control request' }) + '\n');
          continue;
        }
        const p = this.chain.then(() => this.handle(req));
        this.chain = p.catch(() => {});
        p.then(
          (r) => c.write(JSON.stringify(r) + '\n'),
          (e: unknown) => {
            const resp: ControlResponse =
              e instanceof Refused ? { ok: false, exit: e.exit, message: e.message } : { ok: false, exit: e instanceof HbError ? 10 : 20, message: (e as Error).message };
            c.write(JSON.stringify(resp) + '\n');
          },
        ).finally(() => {
          this.writeProc();
          if (this.resources.size === 0 && (req as { op?: unknown } | null)?.op === 'down') this.o.onIdle?.();
        });
      }
    });
  }

  async handle(req: ControlRequest): Promise<ControlResponse> {
    switch (req.op) {
      case 'ping':
        return { ok: true };
      case 'snapshot':
        return { ok: true, resources: this.snapshot() };
      case 'proc':
        return { ok: true, text: this.procText() };
      case 'attach':
        await this.attach(req.spec);
        return { ok: true };
      case 'connect':
        this.connect(req.spec);
        return { ok: true };
      case 'adjust':
        await this.attach(req.spec);
        await this.adjustEngines(this.res(req.spec.name), req.spec);
        if (req.spec.peer !== undefined) this.connect(req.spec);
        return { ok: true };
      case 'up':
        await this.attach(req.spec);
        if (this.resources.get(req.spec.name)!.peer === undefined && req.spec.peer !== undefined) this.connect(req.spec);
        return { ok: true };
      case 'detach':
        await this.detach(this.res(req.res), req.force === true);
        return { ok: true };
      case 'disconnect':
        await this.disconnect(this.res(req.res));
        return { ok: true };
      case 'down':
        await this.down(req.res);
        return { ok: true };
      case 'primary':
        return { ok: true, messages: await this.primary(this.res(req.res), req.force) };
      case 'secondary':
        await this.secondary(this.res(req.res));
        return { ok: true };
      case 'outdate':
        await this.outdate(this.res(req.res));
        return { ok: true };
      case 'invalidate':
        await this.invalidate(this.res(req.res));
        return { ok: true };
      case 'invalidate-remote': {
        const r = this.res(req.res);
        for (const v of r.volumes.values()) {
          if (this.engineChange(v, (e) => e.invalidate(true))) continue;
          if (!isConnected(v.state.conn) || r.peer?.invalidateRemote === undefined) throw refusal(v.spec.minor, { rv: -15, text: 'Need a connection to start verify or resync', exit: 11 });
          await r.peer.invalidateRemote(v.spec.vnr);
        }
        return { ok: true };
      }
      case 'verify':
      case 'pause-sync':
      case 'resume-sync': {
        const r = this.res(req.res);
        for (const v of r.volumes.values()) {
          if (v.engine === undefined) throw new Refused(20, `${v.spec.minor}: Failure: ${req.op} needs the built-in replication engine (a single-volume resource with a peer address)`);
          if (req.op === 'verify') this.engineChange(v, (e) => e.verify());
          else {
            v.engine.pauseSync(req.op === 'pause-sync');
            v.state = deviceStateOf(v.engine.status(), v.state.susp);
          }
        }
        this.procSoon();
        return { ok: true };
      }
      default:
        return { ok: false, exit: 20, message: `unknown request ${(req as { op: string }).op}` };
    }
  }

  private res(name: string): ResourceRt {
    const r = this.resources.get(name);
    if (r === undefined) throw new Refused(10, `${name}: Unknown resource`);
    return r;
  }

  // --- logging -------------------------------------------------------------

  private setState(r: ResourceRt, v: VolumeRt, change: Partial<DeviceState>, why?: string): void {
    const before = v.state;
    const after = sanitize({ ...before, ...change });
    v.state = after;
    const text = drbdStateChangeText({
      role: [before.role, after.role],
      peer: [before.peer, after.peer],
      conn: [before.conn, after.conn],
      disk: [before.disk, after.disk],
      pdsk: [before.pdsk, after.pdsk],
    });
    if (text !== '') this.o.log.info(`${drbdDevicePrefix(v.spec.minor)}${text}${why ? ` [${why}]` : ''}`);
    void r;
  }

  private volumeLog(v: VolumeRt, prio: 'info' | 'warn' | 'error', msg: string): void {
    this.o.log[prio](`${drbdDevicePrefix(v.spec.minor)}${msg}`);
  }

  // --- attach / detach -----------------------------------------------------

  private ensureResource(spec: ResourceSpec): ResourceRt {
    let r = this.resources.get(spec.name);
    if (r === undefined) {
      r = { spec, volumes: new Map() };
      this.resources.set(spec.name, r);
    } else r.spec = spec;
    for (const vs of spec.volumes) {
      if (r.volumes.has(vs.vnr)) {
        r.volumes.get(vs.vnr)!.spec = vs;
        continue;
      }
      for (const other of this.resources.values()) {
        for (const ov of other.volumes.values()) {
          if (ov.spec.minor === vs.minor && other !== r) throw new Refused(10, `${vs.minor}: Failure: (161) Minor or volume exists already (delete it first)`);
        }
      }
      const v: VolumeRt = { spec: vs, state: { ...UNCONFIGURED }, nbd: undefined as unknown as NbdServer, counters: zeroCounters() };
      v.nbd = new NbdServer({
        exports: () => [this.exportOf(r!, v)],
        isReadOnly: () => v.state.role !== 'Primary',
        onLog: (lvl, msg) => this.volumeLog(v, lvl, msg),
      });
      r.volumes.set(vs.vnr, v);
    }
    return r;
  }

  private exportOf(r: ResourceRt, v: VolumeRt): NbdExport {
    const name = v.spec.vnr === 0 ? r.spec.name : `${r.spec.name}/${v.spec.vnr}`;
    const readOnly = v.state.role !== 'Primary';
    return {
      name,
      description: `drbd${v.spec.minor} (${r.spec.name}/${v.spec.vnr})`,
      size: BigInt(v.disk?.sizeBytes ?? 0),
      readOnly,
      readOnlyReason: `drbd${v.spec.minor} (${r.spec.name}) is ${v.state.role}: writes are refused; promote with 'drbdadm primary ${r.spec.name}'`,
      backend: {
        read: async (off, len) => {
          const d = this.needDisk(v);
          const buf = await d.read(off, len);
          v.counters.dr += len / 1024;
          return buf;
        },
        write: (off, data, fua) => this.write(r, v, off, data, fua),
        flush: async () => {
          if (v.engine !== undefined) return v.engine.flush();
          const d = this.needDisk(v);
          await Promise.all([d.flush(), r.peer?.flush(v.spec.vnr)]);
        },
        trim: (off, len, fua) => this.zeroes(r, v, off, len, fua),
        writeZeroes: (off, len, fua) => this.zeroes(r, v, off, len, fua),
      },
    };
  }

  private needDisk(v: VolumeRt): AttachedDisk {
    if (v.disk === undefined) throw Object.assign(new Error('no local disk (Diskless)'), { code: 'EIO' });
    return v.disk;
  }

  private async write(r: ResourceRt, v: VolumeRt, off: number, data: Uint8Array, fua: boolean): Promise<void> {
    if (v.state.role !== 'Primary') throw Object.assign(new Error('not Primary'), { code: 'EPERM' });
    if (v.engine !== undefined) return this.engineWrite(v, v.engine, off, data, fua);
    const d = this.needDisk(v);
    v.counters.ap++;
    try {
      const [, rep] = await Promise.all([d.write(off, data, fua), r.peer ? r.peer.replicateWrite(v.spec.vnr, off, data, fua) : Promise.resolve('not-replicated' as const)]);
      if (rep === 'not-replicated') d.bitmap.setRange(off, data.length);
      v.counters.dw += data.length / 1024;
    } finally {
      v.counters.ap--;
    }
  }

  /** The engine takes whole 512-byte sectors: unaligned writes are read-modify-write. */
  private async engineWrite(v: VolumeRt, e: ReplicationEngine, off: number, data: Uint8Array, fua: boolean): Promise<void> {
    const start = Math.floor(off / 512) * 512;
    const end = Math.ceil((off + data.length) / 512) * 512;
    let buf = data;
    if (start !== off || end !== off + data.length) {
      buf = await e.read(start, end - start);
      buf = new Uint8Array(buf);
      buf.set(data, off - start);
    }
    v.counters.ap++;
    try {
      await e.submitWrite(start, buf, { fua });
    } catch (x) {
      throw Object.assign(new Error((x as Error).message), { code: 'EIO' });
    } finally {
      v.counters.ap--;
    }
  }

  private async zeroes(r: ResourceRt, v: VolumeRt, off: number, len: number, fua: boolean): Promise<void> {
    if (v.state.role !== 'Primary') throw Object.assign(new Error('not Primary'), { code: 'EPERM' });
    if (v.engine !== undefined) {
      const chunk = 1 << 20;
      for (let done = 0; done < len; done += chunk) await this.engineWrite(v, v.engine, off + done, new Uint8Array(Math.min(chunk, len - done)), false);
      if (fua) await v.engine.flush();
      return;
    }
    const d = this.needDisk(v);
    const peerDone = r.peer?.replicateZeroes ? r.peer.replicateZeroes(v.spec.vnr, off, len, fua) : r.peer ? r.peer.replicateWrite(v.spec.vnr, off, new Uint8Array(len), fua) : Promise.resolve('not-replicated' as const);
    const [, rep] = await Promise.all([d.writeZeroes(off, len, fua), peerDone]);
    if (rep === 'not-replicated') d.bitmap.setRange(off, len);
    v.counters.dw += len / 1024;
  }

  async attach(spec: ResourceSpec): Promise<void> {
    const r = this.ensureResource(spec);
    for (const v of r.volumes.values()) {
      if (v.disk !== undefined) continue;
      this.setState(r, v, { disk: 'Attaching' });
      let disk: AttachedDisk;
      try {
        disk = await AttachedDisk.open({ disk: v.spec.disk, metaDisk: v.spec.metaDisk, placement: v.spec.placement });
      } catch (e) {
        this.setState(r, v, { disk: 'Diskless' });
        const code = (e as HbError).code;
        if (code === 'META_NOT_FOUND' || code === 'META_FOREIGN') {
          throw new Refused(10, `${v.spec.minor}: Failure: (119) No valid meta-data signature found.\n\n\t==> Use 'drbdadm create-md ${spec.name}' to initialize meta-data area. <==\n`);
        }
        throw new Refused(10, `${v.spec.minor}: Failure: (104) Can not open backing device. (${(e as Error).message})`);
      }
      v.disk = disk;
      if (disk.appliedAl.length > 0) this.volumeLog(v, 'info', `Marked additional ${disk.appliedAl.length * 4} MB as out-of-sync based on AL.`);
      this.volumeLog(v, 'info', `disk size ${disk.sizeBytes / 1024} KB (${disk.sizeBytes / 512} sectors); bitmap ${disk.bitmap.count() * 4} KB out of sync`);
      this.setState(r, v, { disk: diskStateFromFlags(disk.sb.flags) });
      try {
        await v.nbd.listenUnix(nbdSocket(this.o.runDir, v.spec.minor));
      } catch (e) {
        this.volumeLog(v, 'warn', (e as Error).message);
      }
      const tcp = spec.options['nbd-port'];
      if (typeof tcp === 'number') await v.nbd.listenTcp(tcp + v.spec.vnr).catch((e: Error) => this.volumeLog(v, 'warn', e.message));
    }
  }

  async detach(r: ResourceRt, force: boolean): Promise<void> {
    for (const v of r.volumes.values()) {
      if (v.disk === undefined) continue;
      const bad = checkDetach(v.state);
      if (bad !== undefined && !force) throw refusal(v.spec.minor, bad);
      if (v.exposure !== undefined) await this.unexpose(v);
      await v.nbd.close();
      await this.stopEngine(v);
      this.setState(r, v, { disk: 'Failed' });
      const d = v.disk;
      v.disk = undefined;
      await d.close();
      this.setState(r, v, { disk: 'Diskless' });
    }
  }

  // --- network -------------------------------------------------------------

  connect(spec: ResourceSpec): void {
    const r = this.ensureResource(spec);
    if (spec.peer === undefined) throw new Refused(10, `${spec.name}: no peer address in the config`);
    const vols = [...r.volumes.values()];
    if (spec.machine !== undefined && 'ip' in spec.me && vols.length === 1 && vols[0]!.disk !== undefined && peerFactory() === standalonePeerFactory) {
      this.connectEngine(r, vols[0]!, spec);
      return;
    }
    if (r.peer !== undefined) return;
    const host = this.peerHost(r);
    r.peer = peerFactory()(host);
    r.peer.connect();
  }

  private peerHost(r: ResourceRt): PeerHost {
    const locals: LocalVolume[] = [...r.volumes.values()].map((v) => ({
      vnr: v.spec.vnr,
      minor: v.spec.minor,
      get disk() {
        return v.disk;
      },
      state: () => v.state,
    }));
    return {
      spec: r.spec,
      volumes: locals,
      setConn: (conn, change) => {
        const first = [...r.volumes.values()][0];
        if (first !== undefined && first.state.conn !== conn) this.o.log.info(`${drbdConnectionPrefix(r.spec.name)}conn( ${first.state.conn} -> ${conn} )`);
        for (const v of r.volumes.values()) {
          const before = v.state;
          v.state = sanitize({ ...v.state, conn, ...(change ?? {}) });
          const more = drbdStateChangeText({ peer: [before.peer, v.state.peer], pdsk: [before.pdsk, v.state.pdsk] });
          if (more !== '') this.o.log.info(`${drbdDevicePrefix(v.spec.minor)}${more}`);
        }
        this.writeProc();
      },
      setVolumeState: (vnr, change) => {
        const v = r.volumes.get(vnr);
        if (v !== undefined) this.setState(r, v, change);
        this.writeProc();
      },
      log: (prio, msg, minor) => this.o.log[prio](`${minor !== undefined ? drbdDevicePrefix(minor) : drbdConnectionPrefix(r.spec.name)}${msg}`),
      count: (vnr, field, delta) => {
        const v = r.volumes.get(vnr);
        if (v !== undefined) v.counters[field] += delta;
      },
      setSync: (vnr, p) => {
        const v = r.volumes.get(vnr);
        if (v !== undefined) v.sync = p;
      },
    };
  }

  private connectEngine(r: ResourceRt, v: VolumeRt, spec: ResourceSpec): void {
    if (v.engine === undefined) {
      const me = spec.me as Exclude<ResourceSpec['me'], { host: string; ip?: undefined }> & { ip: string; port: number; family: string };
      v.engine = startEngine({
        machine: spec.machine!,
        minor: v.spec.minor,
        me,
        peer: spec.peer!,
        disk: v.disk!,
        initialDisk: v.state.disk,
        log: { info: (m) => this.o.log.info(m), warn: (m) => this.o.log.warn(m), error: (m) => this.o.log.error(m) },
        onChange: (st) => {
          v.status = st;
          v.state = deviceStateOf(st, v.state.susp);
          this.procSoon();
        },
        onHandler: (name) => this.runHandler(r, v, name),
      });
      v.engineKey = engineKeyOf(spec);
      v.status = v.engine.status();
    } else if (v.engine.status().conn !== 'StandAlone') return;
    const e = v.engine;
    e.connect().catch((x: Error) => this.volumeLog(v, 'error', `cannot listen on ${spec.me.host}: ${x.message}`));
  }

  /**
   * A handler the state machine asks for (split-brain, before-resync-target, ...):
   * the command configured in `handlers { }` runs through /bin/sh -c with DRBD's
   * environment, as drbdadm runs it for the kernel's usermode helper.
   */
  private runHandler(r: ResourceRt, v: VolumeRt, name: string): void {
    const cmd = r.spec.handlers[name];
    const pfx = drbdDevicePrefix(v.spec.minor);
    this.o.log.info(`${pfx}helper command: /sbin/drbdadm ${name} minor-${v.spec.minor}`);
    if (cmd === undefined || String(cmd).trim() === '') {
      this.o.log.info(`${pfx}helper command: /sbin/drbdadm ${name} minor-${v.spec.minor} exit code 0 (0x0)`);
      return;
    }
    const peer = r.spec.peer;
    const child = spawn('/bin/sh', ['-c', String(cmd)], {
      stdio: 'ignore',
      env: {
        ...process.env,
        DRBD_RESOURCE: r.spec.name,
        DRBD_MINOR: String(v.spec.minor),
        DRBD_VOLUME: String(v.spec.vnr),
        DRBD_CONF: r.spec.configFile,
        DRBD_BACKING_DEV: v.spec.disk,
        ...(peer !== undefined ? { DRBD_PEER_AF: peer.family, DRBD_PEER_ADDRESS: peer.ip, DRBD_PEERS: peer.host, DRBD_PEER: peer.host } : {}),
      },
    });
    child.on('error', (e) => this.o.log.error(`${pfx}helper command: ${name}: ${e.message}`));
    child.on('exit', (code, sig) => {
      const c = code ?? 128 + (sig !== null ? os.constants.signals[sig] : 0);
      this.o.log.info(`${pfx}helper command: /sbin/drbdadm ${name} minor-${v.spec.minor} exit code ${c} (0x${(c << 8).toString(16)})`);
    });
  }

  /**
   * `drbdadm adjust` on a running engine: when the file's net/disk options or the
   * addresses differ from those the engine runs with, disconnect, take the new ones
   * (a new transport for an address change) and connect again. The role and the
   * disk state stay; writes made while the link is down go to the bitmap as usual.
   */
  private async adjustEngines(r: ResourceRt, spec: ResourceSpec): Promise<void> {
    for (const v of r.volumes.values()) {
      const e = v.engine;
      if (e === undefined || spec.machine === undefined || spec.peer === undefined || !('ip' in spec.me)) continue;
      const key = engineKeyOf(spec);
      if (key === v.engineKey) continue;
      this.volumeLog(v, 'info', 'adjust: net/disk options or addresses changed; reconnecting');
      e.disconnect();
      const end = Date.now() + 10_000;
      while (e.status().conn !== 'StandAlone') {
        if (Date.now() > end) throw new Refused(10, `${v.spec.minor}: Failure: (10) adjust: the connection did not go StandAlone`);
        await new Promise((res) => setTimeout(res, 20));
      }
      const me = spec.me as { ip: string; port: number };
      const addrChanged = JSON.stringify([me.ip, me.port, spec.peer.ip, spec.peer.port]) !== v.engineKey?.slice(0, v.engineKey.indexOf('|'));
      const transport = addrChanged ? new TcpTransport({ local: { host: me.ip, port: me.port }, remote: { host: spec.peer.ip, port: spec.peer.port } }) : undefined;
      if (!(await e.reconfigure(spec.machine, transport))) throw new Refused(10, `${v.spec.minor}: Failure: (10) adjust: the engine refused the new options`);
      v.engineKey = key;
      await e.connect().catch((x: Error) => this.volumeLog(v, 'error', `cannot listen on ${spec.me.host}: ${x.message}`));
    }
  }

  private async stopEngine(v: VolumeRt): Promise<void> {
    const e = v.engine;
    if (e === undefined) return;
    v.engine = undefined;
    await e.stop();
    if (v.status !== undefined) v.state = { ...v.state, conn: 'StandAlone', peer: 'Unknown', pdsk: 'DUnknown' };
  }

  private procTimerSoon: NodeJS.Timeout | undefined;
  /** State changes during a resync come in bursts: write the proc file at most every 200 ms for them. */
  private procSoon(): void {
    if (this.procTimerSoon !== undefined) return;
    this.procTimerSoon = setTimeout(() => {
      this.procTimerSoon = undefined;
      this.writeProc();
    }, 200);
    this.procTimerSoon.unref();
  }

  async disconnect(r: ResourceRt): Promise<void> {
    for (const v of r.volumes.values()) if (v.engine !== undefined) v.engine.disconnect();
    const p = r.peer;
    if (p === undefined) return;
    r.peer = undefined;
    await p.disconnect();
    for (const v of r.volumes.values()) this.setState(r, v, { conn: 'StandAlone' });
  }

  // --- roles ---------------------------------------------------------------

  async primary(r: ResourceRt, force: boolean): Promise<string[]> {
    const msgs: string[] = [];
    const eng = [...r.volumes.values()].find((v) => v.engine !== undefined);
    if (eng !== undefined) return this.primaryEngine(r, eng, eng.engine!, force);
    const fencing = String(r.spec.disk['fencing'] ?? r.spec.net['fencing'] ?? 'dont-care') !== 'dont-care';
    const allowTwo = r.spec.net['allow-two-primaries'] === true;
    const verdicts = [...r.volumes.values()].map((v) => ({ v, verdict: checkPromote(v.state, { force, allowTwoPrimaries: allowTwo, fencing }) }));
    for (const { v, verdict } of verdicts) if (!verdict.ok) throw refusal(v.spec.minor, verdict.refusal);
    for (const { v, verdict } of verdicts) {
      if (!verdict.ok || v.state.role === 'Primary') continue;
      const d = v.disk;
      if (verdict.forced) {
        this.volumeLog(v, 'warn', 'Forced to consider local data as UpToDate!');
        // Everything may differ from the peer: a forced primary becomes the full-sync source.
        if (d !== undefined && v.state.disk === 'Inconsistent') d.bitmap.setAll();
      }
      if (d !== undefined) {
        let flags = flagsForDiskState(d.sb.flags, 'UpToDate') | MDF.PrimaryInd;
        if (verdict.forced && v.state.disk === 'Inconsistent') flags |= MDF.FullSync;
        const change: { flags: number; bitmap?: bigint; current?: bigint } = { flags };
        if (!isConnected(v.state.conn) && d.sb.bitmap === 0n) {
          // New data generation: Bitmap := Current, Current := random (bit 0 = Primary).
          change.bitmap = d.sb.current;
          change.current = (randomBytes(8).readBigUInt64BE() & ~1n) | 1n;
        }
        await d.flushBitmap();
        await d.writeSuper(change);
        if (change.current !== undefined) this.volumeLog(v, 'info', `new current UUID ${change.current.toString(16).toUpperCase()}:${d.sb.bitmap.toString(16).toUpperCase().padStart(16, '0')}`);
      }
      this.setState(r, v, { role: 'Primary', disk: verdict.disk });
      r.peer?.roleChanged?.('Primary');
      try {
        v.exposure = await this.exposeVolume(r, v);
      } catch (e) {
        this.volumeLog(v, 'error', `could not create the block device: ${(e as Error).message}`);
        msgs.push(`${v.spec.minor}: could not create ${v.spec.device}: ${(e as Error).message}`);
        this.setState(r, v, { role: 'Secondary' });
        if (d !== undefined) await d.writeSuper({ flags: d.sb.flags & ~MDF.PrimaryInd });
        throw new Refused(20, msgs.join('\n'));
      }
    }
    return msgs;
  }

  /** The configured device path becomes a block device over this volume's NBD export. */
  private exposeVolume(r: ResourceRt, v: VolumeRt): ReturnType<typeof exposeDevice> {
    return exposeDevice({
      minor: v.spec.minor,
      devicePath: v.spec.device,
      socketPath: nbdSocket(this.o.runDir, v.spec.minor),
      runDir: this.o.runDir,
      log: (m) => this.volumeLog(v, 'info', m),
      byRes: { resource: r.spec.name, vnr: v.spec.vnr },
    });
  }

  private async primaryEngine(r: ResourceRt, v: VolumeRt, e: ReplicationEngine, force: boolean): Promise<string[]> {
    if (v.state.role !== 'Primary') {
      e.deviceInUse = false;
      const res = e.setRole('Primary', { force });
      if (!res.ok) throw new Refused(exitForRv(res.rv), `${v.spec.minor}: State change failed: (${res.rv ?? -1}) ${res.message ?? 'refused'}`);
      v.state = deviceStateOf(e.status(), v.state.susp);
    }
    if (v.exposure === undefined) {
      try {
        v.exposure = await this.exposeVolume(r, v);
      } catch (x) {
        this.volumeLog(v, 'error', `could not create the block device: ${(x as Error).message}`);
        e.setRole('Secondary');
        v.state = deviceStateOf(e.status(), v.state.susp);
        throw new Refused(20, `${v.spec.minor}: could not create ${v.spec.device}: ${(x as Error).message}`);
      }
    }
    return [];
  }

  /**
   * Mounted: refused at once. Opened exclusively without a mount: right after an
   * umount the kernel may still be letting go of the device (asynchronously on
   * recent kernels, slower under load), so that is given up to 5 s to clear.
   */
  private async stillHeld(e: Exposure): Promise<boolean> {
    const end = Date.now() + 5000;
    for (;;) {
      const why = await e.heldOpen();
      if (why === false) return false;
      if (why === 'mounted' || Date.now() > end) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async unexpose(v: VolumeRt): Promise<void> {
    const e = v.exposure;
    if (e === undefined) return;
    if (await this.stillHeld(e)) throw refusal(v.spec.minor, checkDemote(true)!);
    await e.remove();
    v.exposure = undefined;
  }

  async secondary(r: ResourceRt): Promise<void> {
    for (const v of r.volumes.values()) {
      if (v.exposure !== undefined && (await this.stillHeld(v.exposure))) throw refusal(v.spec.minor, checkDemote(true)!);
    }
    for (const v of r.volumes.values()) {
      if (v.engine !== undefined) {
        await this.unexpose(v);
        v.engine.deviceInUse = false;
        const res = v.engine.setRole('Secondary');
        if (!res.ok) throw new Refused(exitForRv(res.rv), `${v.spec.minor}: State change failed: (${res.rv ?? -1}) ${res.message ?? 'refused'}`);
        v.state = deviceStateOf(v.engine.status(), v.state.susp);
        continue;
      }
      if (v.state.role !== 'Primary') continue;
      await this.unexpose(v);
      const d = v.disk;
      if (d !== undefined) {
        await d.flush();
        await d.flushBitmap();
        await d.writeSuper({ flags: d.sb.flags & ~(MDF.PrimaryInd | MDF.CrashedPrimary) });
      }
      this.setState(r, v, { role: 'Secondary' });
      r.peer?.roleChanged?.('Secondary');
    }
  }

  private engineChange(v: VolumeRt, f: (e: ReplicationEngine) => { ok: boolean; rv?: number; message?: string }): boolean {
    if (v.engine === undefined) return false;
    const res = f(v.engine);
    if (!res.ok) throw new Refused(exitForRv(res.rv), `${v.spec.minor}: State change failed: (${res.rv ?? -1}) ${res.message ?? 'refused'}`);
    v.state = deviceStateOf(v.engine.status(), v.state.susp);
    return true;
  }

  async outdate(r: ResourceRt): Promise<void> {
    for (const v of r.volumes.values()) if (this.engineChange(v, (e) => e.outdate())) return;
    for (const v of r.volumes.values()) {
      const bad = checkOutdate(v.state);
      if (bad !== undefined) throw refusal(v.spec.minor, bad);
    }
    for (const v of r.volumes.values()) {
      const d = v.disk!;
      await d.writeSuper({ flags: flagsForDiskState(d.sb.flags, 'Outdated') });
      this.setState(r, v, { disk: 'Outdated' });
    }
  }

  async invalidate(r: ResourceRt): Promise<void> {
    for (const v of r.volumes.values()) if (this.engineChange(v, (e) => e.invalidate(false))) return;
    for (const v of r.volumes.values()) {
      const bad = checkInvalidate(v.state);
      if (bad !== undefined) throw refusal(v.spec.minor, bad);
    }
    for (const v of r.volumes.values()) {
      const d = v.disk!;
      d.bitmap.setAll();
      await d.flushBitmap();
      await d.writeSuper({ flags: flagsForDiskState(d.sb.flags, 'Inconsistent') | MDF.FullSync });
      this.setState(r, v, { disk: 'Inconsistent' });
    }
  }

  async down(name: string): Promise<void> {
    const r = this.resources.get(name);
    if (r === undefined) return;
    await this.secondary(r);
    await this.disconnect(r);
    await this.detach(r, true);
    for (const v of r.volumes.values()) await v.nbd.close();
    this.resources.delete(name);
    this.o.log.info(`${drbdConnectionPrefix(name)}Terminating drbd_w_${name}`);
  }

  // --- status --------------------------------------------------------------

  snapshot(): ResourceSnapshot[] {
    return [...this.resources.values()].map((r) => ({
      name: r.spec.name,
      ...(r.spec.peer !== undefined ? { peerName: r.spec.peer.host } : {}),
      devices: [...r.volumes.values()].map((v) => this.deviceSnapshot(r, v)),
    }));
  }

  private deviceSnapshot(r: ResourceRt, v: VolumeRt): DeviceSnapshot {
    const d = v.disk;
    const st = v.engine !== undefined ? v.engine.status() : undefined;
    if (st !== undefined) {
      const c = st.counters;
      const rs = st.resync;
      let sync: DeviceSnapshot['sync'];
      if (rs !== undefined) {
        const elapsed = Math.max(1, (performance.now() - rs.startedAt - rs.pausedMs) / 1000);
        const doneKiB = (rs.totalBits - rs.leftBits) * 4;
        const avg = doneKiB / elapsed;
        sync = { leftKiB: rs.leftBits * 4, totalKiB: rs.totalBits * 4, speedKiB: avg, avgKiB: avg, etaSec: avg > 0 ? (rs.leftBits * 4) / avg : 0 };
      }
      return {
        resource: r.spec.name,
        vnr: v.spec.vnr,
        minor: v.spec.minor,
        device: v.spec.device,
        state: deviceStateOf(st, v.state.susp),
        protocol: st.protocol,
        counters: {
          ...v.counters,
          ns: Math.floor(c.netSent / 1024),
          nr: Math.floor(c.netReceived / 1024),
          dw: Math.floor(c.diskWritten / 1024),
          dr: Math.floor(c.diskRead / 1024),
          al: d?.counters.al ?? 0,
          bm: d?.counters.bm ?? 0,
          lo: d?.counters.lo ?? 0,
          pe: st.pendingPeer,
          oos: st.outOfSyncBits * 4,
        },
        ...(sync !== undefined ? { sync } : {}),
        flags: { userIsp: st.userPause, peerIsp: st.peerUserPause },
      };
    }
    const counters: Counters = {
      ...v.counters,
      dw: Math.floor(v.counters.dw),
      dr: Math.floor(v.counters.dr),
      al: d?.counters.al ?? 0,
      bm: d?.counters.bm ?? 0,
      lo: d?.counters.lo ?? 0,
      oos: d !== undefined ? d.bitmap.count() * 4 : 0,
    };
    return {
      resource: r.spec.name,
      vnr: v.spec.vnr,
      minor: v.spec.minor,
      device: v.spec.device,
      state: v.state,
      ...(r.peer !== undefined ? { protocol: r.spec.protocol } : {}),
      counters,
      ...(v.sync !== undefined ? { sync: v.sync } : {}),
    };
  }

  procText(): string {
    return procDrbdText(this.snapshot().flatMap((r) => r.devices), this.build);
  }

  private writeProc(): void {
    const f = procFile(this.o.runDir);
    try {
      fs.writeFileSync(f + '.tmp', this.procText());
      fs.renameSync(f + '.tmp', f);
    } catch {
      /* run dir gone: nothing to show */
    }
  }
}

function kernelStyleFormat(): (rec: { time: number; msg: string }) => string {
  const host = os.hostname();
  return (rec) => `${syslogStyleTimestamp(rec.time)} ${host} kernel: [drbdd ${process.pid}] ${rec.msg}`;
}

/** drbdd [-f]: runs the daemon; started by drbdadm when needed. */
export async function runDaemon(argv: readonly string[]): Promise<number> {
  const foreground = argv.includes('-f') || argv.includes('--foreground');
  const rdIdx = argv.indexOf('--run-dir');
  const runDir = rdIdx >= 0 && argv[rdIdx + 1] !== undefined ? argv[rdIdx + 1]! : runDirFromEnv();
  const channel = daemonChildChannel();
  const logFile = process.env.DRBD_TS_LOG ?? DEFAULT_LOG_FILE;
  const dests: Destination[] = [];
  const fmt = kernelStyleFormat();
  if (logFile !== 'none') dests.push({ name: 'file', minPriority: 'info', format: fmt, sink: new FileSink(logFile, { openPerLine: true }) });
  if (process.env.DRBD_TS_SYSLOG !== '0') dests.push({ name: 'syslog', minPriority: 'info', format: (r) => r.msg, sink: new SyslogSink({ ident: 'drbdd', facility: syslogFacility('kern'), logPid: process.pid }) });
  if (foreground && channel === undefined) dests.push({ name: 'stderr', minPriority: 'info', format: fmt, sink: new FdSink(2) });
  const log = new Logger({ destinations: dests });
  fs.mkdirSync(runDir, { recursive: true });
  try {
    createPidFile(pidFile(runDir));
  } catch (e) {
    channel?.failed(20, (e as Error).message);
    process.stderr.write(`drbdd: ${(e as Error).message}\n`);
    return 20;
  }
  let stopping = false;
  const d: Drbdd = new Drbdd({
    runDir,
    log,
    onIdle: () => void shutdown(),
  });
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await d.stop().catch(() => {});
    removePidFile(pidFile(runDir));
    log.info('drbd: module cleanup done.');
    setTimeout(() => process.exit(0), 50);
  };
  try {
    await d.start();
  } catch (e) {
    removePidFile(pidFile(runDir));
    channel?.failed(20, `cannot listen on ${controlSocket(runDir)}: ${(e as Error).message}`);
    return 20;
  }
  channel?.ready();
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  process.on('SIGHUP', () => log.reopen());
  await new Promise<void>(() => {});
  return 0;
}
