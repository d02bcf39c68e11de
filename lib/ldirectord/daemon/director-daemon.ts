/**
 * The running director: the Director core wired to a backend, the check
 * loop, the config file watch, fallbackcommand, the monitor file and the
 * logger. Decisions are serialized: each reads the table, asks the core,
 * and performs the answer before the next one starts.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import type { LdirectordConfig } from '../../config/ldirectord/model.js';
import type { Logger } from '../../shared/log/index.js';
import { Director, type DirectorAction } from '../director/director.js';
import type { CheckTarget } from '../director/targets.js';
import { ipvsadmArgs } from '../ipvs/command.js';
import type { IpvsBackend } from '../backend/types.js';
import type { CheckOutcome } from '../checks/types.js';
import { CheckLoop } from './check-loop.js';
import { EmailAlerts, type DaemonStatus } from './email.js';
import type { InstanceRunner } from './execute.js';
import { monitorLine } from './monitor.js';

export interface DirectorDaemonOptions {
  readonly configFile: string;
  readonly backend: IpvsBackend;
  readonly log: Logger;
  readonly hostname: string;
  /** Parses the config file; throws ConfigError on errors. */
  readonly readConfig: () => LdirectordConfig;
  readonly concurrency?: number;
  /** How often the config file's mtime is looked at (the original: after every round). */
  readonly watchIntervalMs?: number;
  /** sendmail for e-mail alerts without smtp= (default /usr/sbin/sendmail). */
  readonly sendmail?: string;
  /** execute= instances: reloaded with ours (start and stop are the command line's). */
  readonly instances?: InstanceRunner;
}

function digest(file: string): { mtimeMs: number; md5: string } | undefined {
  try {
    const st = fs.statSync(file);
    return { mtimeMs: st.mtimeMs, md5: createHash('md5').update(fs.readFileSync(file)).digest('hex') };
  } catch {
    return undefined;
  }
}

export class DirectorDaemon {
  private director: Director;
  private config: LdirectordConfig;
  private loop: CheckLoop | undefined;
  private queue: Promise<void> = Promise.resolve();
  private watchTimer: NodeJS.Timeout | undefined;
  private fileState: { mtimeMs: number; md5: string } | undefined;
  private stopping = false;
  /** What the daemon is doing, for emailalertstatus: starting/reloading last until every real has had its first check. */
  private status: DaemonStatus = 'starting';
  private firstRound = new Set<string>();
  private readonly email: EmailAlerts;

  constructor(private readonly o: DirectorDaemonOptions, config: LdirectordConfig) {
    this.config = config;
    this.director = new Director(config);
    this.fileState = digest(o.configFile);
    this.email = new EmailAlerts({
      log: o.log, hostname: o.hostname, config: () => this.config, status: () => this.status, ...(o.sendmail !== undefined ? { sendmail: o.sendmail } : {}),
    });
  }

  get daemonStatus(): DaemonStatus {
    return this.status;
  }

  get configuration(): LdirectordConfig {
    return this.config;
  }

  async start(): Promise<void> {
    await this.decide((t) => this.director.start(t));
    this.startChecks();
    this.email.start();
    this.watchTimer = setInterval(() => this.watchConfig(), this.o.watchIntervalMs ?? 1000);
  }

  /** HUP, `reload`, or autoreload: parse again; on errors keep the running configuration. */
  reload(reason: 'signal' | 'file'): Promise<void> {
    return this.serialize(async () => {
      if (this.stopping) return;
      if (reason === 'signal') this.o.log.info('Reloading Linux Director Daemon config on signal');
      let next: LdirectordConfig;
      try {
        next = this.o.readConfig();
      } catch (e) {
        this.o.log.error(`${(e as Error).message.split('\n').join('; ')}; keeping the running configuration`);
        return;
      }
      this.fileState = digest(this.o.configFile);
      await this.loop?.stop();
      const before = this.config.globals.execute;
      this.config = next;
      this.status = 'reloading';
      this.email.forget();
      await this.o.instances?.reload(before, next.globals.execute);
      await this.perform(this.director.reload(await this.o.backend.read(), next));
      this.startChecks();
    });
  }

  async stop(signalName = 'TERM'): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.watchTimer);
    await this.loop?.stop();
    this.status = 'stopping';
    await this.serialize(async () => {
      await this.perform(this.director.stop(await this.o.backend.read()));
    });
    this.email.stop();
    await this.email.idle();
    this.o.log.info(`Linux Director Daemon terminated on signal: ${signalName}`);
    await this.o.backend.close();
  }

  private startChecks(): void {
    const targets = this.director.checkTargets();
    this.firstRound = new Set(targets.map((t) => t.id));
    if (this.firstRound.size === 0) this.status = 'running';
    this.loop = new CheckLoop({
      config: this.config,
      targets,
      hostname: this.o.hostname,
      ...(this.o.concurrency !== undefined ? { concurrency: this.o.concurrency } : {}),
      onResult: (t, outcome) => void this.result(t, outcome),
    });
    this.loop.start();
  }

  private result(t: CheckTarget, outcome: CheckOutcome): Promise<void> {
    const { real } = t.members[0]!;
    this.o.log.debug(2, `Checked ${real.address}:${real.port}: ${outcome.up ? 'up' : 'down'} (${outcome.message})`);
    return this.serialize(async () => {
      if (this.stopping) return;
      // Only a change of state reads the table; repeated results just count.
      const table = this.director.wouldChange(t.id, outcome.up) ? await this.o.backend.read() : this.director.lastTable;
      await this.perform(this.director.checked(table, t.id, outcome.up), outcome);
      if (this.firstRound.delete(t.id) && this.firstRound.size === 0) this.status = 'running';
    });
  }

  private decide(fn: (t: Awaited<ReturnType<IpvsBackend['read']>>) => DirectorAction[]): Promise<void> {
    return this.serialize(async () => {
      await this.perform(fn(await this.o.backend.read()));
    });
  }

  private serialize(fn: () => Promise<void>): Promise<void> {
    const next = this.queue.then(fn).catch((e: unknown) => this.o.log.error(`internal error: ${(e as Error).stack ?? String(e)}`));
    this.queue = next;
    return next;
  }

  private async perform(actions: DirectorAction[], outcome?: CheckOutcome): Promise<void> {
    for (const a of actions) {
      if (a.kind === 'ipvs') {
        const text = `${this.o.backend.name === 'ipvsadm' ? 'ipvsadm' : 'ipvs'} ${ipvsadmArgs(a.command).join(' ')}`;
        this.o.log.debug(2, `Running system(${text})`);
        const refusal = await this.o.backend.apply(a.command);
        if (refusal !== undefined) this.o.log.error(`system(${text}) failed: ${refusal}`);
      } else if (a.kind === 'log') {
        if (a.level === 'debug') this.o.log.debug(2, a.text);
        else this.o.log.log(a.level === 'err' ? 'error' : a.level, a.text);
        if (a.alert) this.email.alert(a.text, a.alert);
      } else if (a.kind === 'fallback-command') {
        this.o.log.debug(2, `Running system(${a.command} ${a.args.join(' ')})`);
        execFile(a.command, [...a.args], { timeout: 60_000 }, (err) => {
          if (err) this.o.log.error(`system(${a.command} ${a.args.join(' ')}) failed: ${err.message}`);
        });
      } else if (a.kind === 'real-state') {
        const file = a.virtual.monitorFile;
        if (file !== undefined) {
          try {
            fs.appendFileSync(file, monitorLine(new Date(), process.pid, a.virtual, a.real, a.up, outcome?.message ?? '-') + '\n');
          } catch (e) {
            this.o.log.error(`monitorfile ${file}: ${(e as Error).message}`);
          }
        }
      }
    }
  }

  private watchConfig(): void {
    if (this.stopping) return;
    let st: fs.Stats;
    try {
      st = fs.statSync(this.o.configFile);
    } catch {
      return;
    }
    if (this.fileState !== undefined && st.mtimeMs === this.fileState.mtimeMs) return;
    const now = digest(this.o.configFile);
    if (now === undefined) return;
    const changed = this.fileState === undefined || now.md5 !== this.fileState.md5;
    this.fileState = now;
    if (!changed) return;
    this.o.log.info(`Configuration file '${this.o.configFile}' has changed on disk`);
    const callback = this.config.globals.callback;
    if (this.config.globals.autoreload) {
      this.o.log.info(' - reread new configuration');
      void this.reload('file');
    } else this.o.log.info(' - ignore new configuration');
    if (callback !== undefined) {
      execFile(callback, [this.o.configFile], { timeout: 60_000 }, (err) => {
        if (err) this.o.log.error(`callback ${callback}: ${err.message}`);
      });
    }
  }
}
