/**
 * SIGHUP / `heartbeat -r`: re-read ha.cf and authkeys and apply them to the
 * running daemon without a restart.
 *
 * The original re-executes itself with `-R` when ha.cf's mtime changed (its
 * new process raises hb_generation, restarts seq at 1, and peers log
 * "Heartbeat restart on node X"); resources stay held. We apply the new
 * configuration in the same process instead: generation and seq go on, held
 * resources are untouched, peers see only the new `dt` in our next status.
 * A configuration with errors is refused with its FILE:LINE diagnostics and
 * the running one is kept (the original would re-exec into a start-up that
 * fails). See docs/heartbeat-daemon.md and docs/compatibility.md.
 *
 * `planReload` is the pure part (what changed, which media to open and close);
 * `Reloader` carries it out.
 */
import type { HaCf } from '../../config/hacf/model.js';
import type { HaDirConfig } from '../config-check.js';
import { SerialMedium, type Medium, type MediumSpec } from '../media/index.js';
import type { AuthKey } from '../wire/index.js';
import { linkName, type DaemonSettings } from './settings.js';

/** What a medium is, as far as reopening goes: spec plus the global settings it was opened with. */
export function mediumKey(spec: MediumSpec, s: Pick<DaemonSettings, 'udpPort' | 'baud'>): string {
  switch (spec.kind) {
    case 'ucast':
      return `ucast ${spec.interface} ${spec.peer} port ${s.udpPort}`;
    case 'bcast':
      return `bcast ${spec.interface} port ${s.udpPort}`;
    case 'mcast':
      return `mcast ${spec.interface} ${spec.group} ${spec.port} ${spec.ttl} ${spec.loop ? 1 : 0}`;
    case 'ucast6':
      return `ucast6 ${spec.interface} ${spec.peer} port ${s.udpPort}`;
    case 'mcast6':
      return `mcast6 ${spec.interface} ${spec.group} ${spec.port} ${spec.hops} ${spec.loop ? 1 : 0}`;
    case 'serial':
      return `serial ${spec.device} baud ${s.baud}`;
  }
}

/** The directive as an admin would write it, for log lines. */
export function describeSpec(spec: MediumSpec): string {
  switch (spec.kind) {
    case 'ucast':
      return `ucast ${spec.interface} ${spec.peer}`;
    case 'bcast':
      return `bcast ${spec.interface}`;
    case 'mcast':
      return `mcast ${spec.interface} ${spec.group} ${spec.port} ${spec.ttl} ${spec.loop ? 1 : 0}`;
    case 'ucast6':
      return `ucast6 ${spec.interface} ${spec.peer}`;
    case 'mcast6':
      return `mcast6 ${spec.interface} ${spec.group} ${spec.port} ${spec.hops} ${spec.loop ? 1 : 0}`;
    case 'serial':
      return `serial ${spec.device}`;
  }
}

/** ha.cf parts a reload applies; any other change is logged as needing a restart. */
const APPLIED: ReadonlySet<keyof HaCf> = new Set<keyof HaCf>(['nodes', 'media', 'timings', 'udpport', 'baud', 'logging', 'debug', 'hopfudge', 'msgfmt']);

/** JSON without `line` fields: moving a directive to another line is no change. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (k, x: unknown) => (k === 'line' ? undefined : x));
}

export interface ReloadPlan {
  readonly haCfChanged: boolean;
  readonly keysChanged: boolean;
  /** Indexes into the new specs whose medium must be opened. */
  readonly open: readonly number[];
  /** For each new spec, the index of the running medium it keeps (or -1: opened). */
  readonly keep: readonly number[];
  /** Indexes of running media to close. */
  readonly close: readonly number[];
  /** info lines describing what is applied. */
  readonly applied: readonly string[];
  /** Directives that changed but need a restart. */
  readonly notApplied: readonly string[];
  readonly loggingChanged: boolean;
  readonly debugChanged: boolean;
}

const keyPrint = (keys: readonly AuthKey[]): string => JSON.stringify(keys.map((k) => [k.index, k.method, String(k.key ?? '')]));

export function planReload(before: HaDirConfig, beforeSettings: DaemonSettings, after: HaDirConfig, afterSettings: DaemonSettings): ReloadPlan {
  const a = before.hacf;
  const b = after.hacf;
  const haCfChanged = canonical(a) !== canonical(b) || canonical(before.resourceGroups) !== canonical(after.resourceGroups);
  const keysChanged = keyPrint(beforeSettings.keys) !== keyPrint(afterSettings.keys) || beforeSettings.activeKey.index !== afterSettings.activeKey.index;

  const running = beforeSettings.media.map((s) => mediumKey(s, beforeSettings));
  const used = new Set<number>();
  const keep: number[] = [];
  const open: number[] = [];
  afterSettings.media.forEach((s, i) => {
    const k = mediumKey(s, afterSettings);
    const j = running.findIndex((r, idx) => r === k && !used.has(idx));
    if (j >= 0) used.add(j);
    else open.push(i);
    keep.push(j);
  });
  const close = running.map((_, i) => i).filter((i) => !used.has(i));

  const applied: string[] = [];
  const t0 = a.timings;
  const t1 = b.timings;
  for (const [name, x, y] of [
    ['keepalive', t0.keepaliveMs, t1.keepaliveMs],
    ['warntime', t0.warntimeMs, t1.warntimeMs],
    ['deadtime', t0.deadtimeMs, t1.deadtimeMs],
    ['initdead', t0.initdeadMs, t1.initdeadMs],
  ] as const) {
    if (x !== y) applied.push(`${name} now ${y} ms (was ${x} ms)`);
  }
  for (const i of close) applied.push(`medium removed: ${describeSpec(beforeSettings.media[i]!)}`);
  for (const i of open) applied.push(`medium added: ${describeSpec(afterSettings.media[i]!)}`);
  for (const n of b.nodes) if (!a.nodes.includes(n)) applied.push(`node added: ${n}`);
  for (const n of a.nodes) if (!b.nodes.includes(n)) applied.push(`node removed: ${n}`);
  if (a.udpport !== b.udpport) applied.push(`udpport now ${b.udpport} (was ${a.udpport})`);
  if (a.baud !== b.baud) applied.push(`baud now ${b.baud} (was ${a.baud})`);
  if (a.hopfudge !== b.hopfudge) applied.push(`hopfudge now ${b.hopfudge} (was ${a.hopfudge})`);
  if (a.msgfmt !== b.msgfmt) applied.push(`msgfmt now ${b.msgfmt} (was ${a.msgfmt})`);
  const loggingChanged = canonical(a.logging) !== canonical(b.logging);
  if (loggingChanged) applied.push('log destinations (logfile, debugfile, logfacility) reopened as configured');
  const debugChanged = a.debug !== b.debug;
  if (debugChanged) applied.push(`debug now ${b.debug} (was ${a.debug})`);

  const notApplied: string[] = [];
  for (const k of Object.keys(b) as (keyof HaCf)[]) {
    if (!APPLIED.has(k) && canonical(a[k]) !== canonical(b[k])) notApplied.push(k);
  }
  if (canonical(before.resourceGroups) !== canonical(after.resourceGroups)) notApplied.push('haresources');
  return { haCfChanged, keysChanged, open, keep, close, applied, notApplied, loggingChanged, debugChanged };
}

/** What the Reloader needs from the daemon around it. */
export interface ReloadHost {
  readonly log: {
    info(msg: string): void;
    warn(msg: string): void;
    error(msg: string): void;
    reopen(): void;
  };
  /** Reads and validates the files: the config, or the diagnostics (FILE:LINE lines). */
  load(): { config: HaDirConfig } | { text: string };
  /** ha.cf + authkeys -> settings; throws (with FILE:LINE) for what the daemon cannot run. */
  settings(config: HaDirConfig): DaemonSettings;
  openMedium(spec: MediumSpec, settings: DaemonSettings): Promise<Medium>;
  /** The running media, in the order of the running settings' specs. */
  media(): readonly Medium[];
  /** Apply: the runtime takes the new settings and media. */
  reconfigure(settings: DaemonSettings, media: readonly Medium[]): void;
  /** Secrets of the new authkeys, for the log redactor. */
  addSecrets(config: HaDirConfig): void;
  /** Logging and debug level of the new ha.cf; cluster view parameters. */
  applyHaCf(config: HaDirConfig, plan: ReloadPlan): Promise<void>;
}

export type ReloadOutcome = 'unchanged' | 'applied' | 'refused';

export class Reloader {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly host: ReloadHost,
    private config: HaDirConfig,
    private settings: DaemonSettings,
    private readonly haDir: string,
  ) {}

  get current(): { config: HaDirConfig; settings: DaemonSettings } {
    return { config: this.config, settings: this.settings };
  }

  /** One reload at a time: a SIGHUP during a reload runs after it. */
  reload(): Promise<ReloadOutcome> {
    const r = this.chain.then(() => this.run());
    this.chain = r.catch(() => {});
    return r;
  }

  private async run(): Promise<ReloadOutcome> {
    const { log } = this.host;
    log.reopen();
    const loaded = this.host.load();
    if ('text' in loaded) return this.refuse(loaded.text.split('\n').filter((l) => l.trim() !== ''));
    let next: DaemonSettings;
    try {
      next = this.host.settings(loaded.config);
    } catch (e) {
      return this.refuse([(e as Error).message]);
    }
    const plan = planReload(this.config, this.settings, loaded.config, next);
    if (!plan.haCfChanged && !plan.keysChanged) {
      log.info('Configuration unchanged.');
      return 'unchanged';
    }
    // Open what is new first: if a medium cannot be opened, nothing changes.
    const opened = new Map<number, Medium>();
    for (const i of plan.open) {
      const spec = next.media[i]!;
      try {
        opened.set(i, await this.host.openMedium(spec, next));
      } catch (e) {
        await Promise.all([...opened.values()].map((m) => m.close().catch(() => {})));
        return this.refuse([`${this.haDir}/ha.cf: cannot open ${describeSpec(spec)}: ${(e as Error).message}`]);
      }
    }
    const running = this.host.media();
    const media = next.media.map((_, i) => opened.get(i) ?? running[plan.keep[i]!]!);
    if (plan.keysChanged) {
      this.host.addSecrets(loaded.config);
      log.info('Rereading authentication file.');
      for (const m of media) if (m instanceof SerialMedium) m.setKey(next.activeKey);
    }
    if (plan.haCfChanged) {
      log.info(`Configuration file ${this.haDir}/ha.cf changed: applying it without a restart (generation and seq go on, resources stay held).`);
      for (const line of plan.applied) log.info(line);
      for (const k of plan.notApplied) log.warn(`${k} changed: not applied until heartbeat is restarted`);
    }
    this.host.reconfigure(next, media);
    for (const i of plan.close) await running[i]?.close().catch(() => {});
    if (plan.haCfChanged) await this.host.applyHaCf(loaded.config, plan);
    for (const [i, m] of opened) log.info(`${m.kind}: started on ${linkName(next.media[i]!)}`);
    this.config = loaded.config;
    this.settings = next;
    return 'applied';
  }

  private refuse(lines: readonly string[]): ReloadOutcome {
    for (const l of lines) this.host.log.error(l);
    this.host.log.error(`Configuration errors: the new configuration is refused; heartbeat pid ${process.pid} keeps running with the old one.`);
    return 'refused';
  }
}
