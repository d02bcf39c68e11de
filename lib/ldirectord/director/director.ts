/**
 * The director: a state machine with no I/O. Fed the configuration, check
 * results and the table it last read, it returns what to do (ipvsadm
 * commands, log lines, fallbackcommand runs, real state changes for the
 * monitor file and e-mail). It keeps the original's outcomes (which reals are
 * in the table with which weight, when the fallback is in; spec §6) and fixes
 * its defects:
 * - start: no real is put in before its first check (the original gives every
 *   real its full weight and flaps the fallback once per real, §6.1);
 * - reload: a diff (reals keep their state; a quiescent real stays at 0);
 *   removed persistence is really removed (the service is rebuilt);
 * - port-mapped gate/ipip reals are found where ipvsadm stored them (§6.7),
 *   so they recover and are removed at stop;
 * - only needed commands: `-E` only when a service's options differ.
 */
import type { LdirectordConfig, RealServer, VirtualService } from '../../config/ldirectord/model.js';
import { applyIpvsCommand, IpvsCommandError, type IpvsCommand, type RealSpec } from '../ipvs/command.js';
import { findDestination, findService, type IpvsService, type IpvsTable } from '../ipvs/model.js';
import {
  checkTargets, fallbackSpec, hostPort, realAddress, realKey, realSpec, serviceOptions, serviceRef, virtualLabel, type CheckTarget,
} from './targets.js';

export type DirectorAction =
  | { readonly kind: 'ipvs'; readonly command: IpvsCommand }
  | { readonly kind: 'log'; readonly level: 'info' | 'warn' | 'err' | 'debug'; readonly text: string; readonly alert?: Alert }
  /** `fallbackcommand start|stop VIP:PORT proto` (spec §6.4). */
  | { readonly kind: 'fallback-command'; readonly command: string; readonly args: readonly [string, string, string] }
  /** A real went up or down (monitor file, e-mail alerts). */
  | { readonly kind: 'real-state'; readonly virtual: VirtualService; readonly real: RealServer; readonly up: boolean; readonly text: string };

/**
 * An e-mail alert for a log line (emailalert, spec §6.10): the real (or
 * fallback) `server` as `ip:port`; `down` starts the "Inaccessible real
 * server" reminders (quiesced or deleted reals), anything else ends them.
 */
export interface Alert {
  readonly virtual: VirtualService;
  readonly server: string;
  readonly down: boolean;
}

type RealStatus = 'unknown' | 'up' | 'down';

interface RealState {
  status: RealStatus;
  failCount: number;
}

interface VirtualState {
  /** Whether the fallback is on (fallbackcommand alternates on changes only); undefined before the first decision. */
  fallbackOn: boolean | undefined;
}

export class Director {
  private config: LdirectordConfig;
  private readonly reals = new Map<string, RealState>();
  private readonly virtuals = new Map<string, VirtualState>();
  private table: IpvsTable = { services: [] };
  private out: DirectorAction[] = [];
  /** The check targets of the current configuration, by id (built once per configuration). */
  private targets: Map<string, CheckTarget>;

  constructor(config: LdirectordConfig) {
    this.config = config;
    this.targets = new Map(checkTargets(config).map((t) => [t.id, t]));
  }

  get configuration(): LdirectordConfig {
    return this.config;
  }

  /** The checks to run each round: one per distinct real id. */
  checkTargets(): CheckTarget[] {
    return [...this.targets.values()];
  }

  /** Whether a real is believed up (`undefined`: not decided yet). */
  realUp(v: VirtualService, r: RealServer): boolean | undefined {
    const s = this.reals.get(realKey(v, r))?.status;
    return s === 'unknown' || s === undefined ? undefined : s === 'up';
  }

  /** Start (and the tail of a reload): services in, known reals kept, strangers purged, the fallback in where nothing is up. */
  start(table: IpvsTable): DirectorAction[] {
    this.begin(table);
    for (const v of this.config.virtuals) this.setUpVirtual(v, 'start');
    return this.end();
  }

  /**
   * Whether a check result would change any real's state (a transition, or
   * the failure that reaches failurecount). Only those need the table read
   * again; the others merely count (spec §6.2: the original reads on
   * transitions too), which keeps a busy director off ipvsadm.
   */
  wouldChange(id: string, ok: boolean): boolean {
    const target = this.targets.get(id);
    return (target?.members ?? []).some(({ virtual, real }) => {
      const st = this.reals.get(realKey(virtual, real));
      if (st === undefined || st.status === 'unknown') return true;
      if (ok) return st.status !== 'up';
      return st.status === 'up' && st.failCount + 1 >= virtual.failureCount;
    });
  }

  /** The table as the director last saw it, with its own commands applied. */
  get lastTable(): IpvsTable {
    return this.table;
  }

  /** A check result for one target, applied to every virtual that lists the real. */
  checked(table: IpvsTable, id: string, ok: boolean): DirectorAction[] {
    this.begin(table);
    const target = this.targets.get(id);
    for (const m of target?.members ?? []) {
      if (ok) this.realSucceeded(m.virtual, m.real);
      else this.realFailed(m.virtual, m.real);
    }
    return this.end();
  }

  /** A new configuration: a diff against the running one (spec §6.5, without its flaps). */
  reload(table: IpvsTable, next: LdirectordConfig): DirectorAction[] {
    this.begin(table);
    const before = this.config;
    this.config = next;
    this.targets = new Map(checkTargets(next).map((t) => [t.id, t]));
    const nextIds = new Set(next.virtuals.map((v) => v.id));
    const keep = new Set<string>();
    for (const v of next.virtuals) for (const r of v.reals) keep.add(realKey(v, r));
    for (const k of [...this.reals.keys()]) if (!keep.has(k)) this.reals.delete(k);
    for (const v of next.virtuals) this.setUpVirtual(v, 'start');
    for (const old of before.virtuals) {
      if (nextIds.has(old.id)) continue;
      this.virtuals.delete(old.id);
      if (findService(this.table, serviceRef(old))) {
        this.ipvs({ op: 'delete-service', service: serviceRef(old) });
        this.log('info', `Purged virtual server (start): ${virtualLabel(old)}`);
      }
    }
    return this.end();
  }

  /** TERM: with cleanstop, the reals believed up and then each service are removed (spec §6.6). */
  stop(table: IpvsTable): DirectorAction[] {
    this.begin(table);
    for (const v of this.config.virtuals) {
      if (!v.cleanStop) continue;
      const svc = this.service(v);
      if (!svc) continue;
      for (const r of v.reals) {
        if (this.reals.get(realKey(v, r))?.status !== 'up') continue;
        const found = findDestination(svc, realAddress(r), r.forward);
        if (!found) continue;
        this.ipvs({ op: 'delete-real', service: serviceRef(v), address: found.dest.address });
        this.log('info', `Purged real server (stop): ${realAddress(r)} (${virtualLabel(v)})`, { virtual: v, server: realAddress(r), down: false });
      }
      this.ipvs({ op: 'delete-service', service: serviceRef(v) });
      this.log('info', `Purged virtual server (stop): ${virtualLabel(v)}`);
    }
    return this.end();
  }

  private setUpVirtual(v: VirtualService, tag: 'start'): void {
    const ref = serviceRef(v);
    const want = serviceOptions(v);
    let svc = this.service(v);
    if (svc && svc.persistentSec !== undefined && want.persistentSec === undefined) {
      // ipvsadm -E cannot clear persistence: rebuild the service (its reals follow below).
      this.ipvs({ op: 'delete-service', service: ref });
      this.log('info', `Purged virtual server (${tag}): ${virtualLabel(v)}`);
      svc = undefined;
    }
    if (!svc) {
      this.ipvs({ op: 'add-service', service: ref, options: want });
      this.log('info', `Added virtual server: ${virtualLabel(v)}`);
    } else if (!sameOptions(svc, want)) {
      this.ipvs({ op: 'edit-service', service: ref, options: want });
      this.log('info', `Changed virtual server: ${virtualLabel(v)}`);
    }
    svc = this.service(v)!;
    // Entries that are neither a configured real nor the fallback.
    const claimed = new Set<string>();
    for (const r of v.reals) {
      const found = findDestination(svc, realAddress(r), r.forward);
      if (found) claimed.add(found.dest.address);
    }
    if (v.fallback) {
      const f = fallbackSpec(v.fallback);
      const found = findDestination(svc, f.address, f.forward);
      if (found) claimed.add(found.dest.address);
    }
    for (const d of svc.destinations) {
      if (claimed.has(d.address)) continue;
      this.ipvs({ op: 'delete-real', service: ref, address: d.address });
      this.log('info', `Purged real server (${tag}): ${d.address} (${virtualLabel(v)})`, { virtual: v, server: d.address, down: false });
    }
    if (!this.virtuals.has(v.id)) this.virtuals.set(v.id, { fallbackOn: undefined });
    for (const r of v.reals) {
      const key = realKey(v, r);
      let st = this.reals.get(key);
      if (!st) {
        // A real already serving (weight > 0) is kept up until a check says otherwise; one at weight 0 stays down.
        const found = findDestination(this.service(v)!, realAddress(r), r.forward);
        const status: RealStatus = found === undefined ? 'unknown' : found.dest.weight > 0 ? 'up' : 'down';
        st = { status, failCount: 0 };
        this.reals.set(key, st);
      }
      if (v.checkType === 'on') {
        // Never checked, always in.
        st.status = 'up';
        this.putUp(v, r);
      } else if (v.checkType === 'off') {
        // Never checked, never brought up: the virtual serves its fallback.
        const initial = st.status !== 'down';
        st.status = 'down';
        this.putDown(v, r, initial);
      } else if (st.status === 'up') this.putUp(v, r);
      else if (st.status === 'down') this.putDown(v, r, false);
      // 'unknown': nothing until its first check.
    }
    this.settleFallback(v);
  }

  private realSucceeded(v: VirtualService, r: RealServer): void {
    const st = this.state(v, r);
    if (st.failCount > 0 || st.status === 'down') this.log('info', `Resetting soft failure count: ${realAddress(r)} (${v.id})`);
    st.failCount = 0;
    if (st.status !== 'up') {
      st.status = 'up';
      this.putUp(v, r);
      this.settleFallback(v);
    }
  }

  private realFailed(v: VirtualService, r: RealServer): void {
    const st = this.state(v, r);
    if (st.status === 'down') return;
    if (st.status === 'up') {
      st.failCount++;
      if (st.failCount < v.failureCount) {
        this.log('info', `Soft failure real server: ${realAddress(r)} (${v.id}) failure ${st.failCount}/${v.failureCount}`);
        return;
      }
    }
    const initial = st.status === 'unknown';
    st.status = 'down';
    this.putDown(v, r, initial);
    this.settleFallback(v);
  }

  /** Brings a real to its full weight: add when absent, edit when it differs, nothing when equal (spec §6.0 restore). */
  private putUp(v: VirtualService, r: RealServer): void {
    const svc = this.service(v);
    if (!svc) return;
    const want = realSpec(r, r.weight);
    const found = findDestination(svc, want.address, r.forward);
    const label = `${realAddress(r)} (${virtualLabel(v)})`;
    if (!found) {
      this.ipvs({ op: 'add-real', service: serviceRef(v), real: want });
      this.log('info', `Added real server: ${label} (Weight set to ${r.weight})`, { virtual: v, server: realAddress(r), down: false });
    } else if (!sameDest(found.dest, want)) {
      this.ipvs({ op: 'edit-real', service: serviceRef(v), real: { ...want, address: found.dest.address } });
      this.log('info', `Restored real server: ${label}${found.mapped ? ` mapped from ${found.dest.address}` : ''} (Weight set to ${r.weight})`, { virtual: v, server: realAddress(r), down: false });
    } else return;
    this.out.push({ kind: 'real-state', virtual: v, real: r, up: true, text: `${label} (Weight set to ${r.weight})` });
  }

  /**
   * Takes a real out: quiescent sets weight 0 (adding it at 0 when absent on
   * its first decision or with readdquiescent), otherwise deletes it.
   */
  private putDown(v: VirtualService, r: RealServer, initial: boolean): void {
    const svc = this.service(v);
    if (!svc) return;
    const address = realAddress(r);
    const found = findDestination(svc, address, r.forward);
    const label = `${address} (${virtualLabel(v)})`;
    const mapped = found?.mapped ? ` mapped from ${found.dest.address}` : '';
    if (v.quiescent) {
      if (found && found.dest.weight === 0 && found.dest.forward === r.forward) return;
      if (found) {
        this.ipvs({ op: 'edit-real', service: serviceRef(v), real: { address: found.dest.address, forward: r.forward, weight: 0 } });
        this.log('info', `Quiescent real server: ${label}${mapped} (Weight set to 0)`, { virtual: v, server: address, down: true });
      } else if (initial || this.config.globals.readdQuiescent) {
        this.ipvs({ op: 'add-real', service: serviceRef(v), real: { address, forward: r.forward, weight: 0 } });
        this.log('info', `${initial ? 'Quiescent' : 'Readd Quiescent'} real server: ${label} (Weight set to 0)`, { virtual: v, server: address, down: true });
      } else return;
    } else {
      if (!found) return;
      this.ipvs({ op: 'delete-real', service: serviceRef(v), address: found.dest.address });
      this.log('info', `Deleted real server: ${label}${mapped}`, { virtual: v, server: address, down: true });
    }
    this.out.push({ kind: 'real-state', virtual: v, real: r, up: false, text: label });
  }

  /**
   * The fallback is in exactly while no real of the virtual is up. Until every
   * real has had its first check (and none is up yet) nothing is decided: the
   * original puts the fallback in at start and takes it out again a moment
   * later when the first check succeeds, a flap we do not repeat.
   */
  private settleFallback(v: VirtualService): void {
    const anyUp = v.reals.some((r) => this.reals.get(realKey(v, r))?.status === 'up');
    const undecided = v.reals.some((r) => (this.reals.get(realKey(v, r))?.status ?? 'unknown') === 'unknown');
    if (!anyUp && undecided) return;
    const vs = this.virtuals.get(v.id)!;
    const svc = this.service(v);
    if (v.fallback && svc) {
      const f = fallbackSpec(v.fallback);
      const found = findDestination(svc, f.address, f.forward);
      const label = `${f.address} (${virtualLabel(v)})`;
      if (!anyUp && !found) {
        this.ipvs({ op: 'add-real', service: serviceRef(v), real: f });
        this.log('info', `Added fallback server: ${label} (Weight set to 1)`, { virtual: v, server: f.address, down: false });
      } else if (!anyUp && found && !sameDest(found.dest, f)) {
        this.ipvs({ op: 'edit-real', service: serviceRef(v), real: { ...f, address: found.dest.address } });
        this.log('info', `Restored fallback server: ${label} (Weight set to 1)`, { virtual: v, server: f.address, down: false });
      } else if (anyUp && found) {
        this.ipvs({ op: 'delete-real', service: serviceRef(v), address: found.dest.address });
        this.log('info', `Deleted fallback server: ${label}`, { virtual: v, server: f.address, down: false });
      }
    }
    const on = !anyUp;
    // The first decision runs the command only to start the fallback; there is nothing to stop yet.
    if (vs.fallbackOn === undefined && !on) vs.fallbackOn = false;
    if (vs.fallbackOn !== on) {
      vs.fallbackOn = on;
      if (v.fallbackCommand) {
        const where = v.protocol === 'fwm' ? ':0' : hostPort(v.address ?? '', v.port);
        const proto = v.protocol === 'fwm' ? 'fwm' : v.protocol;
        this.out.push({ kind: 'fallback-command', command: v.fallbackCommand, args: [on ? 'start' : 'stop', where, proto] });
      }
    }
  }

  private state(v: VirtualService, r: RealServer): RealState {
    const key = realKey(v, r);
    let st = this.reals.get(key);
    if (!st) {
      st = { status: 'unknown', failCount: 0 };
      this.reals.set(key, st);
    }
    return st;
  }

  private service(v: VirtualService): IpvsService | undefined {
    return findService(this.table, serviceRef(v));
  }

  private ipvs(command: IpvsCommand): void {
    this.out.push({ kind: 'ipvs', command });
    try {
      this.table = applyIpvsCommand(this.table, command);
    } catch (e) {
      // The backend will report the same refusal; our view stays as it was.
      if (!(e instanceof IpvsCommandError)) throw e;
    }
  }

  private log(level: 'info' | 'warn' | 'err' | 'debug', text: string, alert?: Alert): void {
    this.out.push(alert ? { kind: 'log', level, text, alert } : { kind: 'log', level, text });
  }

  private begin(table: IpvsTable): void {
    this.table = table;
    this.out = [];
  }

  private end(): DirectorAction[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}

function sameOptions(s: IpvsService, o: ReturnType<typeof serviceOptions>): boolean {
  return s.scheduler === o.scheduler && s.persistentSec === o.persistentSec &&
    (o.persistentSec === undefined || (s.netmask ?? '255.255.255.255') === (o.netmask ?? '255.255.255.255')) &&
    s.ops === o.ops && (s.schedFlags ?? '') === (o.schedFlags ?? '');
}

function sameDest(d: { weight: number; forward: string; upperThreshold: number; lowerThreshold: number }, want: RealSpec): boolean {
  return d.weight === want.weight && d.forward === want.forward &&
    d.upperThreshold === (want.thresholds?.upper ?? 0) && d.lowerThreshold === (want.thresholds?.lower ?? 0);
}
