import { findLocalHost, type LocalHost } from './local-host.js';
import {
  SECTION_ORDER,
  type Address,
  type Connection,
  type ConnectionHost,
  type ConnectionMesh,
  type Device,
  type DrbdConfig,
  type HostSection,
  type MetaDisk,
  type OptionSection,
  type OptionValue,
  type RawBlock,
  type Resource,
  type Sections,
  type Volume,
} from './model.js';
import { RESERVED_WORDS } from './schema.js';

/**
 * `drbdadm dump` in drbdadm 8.4's layout: legacy forms already translated,
 * resource-level device/disk/meta-disk pushed into each host, addresses with
 * their family, options as written. DRBD 9 constructs (node-id, connection,
 * connection-mesh) are printed in DRBD 9 syntax, which 8.4 has none for.
 */
export interface DumpOptions {
  /** Print the `# file` / `# resource ... on HOST` / `# defined at` comments (default true). */
  readonly comments?: boolean;
  /** Whose view the comments describe. */
  readonly localHost?: LocalHost;
  /** Only these resources (default: global, common and every resource). */
  readonly resources?: readonly string[];
  /** How file names are shown; drbdadm shows absolute paths (errors keep the name as given). */
  readonly showFile?: (file: string) => string;
}

export const shownFile = (opts: DumpOptions, file: string): string => (opts.showFile ? opts.showFile(file) : file);

const PLAIN_WORD = /^[A-Za-z0-9/._-]{1,128}$/;

/** A value as it must be written to read back the same: bare when it is a plain non-keyword word. */
export function quoteValue(text: string): string {
  if (PLAIN_WORD.test(text) && !RESERVED_WORDS.has(text)) return text;
  return '"' + text.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}

function optionText(o: OptionValue): string {
  return o.free === true ? quoteValue(o.text) : o.text;
}

/** Lines indented four spaces a level, as drbdadm prints both dump and dump-xml. */
export class Out {
  readonly lines: string[] = [];
  line(depth: number, text: string): void {
    this.lines.push('    '.repeat(depth) + text);
  }
}

function printOptions(out: Out, depth: number, name: string, opts: OptionSection): void {
  if (opts.size === 0) return;
  out.line(depth, `${name} {`);
  for (const o of opts.values()) {
    out.line(depth + 1, `${o.name.padEnd(16)} ${optionText(o).padStart(3)};`);
  }
  out.line(depth, '}');
}

function printSections(out: Out, depth: number, sections: Sections): void {
  for (const s of SECTION_ORDER) printOptions(out, depth, s, sections[s]);
}

export function formatAddress(a: Address): string {
  return a.family === 'ipv6' ? `${a.family} [${a.ip}]:${a.port}` : `${a.family} ${a.ip}:${a.port}`;
}

export function formatDevice(d: Device): string {
  return d.path !== undefined ? `${quoteValue(d.path)} minor ${d.minor}` : `minor ${d.minor}`;
}

export function formatMetaDisk(m: MetaDisk): string {
  if (m.kind === 'internal') return 'internal';
  return m.index !== undefined ? `${quoteValue(m.device)} [${m.index}]` : quoteValue(m.device);
}

function printVolumeBody(out: Out, depth: number, v: Volume, width: number): void {
  if (v.device) out.line(depth, `${'device'.padEnd(width)} ${formatDevice(v.device)};`);
  if (v.disk !== undefined) out.line(depth, `${'disk'.padEnd(width)} ${quoteValue(v.disk)};`);
  // drbdadm 8.4 pads an external meta-disk to 16 columns even inside a volume; copied for identical output.
  if (v.metaDisk) out.line(depth, `${'meta-disk'.padEnd(v.metaDisk.kind === 'external' ? 16 : width)} ${formatMetaDisk(v.metaDisk)};`);
  printOptions(out, depth, 'disk', v.diskOptions);
}

/** Raw (proxy) blocks keep keywords as written: quote only what would not scan as one word. */
function rawWord(text: string): string {
  return /^[\x21-\x7e]+$/.test(text) && !/[{};"#=]/.test(text) ? text : quoteValue(text);
}

function printRaw(out: Out, depth: number, b: RawBlock): void {
  const head = [b.keyword, ...b.args.map(rawWord)].join(' ');
  if (b.body === undefined) {
    out.line(depth, head + ';');
    return;
  }
  out.line(depth, head + ' {');
  for (const c of b.body) printRaw(out, depth + 1, c);
  out.line(depth, '}');
}

function hostHead(h: HostSection): string {
  if (h.kind === 'floating') return `floating ${formatAddress(h.address!)}`;
  return `${h.kind} ${h.names.map(quoteValue).join(' ')}`;
}

function printHost(out: Out, h: HostSection): void {
  out.line(1, `${hostHead(h)} {`);
  for (const v of h.volumes.values()) {
    if (v.implicit) printVolumeBody(out, 2, v, 16);
    else {
      out.line(2, `volume ${v.vnr} {`);
      printVolumeBody(out, 3, v, 12);
      out.line(2, '}');
    }
  }
  if (h.address !== undefined && h.kind !== 'floating') out.line(2, `${'address'.padEnd(16)} ${formatAddress(h.address)};`);
  if (h.nodeId !== undefined) out.line(2, `${'node-id'.padEnd(16)} ${h.nodeId};`);
  for (const p of h.proxy) printRaw(out, 2, p);
  out.line(1, '}');
}

function connectionHost(out: Out, depth: number, h: ConnectionHost): void {
  let text = `host ${quoteValue(h.name)}`;
  if (h.address !== undefined) text += ` address ${formatAddress(h.address)}`;
  if (h.port !== undefined) text += ` port ${h.port}`;
  if (h.via === undefined) {
    out.line(depth, text + ';');
    return;
  }
  printRaw(out, depth, { ...h.via, keyword: `${text} via`, args: h.via.args });
}

function printConnection(out: Out, c: Connection): void {
  out.line(1, c.name !== undefined ? `connection ${quoteValue(c.name)} {` : 'connection {');
  for (const p of c.paths) {
    if (p.implicit) for (const h of p.hosts) connectionHost(out, 2, h);
    else {
      out.line(2, 'path {');
      for (const h of p.hosts) connectionHost(out, 3, h);
      out.line(2, '}');
    }
  }
  printOptions(out, 2, 'net', c.net);
  printOptions(out, 2, 'disk', c.disk);
  for (const [vnr, d] of c.volumeDisk) {
    out.line(2, `volume ${vnr} {`);
    printOptions(out, 3, 'disk', d);
    out.line(2, '}');
  }
  out.line(1, '}');
}

function printMesh(out: Out, m: ConnectionMesh): void {
  out.line(1, 'connection-mesh {');
  out.line(2, `hosts ${m.hosts.map(quoteValue).join(' ')};`);
  printOptions(out, 2, 'net', m.net);
  out.line(1, '}');
}

export function printResource(out: Out, config: DrbdConfig, r: Resource, opts: DumpOptions): void {
  if (opts.comments !== false) {
    if (opts.localHost !== undefined) {
      const m = findLocalHost(config, r, opts.localHost);
      out.line(0, `# resource ${r.name} on ${opts.localHost.hostname}: ${m.host ? 'not ignored' : 'ignored'}, ${m.stacked ? 'stacked' : 'not stacked'}`);
    }
    out.line(0, `# defined at ${shownFile(opts, r.pos.file)}:${r.pos.line}`);
  }
  out.line(0, `resource ${quoteValue(r.name)} {`);
  for (const h of r.hosts) printHost(out, h);
  for (const c of r.connections) printConnection(out, c);
  for (const m of r.meshes) printMesh(out, m);
  printSections(out, 1, r.sections);
  out.line(0, '}');
  out.line(0, '');
}

/** drbdadm prints global options in a fixed order, not as written. */
const GLOBAL_ORDER = ['disable-ip-verification', 'minor-count', 'dialog-refresh', 'usage-count', 'udev-always-use-vnr', 'cmd-timeout-short', 'cmd-timeout-medium', 'cmd-timeout-long'];

export function globalInOrder(config: DrbdConfig): OptionValue[] {
  const rank = (n: string) => (GLOBAL_ORDER.indexOf(n) + GLOBAL_ORDER.length + 1) % (GLOBAL_ORDER.length + 1);
  return [...config.global.values()].sort((a, b) => rank(a.name) - rank(b.name));
}

export function dumpConfig(config: DrbdConfig, opts: DumpOptions = {}): string {
  const out = new Out();
  if (opts.comments !== false) out.line(0, `# ${shownFile(opts, config.files[0] ?? '')}`);
  const all = opts.resources === undefined;
  if (all && config.global.size > 0) {
    out.line(0, 'global {');
    for (const o of globalInOrder(config)) out.line(1, o.text === '' ? `${o.name};` : `${o.name} ${optionText(o)};`);
    out.line(0, '}');
    out.line(0, '');
  }
  const common = config.common.sections;
  if (all && SECTION_ORDER.some((s) => common[s].size > 0)) {
    out.line(0, 'common {');
    printSections(out, 1, common);
    out.line(0, '}');
    out.line(0, '');
  }
  const wanted = opts.resources === undefined ? config.resources : config.resources.filter((r) => opts.resources!.includes(r.name));
  for (const r of wanted) printResource(out, config, r, opts);
  return out.lines.join('\n') + '\n';
}
