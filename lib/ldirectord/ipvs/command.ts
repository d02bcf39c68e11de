/**
 * What the director asks of IPVS, as data; `ipvsadmArgs` prints it in the
 * exact argv shapes the original passes to ipvsadm (spec §6.0), and
 * `applyIpvsCommand` performs it on an in-memory table with ipvsadm's own
 * rules (the user-space backend, and the oracle of the core's tests).
 */
import type { ForwardMethod } from '../../config/ldirectord/model.js';
import {
  findService, serviceKey, storedRealAddress,
  type IpvsDestination, type IpvsService, type IpvsServiceOptions, type IpvsServiceRef, type IpvsTable,
} from './model.js';

export type IpvsCommand =
  | { readonly op: 'add-service'; readonly service: IpvsServiceRef; readonly options: IpvsServiceOptions }
  | { readonly op: 'edit-service'; readonly service: IpvsServiceRef; readonly options: IpvsServiceOptions }
  | { readonly op: 'delete-service'; readonly service: IpvsServiceRef }
  | { readonly op: 'add-real'; readonly service: IpvsServiceRef; readonly real: RealSpec }
  | { readonly op: 'edit-real'; readonly service: IpvsServiceRef; readonly real: RealSpec }
  | { readonly op: 'delete-real'; readonly service: IpvsServiceRef; readonly address: string };

export interface RealSpec {
  readonly address: string;
  readonly forward: ForwardMethod;
  readonly weight: number;
  /** Thresholds are only written by a full add/restore (`-x U -y L`); a quiesce writes weight alone. */
  readonly thresholds?: { readonly upper: number; readonly lower: number };
}

const FORWARD_FLAG: Record<ForwardMethod, string> = { gate: '-g', masq: '-m', ipip: '-i' };

function serviceArgs(s: IpvsServiceRef): string[] {
  if (s.protocol === 'FWM') return s.ipv6Fwmark ? ['-f', s.address, '-6'] : ['-f', s.address];
  return [s.protocol === 'TCP' ? '-t' : '-u', s.address];
}

function optionArgs(s: IpvsServiceRef, o: IpvsServiceOptions): string[] {
  const a: string[] = [];
  if (s.protocol === 'UDP' && o.ops) a.push('-o');
  a.push('-s', o.scheduler);
  if (o.persistentSec !== undefined) {
    a.push('-p', String(o.persistentSec));
    if (o.netmask !== undefined) a.push('-M', o.netmask);
  }
  if (o.schedFlags !== undefined) a.push('-b', o.schedFlags);
  return a;
}

function realArgs(r: RealSpec): string[] {
  const t = r.thresholds ? ['-x', String(r.thresholds.upper), '-y', String(r.thresholds.lower)] : [];
  return [...t, '-r', r.address, FORWARD_FLAG[r.forward], '-w', String(r.weight)];
}

/** ipvsadm argv (without the program name), token for token as the original issues it. */
export function ipvsadmArgs(c: IpvsCommand): string[] {
  switch (c.op) {
    case 'add-service': return ['-A', ...serviceArgs(c.service), ...optionArgs(c.service, c.options)];
    case 'edit-service': return ['-E', ...serviceArgs(c.service), ...optionArgs(c.service, c.options)];
    case 'delete-service': return ['-D', ...serviceArgs(c.service)];
    case 'add-real': return ['-a', ...serviceArgs(c.service), ...realArgs(c.real)];
    case 'edit-real': return ['-e', ...serviceArgs(c.service), ...realArgs(c.real)];
    case 'delete-real': return ['-d', ...serviceArgs(c.service), '-r', c.address];
  }
}

/** ipvsadm's error texts (libipvs), which the backends report. */
export class IpvsCommandError extends Error {
  constructor(readonly command: IpvsCommand, message: string) {
    super(message);
    this.name = 'IpvsCommandError';
  }
}

/**
 * The table after one command, with ipvsadm's rules: `-E` changes only the
 * options it is given (so it cannot remove persistence); `-a`/`-e` with
 * gatewaying or tunnelling store the real under the virtual's port; errors
 * as ipvsadm reports them. Throws IpvsCommandError.
 */
export function applyIpvsCommand(table: IpvsTable, c: IpvsCommand): IpvsTable {
  const existing = findService(table, c.service);
  const others = table.services.filter((s) => serviceKey(s) !== serviceKey(c.service));
  const replace = (s: IpvsService): IpvsTable => ({ services: table.services.map((x) => (x === existing ? s : x)) });
  switch (c.op) {
    case 'add-service':
      if (existing) throw new IpvsCommandError(c, 'Service already exists');
      return { services: [...table.services, { ...c.service, ...c.options, destinations: [] }] };
    case 'edit-service': {
      if (!existing) throw new IpvsCommandError(c, 'No such service');
      const o = c.options;
      return replace({
        ...existing,
        scheduler: o.scheduler,
        ...(o.persistentSec !== undefined ? { persistentSec: o.persistentSec } : {}),
        ...(o.netmask !== undefined ? { netmask: o.netmask } : {}),
        ...(o.schedFlags !== undefined ? { schedFlags: o.schedFlags } : {}),
        ops: existing.ops || o.ops,
      });
    }
    case 'delete-service':
      if (!existing) throw new IpvsCommandError(c, 'No such service');
      return { services: others };
    case 'add-real':
    case 'edit-real': {
      if (!existing) throw new IpvsCommandError(c, 'Service not defined');
      const address = storedRealAddress(c.service, c.real.address, c.real.forward);
      const found = existing.destinations.find((d) => d.address === address);
      const dest: IpvsDestination = {
        address,
        forward: c.real.forward,
        weight: c.real.weight,
        upperThreshold: c.real.thresholds?.upper ?? 0,
        lowerThreshold: c.real.thresholds?.lower ?? 0,
      };
      if (c.op === 'add-real') {
        if (found) throw new IpvsCommandError(c, 'Destination already exists');
        return replace({ ...existing, destinations: [...existing.destinations, dest] });
      }
      if (!found) throw new IpvsCommandError(c, 'No such destination');
      return replace({ ...existing, destinations: existing.destinations.map((d) => (d === found ? dest : d)) });
    }
    case 'delete-real': {
      if (!existing) throw new IpvsCommandError(c, 'Service not defined');
      const found = existing.destinations.find((d) => d.address === c.address);
      if (!found) throw new IpvsCommandError(c, 'No such destination');
      return replace({ ...existing, destinations: existing.destinations.filter((d) => d !== found) });
    }
  }
}
