/**
 * Pure rules for STONITH configuration: which ha.cf lines give this node a
 * device, how Heartbeat-1 style positional parameters (`stonith_host` tails,
 * the first line of a `stonith TYPE FILE` file, `stonith -p`) become named
 * parameters, and host lists.
 */
import type { HaCf } from '../config/hacf/model.js';

/** A device this node may use, from one ha.cf line. */
export interface DeviceSpec {
  /** ha.cf line number (for messages). */
  readonly line: number;
  readonly type: string;
  /** Positional parameters inline (`stonith_host`), or the file holding them (`stonith`). */
  readonly source: { readonly kind: 'inline'; readonly params: string } | { readonly kind: 'file'; readonly file: string };
}

/**
 * The devices that apply to `localNode`: every `stonith TYPE FILE` line and
 * every `stonith_host` line naming this node or `*`, in file order.
 */
export function deviceSpecs(hacf: Pick<HaCf, 'stonith' | 'stonithHost'>, localNode: string): DeviceSpec[] {
  const me = localNode.toLowerCase();
  const out: DeviceSpec[] = [];
  for (const s of hacf.stonith) out.push({ line: s.line, type: s.type, source: { kind: 'file', file: s.configFile } });
  for (const h of hacf.stonithHost) {
    if (h.host !== '*' && h.host !== me) continue;
    out.push({ line: h.line, type: h.type, source: { kind: 'inline', params: h.params } });
  }
  return out.sort((a, b) => a.line - b.line);
}

const DELIMS = /[ \t\n\r\f]/;

/**
 * Heartbeat-1 compatibility: the values are given in the order of the
 * device's parameter names, separated by blanks; the last name takes the
 * rest of the line, blanks and all. Undefined when a value is missing.
 */
export function positionalParams(names: readonly string[], text: string): Map<string, string> | undefined {
  const out = new Map<string, string>();
  let rest = text;
  for (let i = 0; i < names.length; i++) {
    rest = rest.replace(/^[ \t\n\r\f]+/, '');
    if (rest === '') return undefined;
    if (i === names.length - 1) {
      out.set(names[i]!, rest);
      rest = '';
    } else {
      const m = DELIMS.exec(rest);
      const end = m === null ? rest.length : m.index;
      out.set(names[i]!, rest.slice(0, end));
      rest = rest.slice(end);
    }
  }
  return out;
}

/**
 * A `stonith TYPE FILE` file: its first line that is neither empty nor a
 * `#` comment holds the positional parameters. Undefined when there is none.
 */
export function configFileLine(text: string): string | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    return line;
  }
  return undefined;
}

/** `name=value` words (the `stonith` command's last form); undefined on a word without `=` or an empty name. */
export function namedParams(words: readonly string[]): Map<string, string> | undefined {
  const out = new Map<string, string>();
  for (const w of words) {
    const i = w.indexOf('=');
    if (i <= 0) return undefined;
    out.set(w.slice(0, i), w.slice(i + 1));
  }
  return out;
}

/** A `hostlist` value: names separated by blanks or commas. */
export function hostList(text: string): string[] {
  return text.split(/[\s,]+/).filter((h) => h !== '');
}

/** `external/NAME` → NAME; undefined for the built-in types. */
export function externalName(type: string): string | undefined {
  if (!type.startsWith('external/')) return undefined;
  const name = type.slice('external/'.length);
  return name !== '' && !name.includes('/') && name !== '.' && name !== '..' ? name : undefined;
}

/** Built-in device types (and `external/NAME` for any program in the plugin folders). */
export const BUILTIN_TYPES = ['meatware', 'null', 'ssh'] as const;

export function isKnownType(type: string): boolean {
  return (BUILTIN_TYPES as readonly string[]).includes(type) || externalName(type) !== undefined;
}

/** The identification the original prints for a type, as far as it is known without running anything. */
export function deviceIdOf(type: string): string {
  switch (type) {
    case 'null':
      return 'NULL STONITH device';
    case 'ssh':
      return 'SSH STONITH device';
    case 'meatware':
      return 'Meatware STONITH device';
    default:
      return type;
  }
}

/** Whether `host` is in `hosts` (case-insensitive, as the plugins compare). */
export function listsHost(hosts: readonly string[], host: string): boolean {
  const h = host.toLowerCase();
  return hosts.some((x) => x.toLowerCase() === h);
}

/** Where cluster-glue installs external plugins (Debian and upstream layouts). */
export const DEFAULT_EXTERNAL_DIRS = [
  '/usr/lib/stonith/plugins/external',
  '/usr/lib/x86_64-linux-gnu/stonith/plugins/external',
  '/usr/lib/aarch64-linux-gnu/stonith/plugins/external',
  '/usr/lib64/stonith/plugins/external',
  '/usr/local/lib/stonith/plugins/external',
];

/** The original's folder of meatware FIFOs (HA_VARRUNDIR). */
export const DEFAULT_MEATWARE_DIR = '/var/run';
