/**
 * drbdadm's commands beyond dump: meta-data tools (create-md, dump-md), the ones
 * that talk to drbdd (up, down, attach, detach, connect, disconnect, primary,
 * secondary, outdate, invalidate, adjust, wait-connect), state queries (role,
 * cstate, dstate, status) and the sh-* helpers. Exit codes as drbdadm's
 * (drbd-spec §2.4): the daemon answers with drbdsetup's code, which we pass on.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { DrbdConfig, Resource } from '../config/drbd/model.js';
import { addressWarnings, findLocalHost, type LocalHost } from '../config/drbd/local-host.js';
import { HbError } from '../shared/errors.js';
import { dumpMdText } from './metadata/dump.js';
import { createMd, deviceSize, existingMeta, readAllMeta, type MetaTarget } from './metadata/store.js';
import { computeLayout } from './metadata/layout.js';
import { request, requestStarting } from './daemon/client.js';
import type { ControlRequest, ControlResponse } from './daemon/protocol.js';
import { runDirFromEnv } from './daemon/run.js';
import { resourceSpec, type ResourceSpec, type VolumeSpec } from './daemon/spec.js';
import { diskStateFromFlags, isConnected } from './daemon/state.js';
import { cstateText, dstateText, roleText, shStatusText, statusText, type ResourceSnapshot } from './daemon/status.js';

export interface CommandContext {
  readonly config: DrbdConfig;
  readonly me: LocalHost;
  readonly command: string;
  readonly args: readonly string[];
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly backendOpts: readonly string[];
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  /** Answers to create-md's question (stdin). */
  readonly readAnswer: () => string | undefined;
}

/** Commands this module runs (drbdadm-cli.ts keeps the same list). */
export const DAEMON_COMMANDS = new Set([
  'create-md', 'dump-md', 'up', 'down', 'attach', 'detach', 'connect', 'disconnect', 'primary', 'secondary', 'role', 'state',
  'cstate', 'dstate', 'status', 'outdate', 'invalidate', 'invalidate-remote', 'verify', 'pause-sync', 'resume-sync', 'adjust', 'wait-connect', 'wait-con-int', 'wait-sync',
  'get-gi', 'show-gi', 'sh-resources', 'sh-resource', 'sh-dev', 'sh-minor', 'sh-ll-dev', 'sh-md-dev', 'sh-md-idx', 'sh-ip', 'sh-lr-of',
  'sh-b-pri', 'sh-mod-parms', 'sh-status', 'sh-udev', 'invalidate_remote', 'wait_connect', 'wait_con_int',
]);

const ALIASES: Readonly<Record<string, string>> = { state: 'role', invalidate_remote: 'invalidate-remote', wait_connect: 'wait-connect', wait_con_int: 'wait-con-int' };

const NO_RESOURCE_NEEDED = new Set(['sh-resources', 'sh-mod-parms', 'status', 'sh-status', 'wait-con-int']);

function targetOf(v: VolumeSpec): MetaTarget {
  return { disk: v.disk, metaDisk: v.metaDisk, placement: v.placement };
}

const mdIdx = (v: VolumeSpec) => (v.placement.kind === 'internal' ? 'internal' : v.placement.kind === 'indexed' ? String(v.placement.index) : 'flexible');

/** Resources named on the command line (`all`, names, `res/vnr`, `minor-N`), for this host. */
function selectResources(ctx: CommandContext): Resource[] | number {
  const mine = ctx.config.resources.filter((r) => findLocalHost(ctx.config, r, ctx.me).host !== undefined);
  const args = ctx.args.length === 0 && NO_RESOURCE_NEEDED.has(ctx.command) ? ['all'] : ctx.args;
  if (args.length === 0) {
    ctx.err(`USAGE: drbdadm ${ctx.command} {all|RESOURCE...}\n`);
    return 1;
  }
  const out: Resource[] = [];
  for (const a of args) {
    if (a === 'all') {
      for (const r of mine) if (!out.includes(r)) out.push(r);
      continue;
    }
    const minor = /^minor-(\d+)$/.exec(a);
    const name = a.split('/')[0]!;
    const r = minor
      ? mine.find((x) => [...findLocalHost(ctx.config, x, ctx.me).host!.volumes.values()].some((v) => v.device?.minor === Number(minor[1])))
      : mine.find((x) => x.name === name);
    if (r === undefined) {
      ctx.err(`'${a}' not defined in your config (for this host).\n`);
      return 1;
    }
    if (!out.includes(r)) out.push(r);
  }
  return out;
}

async function snapshot(runDir: string): Promise<ResourceSnapshot[] | undefined> {
  const r = await request(runDir, { op: 'snapshot' }, 10_000);
  if (r === 'no-daemon' || !r.ok) return undefined;
  return [...(r.resources ?? [])];
}

function answer(ctx: CommandContext, r: ControlResponse, what: string): number {
  if (r.ok) {
    for (const m of r.messages ?? []) ctx.err(m + '\n');
    return 0;
  }
  ctx.err(r.message.endsWith('\n') ? r.message : r.message + '\n');
  ctx.err(`Command '${what}' terminated with exit code ${r.exit}\n`);
  return r.exit;
}

function forceRequested(ctx: CommandContext): boolean {
  return ctx.force || ctx.backendOpts.some((o) => ['--force', '-f', '--overwrite-data-of-peer', '-o', '--do-what-I-say', '--human'].includes(o));
}

export async function runDaemonCommand(ctx0: CommandContext): Promise<number> {
  const ctx = { ...ctx0, command: ALIASES[ctx0.command] ?? ctx0.command };
  const cmd = ctx.command;
  const runDir = runDirFromEnv();
  if (cmd === 'sh-mod-parms') {
    ctx.out(`minor_count=${Math.max(32, ...ctx.config.resources.flatMap((r) => r.hosts.flatMap((h) => [...h.volumes.values()].map((v) => (v.device?.minor ?? 0) + 1))))}\n`);
    return 0;
  }
  const sel = selectResources(ctx);
  if (typeof sel === 'number') return sel;
  const specs: ResourceSpec[] = sel.map((r) => resourceSpec(ctx.config, r, ctx.me));

  switch (cmd) {
    case 'sh-resources':
      ctx.out(specs.map((s) => s.name).join(' ') + '\n');
      return 0;
    case 'sh-resource':
      for (const s of specs) ctx.out(s.name + '\n');
      return 0;
    case 'sh-dev':
      for (const s of specs) for (const v of s.volumes) ctx.out(v.device + '\n');
      return 0;
    case 'sh-minor':
      for (const s of specs) for (const v of s.volumes) ctx.out(v.minor + '\n');
      return 0;
    case 'sh-ll-dev':
      for (const s of specs) for (const v of s.volumes) ctx.out(v.disk + '\n');
      return 0;
    case 'sh-md-dev':
      for (const s of specs) for (const v of s.volumes) ctx.out(v.metaDisk + '\n');
      return 0;
    case 'sh-md-idx':
      for (const s of specs) for (const v of s.volumes) ctx.out(mdIdx(v) + '\n');
      return 0;
    case 'sh-ip':
      for (const s of specs) for (const _v of s.volumes) ctx.out(('ip' in s.me ? s.me.ip : '') + '\n');
      return 0;
    case 'sh-lr-of':
      ctx.err('sh-lower-resource only available in stacked mode\n');
      return 1;
    case 'sh-b-pri': {
      // 8.x: promote where become-primary-on names this host.
      let rc = 0;
      for (const s of specs) {
        const b = s.startup['become-primary-on'];
        if (b === ctx.me.hostname || b === 'both') rc = Math.max(rc, await daemonOp(ctx, runDir, { op: 'primary', res: s.name, force: false }, `drbdd primary ${s.name}`));
      }
      return rc;
    }
    case 'sh-udev':
      for (const s of specs) {
        for (const v of s.volumes) {
          const vnr = ctx.args[0]?.includes('/') ? Number(ctx.args[0].split('/')[1]) : v.vnr;
          if (v.vnr !== vnr) continue;
          ctx.out(`RESOURCE=${s.name}/${v.vnr}\nDEVICE=${v.device.replace(/^\/dev\//, '')}\nDISK=${v.disk.replace(/^\/dev\//, '')}\n`);
        }
      }
      return 0;
    case 'sh-status': {
      const snap = (await snapshot(runDir)) ?? [];
      for (const s of specs) {
        for (const v of s.volumes) {
          const d = snap.find((r) => r.name === s.name)?.devices.find((x) => x.vnr === v.vnr);
          ctx.out(shStatusText(d, s.name, v.minor, v.vnr));
        }
      }
      return 0;
    }
    case 'create-md':
      return createMdCmd(ctx, specs, runDir);
    case 'dump-md':
      return dumpMdCmd(ctx, specs, runDir);
    case 'get-gi':
    case 'show-gi':
      return giCmd(ctx, specs);
    case 'role':
    case 'cstate':
    case 'dstate':
      return stateQuery(ctx, specs, runDir);
    case 'status':
      return statusCmd(ctx, specs, runDir);
    case 'wait-connect':
    case 'wait-con-int':
    case 'wait-sync':
      return waitCmd(ctx, specs, runDir);
  }

  // Commands that change the running state.
  if (['up', 'adjust', 'connect'].includes(cmd)) {
    const bad = specs.find((s) => s.machineError !== undefined);
    if (bad !== undefined) {
      ctx.err(bad.machineError! + '\n');
      return 10;
    }
  }
  if (['up', 'adjust', 'connect'].includes(cmd) && !ctx.dryRun) {
    const warnings = addressWarnings({ ...ctx.config, resources: sel }, ctx.me);
    if (warnings.length > 0) {
      for (const w of warnings) ctx.err(w + '\n');
      return 10;
    }
  }
  let rc = 0;
  for (const s of specs) {
    let req: ControlRequest;
    let what: string;
    switch (cmd) {
      case 'up':
      case 'adjust':
      case 'attach':
      case 'connect':
        req = { op: cmd, spec: s };
        what = dryRunLines(cmd, s).join('; ');
        break;
      case 'primary':
        req = { op: 'primary', res: s.name, force: forceRequested(ctx) };
        what = `drbdd primary ${s.name}${req.force ? ' --force' : ''}`;
        break;
      case 'down':
      case 'detach':
      case 'disconnect':
      case 'secondary':
      case 'outdate':
      case 'invalidate':
      case 'invalidate-remote':
      case 'verify':
      case 'pause-sync':
      case 'resume-sync':
        req = { op: cmd, res: s.name, ...(forceRequested(ctx) ? { force: true } : {}) };
        what = `drbdd ${cmd} ${s.name}`;
        break;
      default:
        ctx.err(`drbdadm: '${cmd}' is not implemented yet\n`);
        return 20;
    }
    if (ctx.dryRun) {
      ctx.out((['up', 'adjust', 'attach', 'connect'].includes(cmd) ? dryRunLines(cmd, s) : [what]).join('\n') + '\n');
      continue;
    }
    if (cmd === 'outdate' || cmd === 'invalidate') {
      // Not running: change the meta data directly, as drbdadm does through drbdmeta.
      const snap = await snapshot(runDir);
      if (snap?.find((r) => r.name === s.name) === undefined) {
        rc = Math.max(rc, await offlineFlags(ctx, s, cmd));
        continue;
      }
    }
    rc = Math.max(rc, await daemonOp(ctx, runDir, req, what));
  }
  return rc;
}

function dryRunLines(cmd: string, s: ResourceSpec): string[] {
  const lines: string[] = [];
  if (cmd !== 'connect') {
    for (const v of s.volumes) lines.push(`drbdd attach ${v.minor} ${v.disk} ${v.metaDisk} ${mdIdx(v)} --al-extents=${v.alExtents} --device=${v.device}`);
  }
  if (cmd !== 'attach' && s.peer !== undefined && 'ip' in s.me) {
    lines.push(`drbdd connect ${s.name} ${s.me.family}:${s.me.ip}:${s.me.port} ${s.peer.family}:${s.peer.ip}:${s.peer.port} --protocol=${s.protocol}`);
  }
  return lines;
}

async function daemonOp(ctx: CommandContext, runDir: string, req: ControlRequest, what: string): Promise<number> {
  const starts = req.op === 'up' || req.op === 'attach' || req.op === 'connect' || req.op === 'adjust';
  let r: ControlResponse;
  if (starts) r = await requestStarting(runDir, req);
  else {
    const x = await request(runDir, req);
    if (x === 'no-daemon') {
      if (req.op === 'down' || req.op === 'disconnect' || req.op === 'detach') return 0; // nothing is up: already down
      const res = 'res' in req ? req.res : '';
      const minor = ctx.config.resources.find((x2) => x2.name === res) ? resourceSpec(ctx.config, ctx.config.resources.find((x2) => x2.name === res)!, ctx.me).volumes[0]?.minor : undefined;
      ctx.err(`${minor ?? res}: Failure: (127) Device minor not allocated\n`);
      ctx.err(`Command '${what}' terminated with exit code 10\n`);
      return 10;
    }
    r = x;
  }
  if (!r.ok && /Unknown resource/.test(r.message) && (req.op === 'down' || req.op === 'detach' || req.op === 'disconnect')) return 0;
  if (!r.ok && /Unknown resource/.test(r.message)) {
    const res = 'res' in req ? req.res : '';
    const rr = ctx.config.resources.find((x) => x.name === res);
    const minor = rr ? resourceSpec(ctx.config, rr, ctx.me).volumes[0]?.minor : undefined;
    ctx.err(`${minor ?? res}: Failure: (127) Device minor not allocated\n`);
    ctx.err(`Command '${what}' terminated with exit code 10\n`);
    return 10;
  }
  return answer(ctx, r, what);
}

async function attachedMinors(runDir: string): Promise<Set<number>> {
  const snap = (await snapshot(runDir)) ?? [];
  return new Set(snap.flatMap((r) => r.devices.filter((d) => d.state.disk !== 'Diskless').map((d) => d.minor)));
}

async function createMdCmd(ctx: CommandContext, specs: ResourceSpec[], runDir: string): Promise<number> {
  const busy = await attachedMinors(runDir);
  for (const s of specs) {
    for (const v of s.volumes) {
      if (ctx.dryRun) {
        ctx.out(`drbdmeta ${v.minor} hbts-v1 ${v.metaDisk} ${mdIdx(v)} create-md (al-extents ${v.alExtents})\n`);
        continue;
      }
      if (busy.has(v.minor)) {
        ctx.err(`Device '${v.minor}' is configured!\n`);
        return 20;
      }
      const t = targetOf(v);
      let layout;
      try {
        layout = computeLayout(v.placement, deviceSize(v.disk), v.placement.kind === 'internal' ? undefined : deviceSize(v.metaDisk));
      } catch (e) {
        ctx.err(`${(e as Error).message}\nOperation refused.\n`);
        return e instanceof HbError && e.code === 'META_NO_DEVICE' ? 20 : 10;
      }
      const existing = await existingMeta(t);
      if (existing !== 'none' && !forceRequested(ctx)) {
        ctx.out(existing === 'ours' ? `You want me to create a heartbeat-ts meta data block.\nThere appears to be one already (${v.metaDisk}, minor ${v.minor}).\n\n` : `Found DRBD meta data of the kernel module on ${v.metaDisk}.\n\n`);
        ctx.out('Do you really want to overwrite the existing meta-data?\n[need to type \'yes\' to confirm] ');
        const a = ctx.readAnswer();
        ctx.out('\n');
        if (a?.trim() !== 'yes') {
          ctx.err('Operation canceled.\n');
          return 10;
        }
      }
      await createMd(t, { alExtents: v.alExtents });
      ctx.out(`initializing activity log\ninitializing bitmap (${layout.bmBytes / 1024} KB) to all zero\nWriting meta data...\nNew drbd meta data block successfully created.\n`);
    }
  }
  return 0;
}

async function dumpMdCmd(ctx: CommandContext, specs: ResourceSpec[], runDir: string): Promise<number> {
  const busy = await attachedMinors(runDir);
  for (const s of specs) {
    for (const v of s.volumes) {
      if (ctx.dryRun) {
        ctx.out(`drbdmeta ${v.minor} hbts-v1 ${v.metaDisk} ${mdIdx(v)} dump-md\n`);
        continue;
      }
      if (busy.has(v.minor)) {
        ctx.err(`Device '${v.minor}' is configured!\n`);
        return 20;
      }
      try {
        const m = await readAllMeta(targetOf(v));
        const now = new Date();
        ctx.out(dumpMdText({ sb: m.pick.sb, layout: m.layout, bitmap: m.bitmap, alExtents: m.pick.sb.flags & 0x80 ? [] : m.alExtents, header: [now.toISOString(), `${os.hostname()}> drbdadm dump-md ${s.name} (minor ${v.minor}, ${v.metaDisk} ${mdIdx(v)})`] }));
      } catch (e) {
        ctx.err(`${(e as Error).message}\n`);
        return 10;
      }
    }
  }
  return 0;
}

async function giCmd(ctx: CommandContext, specs: ResourceSpec[]): Promise<number> {
  for (const s of specs) {
    for (const v of s.volumes) {
      try {
        const { pick } = await readAllMeta(targetOf(v));
        const sb = pick.sb;
        const f = sb.flags;
        const bit = (m: number) => ((f & m) !== 0 ? 1 : 0);
        const u = [sb.current, sb.bitmap, sb.history[0], sb.history[1]].map((x) => x.toString(16).toUpperCase().padStart(16, '0')).join(':');
        ctx.out(`${u}:${bit(0x1)}:${bit(0x10)}:${bit(0x2)}:${bit(0x4)}:${bit(0x8)}:${bit(0x20)}:${bit(0x40)}\n`);
      } catch (e) {
        ctx.err(`${(e as Error).message}\n`);
        return 10;
      }
    }
  }
  return 0;
}

async function stateQuery(ctx: CommandContext, specs: ResourceSpec[], runDir: string): Promise<number> {
  const snap = await snapshot(runDir);
  for (const s of specs) {
    const r = snap?.find((x) => x.name === s.name);
    for (const v of s.volumes) {
      const d = r?.devices.find((x) => x.vnr === v.vnr);
      if (d === undefined) {
        if (ctx.command === 'dstate') {
          // Down: ask the meta data, as drbdadm asks drbdmeta.
          try {
            const m = await readAllMeta(targetOf(v));
            ctx.out(`${diskStateFromFlags(m.pick.sb.flags)}/DUnknown\n`);
            continue;
          } catch {
            /* fall through */
          }
        }
        ctx.out('Unconfigured\n');
        continue;
      }
      ctx.out((ctx.command === 'role' ? roleText(d.state) : ctx.command === 'cstate' ? cstateText(d.state) : dstateText(d.state)) + '\n');
    }
  }
  return 0;
}

async function statusCmd(ctx: CommandContext, specs: ResourceSpec[], runDir: string): Promise<number> {
  const snap = (await snapshot(runDir)) ?? [];
  const named = ctx.args.filter((a) => a !== 'all');
  const shown = snap.filter((r) => specs.some((s) => s.name === r.name));
  let rc = 0;
  for (const n of named) {
    if (!snap.some((r) => r.name === n.split('/')[0])) {
      ctx.err(`${n}: No such resource\n`);
      rc = 10;
    }
  }
  if (shown.length > 0 || named.length === 0) ctx.out(statusText(shown));
  return rc;
}

async function waitCmd(ctx: CommandContext, specs: ResourceSpec[], runDir: string): Promise<number> {
  for (const s of specs) {
    const wfc = Number(s.startup['wfc-timeout'] ?? 0);
    const timeoutArg = ctx.backendOpts.find((o) => o.startsWith('--wfc-timeout='));
    const limit = timeoutArg !== undefined ? Number(timeoutArg.split('=')[1]) : wfc;
    if (ctx.dryRun) {
      ctx.out(`drbdd wait-connect ${s.name} --wfc-timeout=${limit}\n`);
      continue;
    }
    const end = limit > 0 ? Date.now() + limit * 1000 : Infinity;
    for (;;) {
      const r = (await snapshot(runDir))?.find((x) => x.name === s.name);
      const ok = r !== undefined && r.devices.every((d) => (ctx.command === 'wait-sync' ? d.state.conn === 'Connected' : isConnected(d.state.conn)));
      if (ok) break;
      if (r === undefined) {
        ctx.err(`${s.name}: Unknown resource\n`);
        return 10;
      }
      if (Date.now() > end) return 5;
      await new Promise((res) => setTimeout(res, 200));
    }
  }
  return 0;
}

async function offlineFlags(ctx: CommandContext, s: ResourceSpec, cmd: 'outdate' | 'invalidate'): Promise<number> {
  // Through a short attach: the same code path keeps the super block consistent.
  const { AttachedDisk } = await import('./metadata/store.js');
  const { flagsForDiskState } = await import('./daemon/state.js');
  for (const v of s.volumes) {
    try {
      const d = await AttachedDisk.open(targetOf(v));
      if (cmd === 'outdate') {
        if (diskStateFromFlags(d.sb.flags) === 'Inconsistent') {
          await d.close();
          ctx.err(`${v.minor}: State change failed: (-16) Disk state is lower than outdated\n`);
          return 5;
        }
        await d.writeSuper({ flags: flagsForDiskState(d.sb.flags, 'Outdated') });
      } else {
        d.bitmap.setAll();
        await d.writeSuper({ flags: flagsForDiskState(d.sb.flags, 'Inconsistent') | 0x8 });
      }
      await d.close();
    } catch (e) {
      ctx.err(`${(e as Error).message}\n`);
      return 10;
    }
  }
  return 0;
}

/** Reads one line from stdin (create-md's confirmation); undefined at EOF. */
export function readStdinLine(): string | undefined {
  const buf = Buffer.alloc(1);
  let s = '';
  try {
    for (;;) {
      const n = fs.readSync(0, buf, 0, 1, null);
      if (n === 0) return s === '' ? undefined : s;
      const ch = buf.toString('utf8', 0, 1);
      if (ch === '\n') return s;
      s += ch;
    }
  } catch {
    return s === '' ? undefined : s;
  }
}
