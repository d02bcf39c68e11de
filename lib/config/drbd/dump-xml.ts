import { Out, globalInOrder, shownFile, type DumpOptions } from './dump.js';
import {
  SECTION_ORDER,
  type Address,
  type Connection,
  type DrbdConfig,
  type HostSection,
  type OptionSection,
  type Resource,
  type Sections,
  type Volume,
} from './model.js';

/** `drbdadm dump-xml` in drbdadm 8.4's element layout (DRBD 9 parts in drbdadm 9's). */
export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const attr = (name: string, value: string | number): string => ` ${name}="${xmlEscape(String(value))}"`;

function section(out: Out, depth: number, name: string, opts: OptionSection): void {
  if (opts.size === 0) return;
  out.line(depth, `<section${attr('name', name)}>`);
  for (const o of opts.values()) out.line(depth + 1, `<option${attr('name', o.name)}${attr('value', o.text)}/>`);
  out.line(depth, '</section>');
}

function sections(out: Out, depth: number, s: Sections): void {
  for (const name of SECTION_ORDER) section(out, depth, name, s[name]);
}

function address(a: Address): string {
  return `<address${attr('family', a.family)}${attr('port', a.port)}>${xmlEscape(a.ip)}</address>`;
}

function volume(out: Out, depth: number, v: Volume): void {
  out.line(depth, `<volume${attr('vnr', v.vnr)}>`);
  if (v.device) out.line(depth + 1, `<device${attr('minor', v.device.minor)}>${xmlEscape(v.device.path ?? '')}</device>`);
  if (v.disk !== undefined) out.line(depth + 1, `<disk>${xmlEscape(v.disk)}</disk>`);
  if (v.metaDisk) {
    const m = v.metaDisk;
    if (m.kind === 'internal') out.line(depth + 1, '<meta-disk>internal</meta-disk>');
    else out.line(depth + 1, `<meta-disk${m.index !== undefined ? attr('index', m.index) : ''}>${xmlEscape(m.device)}</meta-disk>`);
  }
  section(out, depth + 1, 'disk', v.diskOptions);
  out.line(depth, '</volume>');
}

function host(out: Out, h: HostSection): void {
  const head =
    h.kind === 'floating' ? attr('floating', 1)
    : h.kind === 'stacked-on-top-of' ? attr('stacked-on-top-of', h.names[0]!)
    : attr('name', h.names.join(' '));
  out.line(2, `<host${head}>`);
  for (const v of h.volumes.values()) volume(out, 3, v);
  if (h.address !== undefined) out.line(3, address(h.address));
  if (h.nodeId !== undefined) out.line(3, `<node-id>${h.nodeId}</node-id>`);
  out.line(2, '</host>');
}

function connection(out: Out, c: Connection): void {
  out.line(2, `<connection${c.name !== undefined ? attr('name', c.name) : ''}>`);
  for (const p of c.paths) {
    const d = p.implicit ? 3 : 4;
    if (!p.implicit) out.line(3, '<path>');
    for (const h of p.hosts) {
      const inner = (h.address ? address(h.address) : '') + (h.port !== undefined ? `<port>${h.port}</port>` : '');
      out.line(d, `<host${attr('name', h.name)}>${inner}</host>`);
    }
    if (!p.implicit) out.line(3, '</path>');
  }
  section(out, 3, 'net', c.net);
  section(out, 3, 'disk', c.disk);
  for (const [vnr, d] of c.volumeDisk) {
    out.line(3, `<volume${attr('vnr', vnr)}>`);
    section(out, 4, 'disk', d);
    out.line(3, '</volume>');
  }
  out.line(2, '</connection>');
}

function resource(out: Out, r: Resource, opts: DumpOptions): void {
  out.line(1, `<resource${attr('name', r.name)}${attr('conf-file-line', `${shownFile(opts, r.pos.file)}:${r.pos.line}`)}>`);
  for (const h of r.hosts) host(out, h);
  for (const c of r.connections) connection(out, c);
  for (const m of r.meshes) {
    out.line(2, '<connection-mesh>');
    out.line(3, `<hosts>${m.hosts.map(xmlEscape).join(' ')}</hosts>`);
    section(out, 3, 'net', m.net);
    out.line(2, '</connection-mesh>');
  }
  sections(out, 2, r.sections);
  out.line(1, '</resource>');
}

/** Element names drbdadm uses for the global options it prints as `<name attr="value"/>`. */
const GLOBAL_ATTR: Readonly<Record<string, string>> = { 'minor-count': 'count', 'dialog-refresh': 'refresh' };

export function dumpConfigXml(config: DrbdConfig, opts: DumpOptions = {}): string {
  const out = new Out();
  out.line(0, `<config${attr('file', shownFile(opts, config.files[0] ?? ''))}>`);
  const all = opts.resources === undefined;
  if (all && [...config.global.keys()].some((k) => k !== 'usage-count')) {
    out.line(1, '<global>');
    // drbdadm 8.4 leaves usage-count out of the XML.
    for (const o of globalInOrder(config).filter((g) => g.name !== 'usage-count')) {
      const a = GLOBAL_ATTR[o.name];
      if (o.text === '') out.line(2, `<${o.name}/>`);
      else out.line(2, `<${o.name}${attr(a ?? 'value', o.text)}/>`);
    }
    out.line(1, '</global>');
  }
  const c = config.common.sections;
  if (all && SECTION_ORDER.some((s) => c[s].size > 0)) {
    out.line(1, '<common>');
    sections(out, 2, c);
    out.line(1, '</common>');
  }
  for (const r of config.resources) if (all || opts.resources!.includes(r.name)) resource(out, r, opts);
  out.line(0, '</config>');
  return out.lines.join('\n') + '\n';
}
