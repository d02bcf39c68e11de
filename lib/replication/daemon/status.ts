/**
 * Status texts (drbd-spec §3): the 8.4 /proc/drbd layout, `drbdadm status`,
 * role/cstate/dstate one-liners. Pure renderers over a snapshot.
 */
import { isConnected, isSyncing, type DeviceState } from './state.js';

export const PROC_VERSION = '8.4.11';
export const PROC_API = 'api:1/proto:86-101';

export interface Counters {
  ns: number; nr: number; dw: number; dr: number; al: number; bm: number; lo: number; pe: number; ua: number; ap: number; ep: number; oos: number;
}

export interface DeviceSnapshot {
  readonly resource: string;
  readonly vnr: number;
  readonly minor: number;
  /** The configured device path (`/dev/drbd0`). */
  readonly device?: string;
  readonly state: DeviceState;
  /** Protocol letter when a net config is present. */
  readonly protocol?: string;
  readonly counters: Counters;
  /** Resync progress: KiB left and total. */
  readonly sync?: { readonly leftKiB: number; readonly totalKiB: number; readonly speedKiB: number; readonly avgKiB: number; readonly wantKiB?: number; readonly etaSec: number };
  readonly flags?: { readonly aftrIsp?: boolean; readonly peerIsp?: boolean; readonly userIsp?: boolean };
}

export interface ResourceSnapshot {
  readonly name: string;
  readonly peerName?: string;
  readonly devices: readonly DeviceSnapshot[];
}

const thousands = (n: number): string => Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');

function hms(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** The progress bar and `sync'ed:` line of /proc/drbd (per-mille math as drbd_proc.c). */
export function progressLines(d: DeviceSnapshot): string[] {
  const s = d.sync;
  if (s === undefined || !isSyncing(d.state.conn) || d.state.conn.startsWith('Paused')) return [];
  // drbd_get_syncer_progress: bit counts (4 KiB each) shifted by 10, +1 against division by zero.
  const left = Math.floor(Math.floor(s.leftKiB / 4) / 1024);
  const total = 1 + Math.floor(Math.floor(s.totalKiB / 4) / 1024);
  const pm = Math.max(0, 1000 - Math.floor((left * 1000) / total));
  const x = Math.floor(pm / 50);
  const bar = '='.repeat(Math.max(0, x - 1)) + '>' + '.'.repeat(20 - x);
  const verify = d.state.conn === 'VerifyS' || d.state.conn === 'VerifyT';
  const unit = s.totalKiB > 4 * 1024 * 1024 ? 'M' : 'K';
  const div = unit === 'M' ? 1024 : 1;
  const pct = `${String(Math.floor(pm / 10)).padStart(3, ' ')}.${pm % 10}%`;
  const line1 = `\t[${bar}] ${verify ? 'verified:' : "sync'ed:"}${pct} (${Math.floor(s.leftKiB / div)}/${Math.floor(s.totalKiB / div)})${unit}`;
  const want = s.wantKiB !== undefined ? ` want: ${thousands(s.wantKiB)}` : '';
  const line2 = `\tfinish: ${hms(s.etaSec)} speed: ${thousands(s.speedKiB)} (${thousands(s.avgKiB)})${want} K/sec`;
  return [line1, line2];
}

/** /proc/drbd in the 8.4 layout. */
export function procDrbdText(devices: readonly DeviceSnapshot[], build: string): string {
  const out = [`version: ${PROC_VERSION} (${PROC_API})`, build];
  const sorted = [...devices].sort((a, b) => a.minor - b.minor);
  let prev = -1;
  for (const d of sorted) {
    if (d.minor !== prev + 1) out.push('');
    prev = d.minor;
    const st = d.state;
    const m = String(d.minor).padStart(2, ' ');
    if (st.conn === 'StandAlone' && st.disk === 'Diskless' && st.role === 'Secondary') {
      out.push(`${m}: cs:Unconfigured`);
      continue;
    }
    const flags = `${st.susp ? 's' : 'r'}${d.flags?.aftrIsp ? 'a' : '-'}${d.flags?.peerIsp ? 'p' : '-'}${d.flags?.userIsp ? 'u' : '-'}--`;
    out.push(`${m}: cs:${st.conn} ro:${st.role}/${st.peer} ds:${st.disk}/${st.pdsk} ${d.protocol ?? ' '} ${flags}`);
    const c = d.counters;
    out.push(`    ns:${c.ns} nr:${c.nr} dw:${c.dw} dr:${c.dr} al:${c.al} bm:${c.bm} lo:${c.lo} pe:${c.pe} ua:${c.ua} ap:${c.ap} ep:${c.ep} wo:f oos:${c.oos}`);
    out.push(...progressLines(d));
  }
  return out.join('\n') + '\n';
}

/** `drbdadm status` (8.4 utils >= 8.9 text form: the peer is the literal `peer`... we print its host name as 9 does). */
export function statusText(resources: readonly ResourceSnapshot[]): string {
  if (resources.length === 0) return '# No currently configured DRBD found.\n';
  const out: string[] = [];
  for (const r of resources) {
    const first = r.devices[0];
    const role = first?.state.role ?? 'Secondary';
    const susp = r.devices.some((d) => d.state.susp) ? ' suspended:user' : '';
    out.push(`${r.name} role:${role}${susp}`);
    const single = r.devices.length === 1 && first!.vnr === 0;
    for (const d of r.devices) out.push(`  ${single ? '' : `volume:${d.vnr} `}disk:${d.state.disk}`);
    if (first !== undefined) {
      const peer = r.peerName ?? 'peer';
      const c = first.state.conn;
      if (!isConnected(c)) out.push(`  ${peer} connection:${c === 'WFConnection' || c === 'WFReportParams' ? 'Connecting' : c}`);
      else {
        out.push(`  ${peer} role:${first.state.peer}`);
        for (const d of r.devices) {
          const repl = d.state.conn === 'Connected' ? '' : `replication:${d.state.conn} `;
          const done = d.sync !== undefined && isSyncing(d.state.conn) ? ` done:${(100 * (1 - d.sync.leftKiB / Math.max(1, d.sync.totalKiB))).toFixed(2)}` : '';
          out.push(`    ${single ? '' : `volume:${d.vnr} `}${repl}peer-disk:${d.state.pdsk}${done}`);
        }
      }
    }
    out.push('');
  }
  return out.join('\n') + '\n';
}

export const roleText = (s: DeviceState): string => `${s.role}/${s.peer}`;
export const dstateText = (s: DeviceState): string => `${s.disk}/${s.pdsk}`;
export const cstateText = (s: DeviceState): string => s.conn;

/** `drbdadm sh-status` shell-variable block for one device (consumed by drbd-overview). */
export function shStatusText(d: DeviceSnapshot | undefined, resource: string, minor: number, vnr: number): string {
  const lines = [`_minor=${minor}`, `_res_name=${resource}`, `_volume=${vnr}`];
  if (d === undefined) {
    lines.push('_known=Unconfigured', '_cstate=Unconfigured', '_role=', '_peer=', '_disk=', '_pdsk=');
  } else {
    const s = d.state;
    lines.push('_known=Configured', `_cstate=${s.conn}`, `_role=${s.role}`, `_peer=${s.peer}`, `_disk=${s.disk}`, `_pdsk=${s.pdsk}`);
  }
  lines.push(`_flags_susp=${d?.state.susp ? 1 : ''}`, `_flags_aftr_isp=${d?.flags?.aftrIsp ? 1 : ''}`, `_flags_peer_isp=${d?.flags?.peerIsp ? 1 : ''}`, `_flags_user_isp=${d?.flags?.userIsp ? 1 : ''}`);
  const pct = d?.sync !== undefined && isSyncing(d.state.conn) ? (100 * (1 - d.sync.leftKiB / Math.max(1, d.sync.totalKiB))).toFixed(1) : '';
  lines.push(`_resynced_percent=${pct}`, '_sh_status_process');
  return lines.join('\n') + '\n';
}
