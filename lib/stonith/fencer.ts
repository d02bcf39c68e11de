/**
 * The daemon's fencing: the devices ha.cf gives this node, configured when
 * first needed (and again after a failure, so a fixed plugin is picked up),
 * a fence of one node that tries each device whose host list names it, and
 * the original's status check of the devices at comm-up and every hour.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cancelDevice, configurePositional, createDevice } from './devices.js';
import { configFileLine, listsHost, type DeviceSpec } from './params.js';
import { S, type StonithDevice, type StonithEnvironment, type StonithResult } from './types.js';

export interface FenceOutcome {
  readonly ok: boolean;
  readonly result: Extract<StonithResult, 'OK' | 'badhost' | 'bad'>;
}

export interface FencerOptions {
  readonly specs: readonly DeviceSpec[];
  /** Relative `stonith TYPE FILE` paths are taken from here. */
  readonly haDir: string;
  readonly env: StonithEnvironment;
  /** Between status checks (the original's hour). */
  readonly statusIntervalMs?: number;
}

interface Slot {
  readonly spec: DeviceSpec;
  readonly device: StonithDevice | undefined;
}

export class Fencer {
  private readonly slots: Slot[];
  private readonly o: FencerOptions;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(o: FencerOptions) {
    this.o = o;
    this.slots = o.specs.map((spec) => {
      const device = createDevice(spec.type, o.env);
      if (device === undefined) o.env.log('ERROR', `Invalid Stonith type [${spec.type}]`);
      return { spec, device };
    });
  }

  get configured(): boolean {
    return this.slots.length > 0;
  }

  /** What the `Resetting node N with [..]` line names: the first device. */
  get label(): string | undefined {
    const s = this.slots[0];
    return s === undefined ? undefined : (s.device?.deviceId ?? s.spec.type);
  }

  /** Resets `node` with the first device that lists it and succeeds. */
  async fence(node: string): Promise<FenceOutcome> {
    const n = node.toLowerCase();
    const log = this.o.env.log;
    const candidates: StonithDevice[] = [];
    let usable: StonithDevice | undefined;
    for (const s of this.slots) {
      if (s.device === undefined || !(await this.ensureConfigured(s))) continue;
      usable ??= s.device;
      const hosts = await s.device.hosts();
      // A device that cannot list its hosts may still reset: the original never asked.
      if (hosts === undefined || listsHost(hosts, n)) candidates.push(s.device);
    }
    if (usable === undefined) return { ok: false, result: 'bad' };
    if (candidates.length === 0) {
      log('ERROR', `Device ${usable.deviceId} cannot reset host ${n}.`);
      return { ok: false, result: 'badhost' };
    }
    let badhost = true;
    for (const d of candidates) {
      if (this.closed) break;
      const rc = await d.reset(n, 'reset');
      if (rc === S.OK) return { ok: true, result: 'OK' };
      if (rc !== S.BADHOST) badhost = false;
      else log('ERROR', `Device ${d.deviceId} cannot reset host ${n}.`);
    }
    return { ok: false, result: badhost ? 'badhost' : 'bad' };
  }

  /** `Checking status of STONITH device [..]` for each device, now and then every hour. */
  startStatusChecks(): void {
    if (this.timer !== undefined || this.closed || this.slots.length === 0) return;
    const every = this.o.statusIntervalMs ?? 3_600_000;
    const tick = (): void => {
      void this.checkStatus().finally(() => {
        if (!this.closed) this.timer = setTimeout(tick, every);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async checkStatus(): Promise<boolean> {
    const log = this.o.env.log;
    let all = true;
    for (const s of this.slots) {
      const id = s.device?.deviceId ?? s.spec.type;
      log('info', `Checking status of STONITH device [${id}]`);
      const ok = s.device !== undefined && (await this.ensureConfigured(s)) && (await s.device.status()) === S.OK;
      if (!ok) {
        all = false;
        log('ERROR', `STONITH device ${id} not operational!`);
        log('ERROR', 'STONITH status operation failed.');
        log('info', 'This may mean that the STONITH device has failed!');
      }
    }
    return all;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.slots) if (s.device) cancelDevice(s.device);
  }

  private async ensureConfigured(s: Slot): Promise<boolean> {
    const d = s.device;
    if (d === undefined) return false;
    if (d.configured) return true;
    const log = this.o.env.log;
    const src = s.spec.source;
    let text: string | undefined;
    if (src.kind === 'inline') {
      text = src.params;
    } else {
      const file = path.resolve(this.o.haDir, src.file);
      try {
        text = configFileLine(fs.readFileSync(file, 'latin1'));
      } catch {
        log('CRIT', `Cannot open ${file}`);
        log('ERROR', `Invalid Stonith config file [${src.file}]`);
        return false;
      }
    }
    const rc = text === undefined ? S.BADCONFIG : await configurePositional(d, text);
    if (rc === S.OK) return true;
    log('ERROR', src.kind === 'file' ? `Invalid Stonith config file [${src.file}]` : `Invalid Stonith config info for ${d.type} (ha.cf line ${s.spec.line})`);
    return false;
  }
}
