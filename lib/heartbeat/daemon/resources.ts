/**
 * The daemon's side of haresources management: membership news and delivered
 * resource messages become ResourceShell events, the messages the resource
 * manager sends go out through the runtime, rscstatus is what cl_status
 * rscstatus answers, and a graceful stop releases every group before the
 * membership's shutdone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HaCf } from '../../config/hacf/model.js';
import type { ResourceGroup } from '../../config/haresources/parse.js';
import { resourceSettings } from '../../resources/config.js';
import { buildScriptEnv, scriptDirs } from '../../resources/runner/index.js';
import { LOG } from '../../resources/log-lines.js';
import { isStandbyWord } from '../../resources/rsc-sets.js';
import { ResourceShell } from '../../resources/shell.js';
import type { LogLevel, ResourceMessage, RscSet, RscStatus } from '../../resources/types.js';
import { Fencer } from '../../stonith/fencer.js';
import { deviceSpecs } from '../../stonith/params.js';
import { stonithEnvironment } from '../../stonith/environment.js';
import type { ResourceState } from '../api/view.js';
import { HaMessage } from '../wire/index.js';
import type { HeartbeatRuntime, RuntimeLog } from './runtime.js';

/** Message types the resource manager reads (heartbeat-wire.md §5). */
export const RESOURCE_MESSAGE_TYPES: ReadonlySet<string> = new Set([
  'starting',
  'resource',
  'ask_resources',
  'hb_takeover',
  'ip-request',
  'ip-request-resp',
  'shutdone',
]);

export interface DaemonResourcesOptions {
  readonly hacf: HaCf;
  readonly groups: readonly ResourceGroup[];
  readonly haDir: string;
  readonly runDir: string;
  readonly localNode: string;
  readonly runtime: HeartbeatRuntime;
  readonly log: RuntimeLog;
  readonly debugLevel: number;
  /** Last step of a stop that keeps failing (default the original's `reboot -nf`); `HA_STOP_FAILURE_COMMAND` in the environment overrides it. */
  readonly stopFailureCommand?: readonly string[];
  /** HA_RSCTMP for the scripts (the daemon cleared it at start). */
  readonly rscTmp?: string;
  /** `-R [-C CLASS]`: restarted keeping resources (CLASS; nice mode without -C: local, as the original assumes). */
  readonly restarted?: RscSet;
}

/** A resource message as plain string fields (the first of a repeated name wins). */
export function resourceMessageFields(m: HaMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of m.fields) {
    if (Object.prototype.hasOwnProperty.call(out, f.name)) continue;
    const v = m.get(f.name);
    if (v !== undefined) out[f.name] = v;
  }
  return out;
}

/** Our bin directory (cl_status and the other helpers for scripts), when we run from bin/heartbeat. */
export function binDir(): string | undefined {
  const entry = process.argv[1];
  if (entry === undefined) return undefined;
  try {
    return path.dirname(fs.realpathSync(entry));
  } catch {
    return undefined;
  }
}

export class DaemonResources {
  readonly shell: ResourceShell;
  private readonly peer: string;
  private readonly runtime: HeartbeatRuntime;
  private readonly log: RuntimeLog;
  private commUp = false;
  private peerDead = false;
  private healed = false;
  private stopping = false;
  private onShutdownDone: (() => void) | undefined;
  private status: RscStatus;
  /** The STONITH devices ha.cf gives this node (lib/stonith), when there are any. */
  private readonly fencer: Fencer | undefined;
  /** Lines the resource machine logs that the daemon's membership logs too (shutdown notice, returning after partition). */
  private readonly membershipLines: ReadonlySet<string>;

  /** Undefined (with the reason logged) when this ha.cf/haresources cannot be managed here. */
  static create(o: DaemonResourcesOptions): DaemonResources | undefined {
    try {
      return new DaemonResources(o);
    } catch (e) {
      o.log.error(`Resource management disabled: ${(e as Error).message}`);
      return undefined;
    }
  }

  private constructor(o: DaemonResourcesOptions) {
    const fromEnv = process.env['HA_STOP_FAILURE_COMMAND'];
    const stopFailureCommand = fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv.trim().split(/\s+/) : o.stopFailureCommand;
    const settings = resourceSettings(o.hacf, { groups: o.groups }, o.localNode, {
      ...(stopFailureCommand !== undefined ? { stopFailureCommand } : {}),
      ...(o.restarted !== undefined ? { restarted: o.restarted } : {}),
    });
    this.peer = settings.config.peerNode;
    this.membershipLines = new Set([LOG.shutdownNotice(this.peer), LOG.partition(this.peer), LOG.splitBrain, LOG.heavyLoad, LOG.faq, LOG.faqUrl]);
    this.runtime = o.runtime;
    this.log = o.log;
    const bin = binDir();
    const env = buildScriptEnv({
      haDir: o.haDir,
      nodeName: o.localNode,
      logfile: o.hacf.logging.logfile,
      debugfile: o.hacf.logging.debugfile,
      logfacility: o.hacf.logging.logfacility,
      useLogd: o.hacf.logging.useLogd,
      debugLevel: o.debugLevel,
      niceFailback: o.hacf.autoFailback !== 'legacy',
      env: o.hacf.env,
      ...(bin !== undefined ? { binDir: bin } : {}),
      ...(o.rscTmp !== undefined ? { rscTmp: o.rscTmp } : {}),
    });
    const specs = deviceSpecs(o.hacf, o.localNode);
    this.fencer =
      specs.length > 0
        ? new Fencer({ specs, haDir: o.haDir, env: stonithEnvironment(o.hacf, process.env, (level, text) => this.logLine(level, text)) })
        : undefined;
    const fencer = this.fencer;
    this.shell = new ResourceShell({
      config: settings.config,
      runner: { dirs: scriptDirs(o.haDir), env, timeoutMs: settings.scriptTimeoutMs },
      send: (m) => this.send(m),
      log: (level, text) => this.logLine(level, text),
      rscstatus: (v) => {
        this.status = v;
      },
      ...(fencer !== undefined ? { fence: (node: string) => fencer.fence(node) } : {}),
      shutdownDone: () => {
        const then = this.onShutdownDone;
        this.onShutdownDone = undefined;
        then?.();
      },
    });
    this.status = this.shell.machine.rscstatus();
    this.wire();
  }

  /** What cl_status rscstatus answers. */
  rscstatus(): ResourceState {
    return this.status;
  }

  /** Graceful stop: every group is released, then `then` runs (the membership's shutdone and exit). */
  shutdown(then: () => void): void {
    this.stopping = true;
    this.onShutdownDone = then;
    this.shell.feed({ kind: 'shutdown' });
  }

  /**
   * A message an API client sends to the cluster. hb_standby / hb_takeover
   * (`t=ask_resources info=me rsc_hold=SET`, `t=hb_takeover rsc_hold=SET`)
   * are commands for this node's resource manager, which sends the wire
   * messages itself; anything else is not ours (false).
   */
  fromApi(m: HaMessage): boolean {
    const t = m.type;
    const set = m.get('rsc_hold') ?? 'all';
    if (t === 'ask_resources' && m.get('info') === 'me' && isStandbyWord(set)) {
      this.shell.feed({ kind: 'command', command: 'standby', set });
      return true;
    }
    if (t === 'hb_takeover' && isStandbyWord(set)) {
      this.shell.feed({ kind: 'command', command: 'takeover', set });
      return true;
    }
    return false;
  }

  close(): void {
    this.shell.close();
    this.fencer?.close();
  }

  private isPeer(node: string): boolean {
    return node.toLowerCase() === this.peer;
  }

  private wire(): void {
    const r = this.runtime;
    r.on('commUp', () => {
      this.commUp = true;
      const view = r.nodeViews().find((n) => this.isPeer(n.name));
      const st = view?.status;
      const peer = st === 'active' ? 'active' : st === undefined || st === 'dead' ? 'dead' : 'up';
      this.peerDead = peer === 'dead';
      this.shell.feed({ kind: 'comm-up', peer });
      this.fencer?.startStatusChecks();
    });
    r.on('nodeStatus', (node, status) => {
      if (!this.isPeer(node)) return;
      if (status === 'dead') {
        if (this.peerDead) return;
        this.peerDead = true;
        if (this.commUp) this.shell.feed({ kind: 'peer-dead' });
        return;
      }
      if (!this.peerDead) return;
      this.peerDead = false;
      // Heard again after being declared dead: a heal was reported just before (same generation), else it restarted.
      if (this.healed) {
        this.healed = false;
        return;
      }
      if (this.commUp) this.shell.feed({ kind: 'peer-alive' });
    });
    r.on('partitionHealed', (node) => {
      if (!this.isPeer(node)) return;
      this.healed = this.peerDead;
      if (this.commUp) this.shell.feed({ kind: 'partition-healed' });
    });
    r.on('peerRestarted', (node) => {
      if (this.isPeer(node) && this.commUp) this.shell.feed({ kind: 'peer-alive' });
    });
    r.on('deliver', (node, type, m) => {
      if (!this.isPeer(node) || !RESOURCE_MESSAGE_TYPES.has(type)) return;
      const fields = resourceMessageFields(m);
      if (fields['src'] === undefined) fields['src'] = node;
      this.shell.feed({ kind: 'message', message: fields });
    });
    r.once('exit', () => this.close());
  }

  private send(m: ResourceMessage): void {
    // During our own stop the membership sends the one shutdone (and keeps beating 2 s).
    if (this.stopping && m['t'] === 'shutdone') return;
    this.runtime.sendMessage(HaMessage.of(Object.entries(m)));
  }

  private logLine(level: LogLevel, text: string): void {
    // The membership logs these already; the original logs them once.
    if (this.membershipLines.has(text)) return;
    switch (level) {
      case 'CRIT':
        return this.log.crit(text);
      case 'ERROR':
        return this.log.error(text);
      case 'WARN':
        return this.log.warn(text);
      case 'info':
        return this.log.info(text);
      case 'debug':
        return this.log.debug(1, text);
    }
  }
}
