/**
 * drbd-overview: one line per configured minor (drbd-spec §3.7), from drbdd's
 * state and, for a mounted device, df: `  0:r0/0  Connected Primary/Secondary
 * UpToDate/UpToDate C r----- /srv ext4 89M 1.6M 81M 2%`, plus the progress
 * lines while syncing.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { runCommand } from '../shared/cli.js';
import { request } from './daemon/client.js';
import { runDirFromEnv } from './daemon/run.js';
import { progressLines, type DeviceSnapshot } from './daemon/status.js';
import { devicePathFor } from './daemon/expose.js';

function usedBy(devicePath: string): string {
  let target: string;
  try {
    target = fs.realpathSync(devicePathFor(devicePath));
  } catch {
    return '';
  }
  let mounts: string;
  try {
    mounts = fs.readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return '';
  }
  const line = mounts.split('\n').find((l) => l.split(' ')[0] === target || l.split(' ')[0] === devicePath);
  if (line === undefined) return '';
  const [, mnt, fstype] = line.split(' ');
  try {
    const df = execFileSync('df', ['-hP', mnt!], { encoding: 'utf8', timeout: 5000 }).trim().split('\n')[1]!.split(/\s+/);
    return `${mnt} ${fstype} ${df[1]} ${df[2]} ${df[3]} ${df[4]}`;
  } catch {
    return `${mnt} ${fstype}`;
  }
}

export async function overview(): Promise<string> {
  const r = await request(runDirFromEnv(), { op: 'snapshot' }, 10_000);
  if (r === 'no-daemon' || !r.ok) return '';
  const rows: { d: DeviceSnapshot; name: string; path: string }[] = [];
  for (const res of r.resources ?? []) {
    for (const d of res.devices) rows.push({ d, name: res.devices.length > 1 ? `${res.name}/${d.vnr}` : res.name, path: d.device ?? `/dev/drbd${d.minor}` });
  }
  rows.sort((a, b) => a.d.minor - b.d.minor);
  const out: string[] = [];
  const w = Math.max(0, ...rows.map((x) => x.name.length));
  for (const { d, name, path } of rows) {
    const s = d.state;
    const flags = `${s.susp ? 's' : 'r'}-----`;
    const cols = [`${String(d.minor).padStart(3)}:${name.padEnd(w)}`, s.conn, `${s.role}/${s.peer}`, `${s.disk}/${s.pdsk}`, d.protocol ?? ' ', flags, usedBy(path)];
    out.push(cols.join(' ').trimEnd());
    out.push(...progressLines(d));
  }
  return out.length > 0 ? out.join('\n') + '\n' : '';
}

export function run(): Promise<void> {
  return runCommand('drbd-overview', async (argv) => {
    if (argv.includes('-h') || argv.includes('--help')) {
      process.stdout.write('usage: drbd-overview\nOne line per DRBD minor that drbdd runs: minor:resource, cs, ro, ds, protocol, flags, and where it is mounted.\n');
      return 0;
    }
    process.stdout.write(await overview());
    return 0;
  });
}
