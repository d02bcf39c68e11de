import type { ConfigWarning, SourcePos } from '../../shared/errors.js';
import { didYouMean } from '../../shared/suggest.js';
import { diag, fail, showToken, type DrbdDiagnosticCode } from './errors.js';
import type { Token } from './lexer.js';
import {
  emptySections,
  type Address,
  type AddressFamily,
  type CommonSection,
  type Connection,
  type ConnectionHost,
  type ConnectionMesh,
  type Device,
  type DrbdConfig,
  type HostSection,
  type MetaDisk,
  type OptionSection,
  type OptionValue,
  type Path,
  type RawBlock,
  type Resource,
  type SectionName,
  type Volume,
} from './model.js';
import {
  DISK_OPTIONS,
  GLOBAL_OPTIONS,
  NEGATED_SWITCHES,
  NET_OPTIONS,
  SECTION_OPTIONS,
  SYNCER_IGNORED,
  SYNCER_MAP,
  TOP_LEVEL_KEYWORDS,
  type OptionSpec,
} from './schema.js';
import type { Statement } from './tree.js';
import { parseNumber } from './units.js';

type MutableSections = { [K in SectionName]: OptionSection };

const pos = (t: Token): SourcePos => ({ file: t.file, line: t.line });
const isWord = (t: Token | undefined, text?: string): boolean => t !== undefined && t.kind === 'word' && (text === undefined || t.text === text);

function expectedSemicolon(after: string, got: Token): never {
  fail('DRBD_EXPECTED_SEMICOLON', got.file, got.line, `';' expected after ${showToken(after)}, but got ${showToken(got.text)}`, got.text);
}

function noBody(st: Statement): void {
  if (st.body !== undefined) {
    fail('DRBD_UNEXPECTED_TOKEN', st.keyword.file, st.keyword.line, `${showToken(st.keyword.text)} takes a value, not a { } section`, st.keyword.text);
  }
}

function needBody(st: Statement): readonly Statement[] {
  if (st.body === undefined) {
    const t = st.args[st.args.length - 1] ?? st.keyword;
    fail('DRBD_EXPECTED_BLOCK', t.file, t.line, `'{' expected after ${showToken(st.keyword.text)}`, t.text);
  }
  return st.body;
}

function unknownKeyword(t: Token, expected: readonly string[], code: DrbdDiagnosticCode = 'DRBD_UNKNOWN_KEYWORD'): never {
  if (t.kind === 'word' && t.text === 'include') {
    fail('DRBD_INCLUDE', t.file, t.line, 'include is only allowed at the top level, outside every section', 'include');
  }
  const hint = t.kind === 'word' ? didYouMean(t.text, expected) : undefined;
  // Long option tables are not worth listing; a close match is.
  const list = expected.length > 12 ? 'a known option' : expected.join(' | ');
  fail(code, t.file, t.line, `${showToken(t.text)} is not valid here; expected ${list}${hint ? ` (did you mean '${hint}'?)` : ''}`, t.text);
}

/** Turns the statement tree of drbd.conf (any dialect) into the modern model. */
export class ConfigBuilder {
  private readonly warnings: ConfigWarning[] = [];
  private global: OptionSection | undefined;
  private common: CommonSection | undefined;
  private readonly resources: Resource[] = [];

  constructor(private readonly files: readonly string[]) {}

  warn(code: DrbdDiagnosticCode, t: Token | SourcePos, message: string, token?: string): void {
    this.warnings.push(diag(code, t.file, t.line, message, token));
  }

  build(statements: readonly Statement[]): DrbdConfig {
    for (const st of statements) this.topLevel(st);
    applySyncGroups(this.resources, this);
    checkConflicts(this.resources);
    return {
      files: this.files,
      global: this.global ?? new Map(),
      common: this.common ?? { sections: emptySections() },
      resources: this.resources,
      warnings: this.warnings,
    };
  }

  private topLevel(st: Statement): void {
    const kw = st.keyword;
    const expected = TOP_LEVEL_KEYWORDS;
    if (kw.kind !== 'word') unknownKeyword(kw, expected);
    switch (kw.text) {
      case 'global':
        if (this.global !== undefined) fail('DRBD_DUPLICATE', kw.file, kw.line, 'more than one global section', 'global');
        this.global = this.globalSection(st);
        return;
      case 'common': {
        if (this.common !== undefined) fail('DRBD_DUPLICATE', kw.file, kw.line, 'more than one common section', 'common');
        if (st.args[0] !== undefined) expectedBlockOpen(kw, st.args[0]);
        const sections = emptySections();
        for (const s of needBody(st)) {
          if (!this.sectionStatement(s, sections, 'common')) unknownKeyword(s.keyword, ['protocol', 'options', 'net', 'disk', 'syncer', 'startup', 'handlers']);
        }
        this.common = { sections, pos: pos(kw) };
        return;
      }
      case 'resource':
        this.resources.push(this.resource(st));
        return;
      case 'include':
        // Includes are expanded while reading; one left here sat in a section body.
        fail('DRBD_INCLUDE', kw.file, kw.line, 'include is only allowed at the top level, outside every section', 'include');
      default:
        if (/^require-drbd-module-version-(eq|ne|gt|ge|lt|le)$/.test(kw.text)) {
          noBody(st);
          this.warn('DRBD_IGNORED', kw, `${kw.text} ignored: there is no DRBD kernel module to compare with`, kw.text);
          return;
        }
        unknownKeyword(kw, expected);
    }
  }

  private globalSection(st: Statement): OptionSection {
    const out: OptionSection = new Map();
    for (const s of needBody(st)) {
      const kw = s.keyword;
      if (isWord(kw, 'disable-io-hints')) {
        this.warn('DRBD_LEGACY', kw, 'disable-io-hints is a DRBD 0.7 option with no effect today; ignored', kw.text);
        continue;
      }
      const spec = kw.kind === 'word' ? GLOBAL_OPTIONS[kw.text] : undefined;
      if (spec === undefined) unknownKeyword(kw, Object.keys(GLOBAL_OPTIONS), 'DRBD_UNKNOWN_OPTION');
      this.setOption(out, parseOption(s, spec, 'global'));
    }
    return out;
  }

  private setOption(section: OptionSection, v: OptionValue): void {
    if (section.has(v.name)) this.warn('DRBD_DUPLICATE', v.pos, `${v.name} given twice in one section; the later value wins`, v.name);
    section.delete(v.name);
    section.set(v.name, v);
  }

  /** A statement valid in both common and resource: an option section or a legacy resource-level option. */
  private sectionStatement(st: Statement, sections: MutableSections, where: 'common' | 'resource', legacy?: LegacyState): boolean {
    const kw = st.keyword;
    if (kw.kind !== 'word') return false;
    switch (kw.text) {
      case 'options':
      case 'net':
      case 'disk':
      case 'startup':
      case 'handlers':
        if (st.body === undefined) return false; // `disk /dev/x;` at resource level
        if (st.args[0] !== undefined) expectedBlockOpen(kw, st.args[0]);
        for (const s of st.body) this.optionInSection(s, kw.text, sections, legacy);
        return true;
      case 'syncer':
        if (st.args[0] !== undefined) expectedBlockOpen(kw, st.args[0]);
        for (const s of needBody(st)) this.syncerOption(s, sections, legacy);
        return true;
      case 'protocol': {
        noBody(st);
        const v = parseOption(st, NET_OPTIONS.protocol!, where);
        const net = sections.net;
        net.delete('protocol');
        // 8.3 wrote protocol outside net; 8.4 moves it in and prints it first.
        const rest = [...net.values()];
        net.clear();
        net.set('protocol', v);
        for (const o of rest) net.set(o.name, o);
        return true;
      }
      case 'incon-degr-cmd': {
        noBody(st);
        const v = parseOption(st, { type: 'string' }, where);
        this.warn('DRBD_LEGACY', kw, `incon-degr-cmd is DRBD 0.7 syntax; read as handlers { pri-on-incon-degr ...; }`, kw.text);
        this.setOption(sections.handlers, { ...v, name: 'pri-on-incon-degr' });
        return true;
      }
      case 'proxy':
        return false;
      default:
        return false;
    }
  }

  private optionInSection(st: Statement, section: SectionName, sections: MutableSections, legacy?: LegacyState): void {
    const kw = st.keyword;
    const table = SECTION_OPTIONS[section];
    if (kw.kind === 'word') {
      const neg = NEGATED_SWITCHES[kw.text];
      if (neg !== undefined && neg.section === section) {
        noBody(st);
        if (st.args[0] !== undefined) expectedSemicolon(kw.text, st.args[0]);
        this.setOption(sections[section], { name: neg.name, text: 'no', value: false, pos: pos(kw) });
        return;
      }
      if (section === 'net' && kw.text === 'on-disconnect') {
        noBody(st);
        const v = st.args[0];
        if (v === undefined || !['reconnect', 'stand_alone', 'freeze_io'].includes(v.text)) {
          fail('DRBD_BAD_VALUE', kw.file, (v ?? kw).line, `on-disconnect takes reconnect | stand_alone | freeze_io`, v?.text ?? kw.text);
        }
        if (st.args[1] !== undefined) expectedSemicolon(v.text, st.args[1]);
        this.warn('DRBD_LEGACY', kw, `on-disconnect is DRBD 0.7 syntax and has no modern equivalent (DRBD always reconnects); ignored`, kw.text);
        return;
      }
      if (section === 'disk' && kw.text === 'on-io-error' && isWord(st.args[0], 'panic')) {
        noBody(st);
        if (st.args[1] !== undefined) expectedSemicolon('panic', st.args[1]);
        this.warn('DRBD_LEGACY', kw, 'on-io-error panic is DRBD 0.7 syntax; read as call-local-io-error with a local-io-error handler that halts the node', 'panic');
        this.setOption(sections.disk, { name: 'on-io-error', text: 'call-local-io-error', value: 'call-local-io-error', pos: pos(kw) });
        if (!sections.handlers.has('local-io-error')) {
          const cmd = 'echo o > /proc/sysrq-trigger ; halt -f';
          sections.handlers.set('local-io-error', { name: 'local-io-error', text: cmd, value: cmd, free: true, pos: pos(kw) });
        }
        return;
      }
      if (section === 'disk' && kw.text === 'use-bmbv') {
        noBody(st);
        this.warn('DRBD_LEGACY', kw, 'use-bmbv is obsolete (8.3) and ignored', kw.text);
        return;
      }
      if (section === 'handlers' && kw.text === 'outdate-peer') {
        const v = parseOption(st, { type: 'string' }, section);
        this.warn('DRBD_LEGACY', kw, 'outdate-peer is the old name of the fence-peer handler', kw.text);
        this.setOption(sections.handlers, { ...v, name: 'fence-peer' });
        return;
      }
    }
    const spec = kw.kind === 'word' ? table[kw.text] : undefined;
    if (spec === undefined) unknownKeyword(kw, Object.keys(table), 'DRBD_UNKNOWN_OPTION');
    const v = parseOption(st, spec, section);
    // fencing lives in disk for 8.4 and in net for 9; the model keeps the 8.4 place.
    const target = section === 'net' && v.name === 'fencing' ? 'disk' : section;
    this.setOption(sections[target], v);
    if (legacy && section === 'disk' && v.name === 'resync-after') legacy.hasResyncAfter = true;
  }

  private syncerOption(st: Statement, sections: MutableSections, legacy?: LegacyState): void {
    const kw = st.keyword;
    if (isWord(kw, 'group')) {
      noBody(st);
      const g = st.args[0];
      if (g === undefined || !/^\d+$/.test(g.text)) fail('DRBD_BAD_NUMBER', kw.file, (g ?? kw).line, `group takes a number`, g?.text ?? kw.text);
      if (st.args[1] !== undefined) expectedSemicolon(g.text, st.args[1]);
      this.warn('DRBD_LEGACY', kw, 'syncer { group } is DRBD 0.7 syntax; read as resync-after ordering between groups', kw.text);
      if (legacy) legacy.group = Number(g.text);
      return;
    }
    if (kw.kind === 'word' && SYNCER_IGNORED.has(kw.text)) {
      this.warn('DRBD_LEGACY', kw, `syncer option ${kw.text} is obsolete and ignored`, kw.text);
      return;
    }
    if (isWord(kw, 'use-rle') && st.args.length === 0) {
      this.setOption(sections.net, { name: 'use-rle', text: 'yes', value: true, pos: pos(kw) });
      return;
    }
    const to = kw.kind === 'word' ? SYNCER_MAP[kw.text] : undefined;
    if (to === undefined) unknownKeyword(kw, Object.keys(SYNCER_MAP), 'DRBD_UNKNOWN_OPTION');
    const spec = SECTION_OPTIONS[to.section][to.name]!;
    const v = parseOption(st, spec, 'syncer');
    if (kw.text === 'rate') this.warn('DRBD_LEGACY', kw, 'syncer { rate } is DRBD 8.3 syntax; read as disk { resync-rate }', kw.text);
    this.setOption(sections[to.section], { ...v, name: to.name });
    if (legacy && to.name === 'resync-after') legacy.hasResyncAfter = true;
  }

  private resource(st: Statement): Resource {
    const kw = st.keyword;
    const nameTok = st.args[0];
    if (nameTok === undefined) fail('DRBD_MISSING', kw.file, kw.line, 'resource needs a name', 'resource');
    if (st.args[1] !== undefined) expectedBlockOpen(nameTok, st.args[1]);
    const name = nameTok.text;
    if (this.resources.some((r) => r.name === name)) {
      fail('DRBD_DUPLICATE', nameTok.file, nameTok.line, `resource ${showToken(name)} is defined twice`, name);
    }
    const sections = emptySections();
    const legacy: LegacyState = { hasResyncAfter: false };
    const hosts: HostSection[] = [];
    const connections: Connection[] = [];
    const meshes: ConnectionMesh[] = [];
    const volumes = new Map<number, Volume>();
    const ignoreOn: string[] = [];
    const expected = ['protocol', 'on', 'floating', 'stacked-on-top-of', 'volume', 'device', 'disk', 'meta-disk', 'options', 'net', 'syncer', 'startup', 'handlers', 'connection', 'connection-mesh', 'ignore-on', 'skip'];
    for (const s of needBody(st)) {
      if (this.sectionStatement(s, sections, 'resource', legacy)) continue;
      const k = s.keyword;
      if (k.kind !== 'word') unknownKeyword(k, expected);
      switch (k.text) {
        case 'on':
        case 'floating':
        case 'stacked-on-top-of':
          hosts.push(this.hostSection(s));
          break;
        case 'volume': {
          const v = this.volume(s);
          if (volumes.has(v.vnr)) fail('DRBD_DUPLICATE', k.file, k.line, `volume ${v.vnr} defined twice`, String(v.vnr));
          volumes.set(v.vnr, v);
          break;
        }
        case 'device':
        case 'disk':
        case 'meta-disk':
        case 'flexible-meta-disk':
          this.volumeStatement(s, implicitVolume(volumes, k));
          break;
        case 'connection':
          connections.push(this.connection(s));
          break;
        case 'connection-mesh':
          meshes.push(this.mesh(s));
          break;
        case 'ignore-on':
          noBody(s);
          for (const a of s.args) ignoreOn.push(a.text);
          this.warn('DRBD_LEGACY', k, 'ignore-on is deprecated', k.text);
          break;
        default:
          unknownKeyword(k, expected);
      }
    }
    const res: Resource = { name, pos: pos(kw), sections, hosts, connections, meshes, volumes, ignoreOn, ...(legacy.group !== undefined ? { syncGroup: legacy.group } : {}) };
    (res as { hasResyncAfter?: boolean }).hasResyncAfter = legacy.hasResyncAfter;
    finishResource(res);
    return res;
  }

  private hostSection(st: Statement): HostSection {
    const kw = st.keyword;
    const kind = kw.text as HostSection['kind'];
    let names: string[] = [];
    let address: Address | undefined;
    if (kind === 'floating') {
      address = parseAddress(kw, st.args);
    } else {
      names = st.args.map((a) => a.text);
      if (names.length === 0) fail('DRBD_MISSING', kw.file, kw.line, `${kw.text} needs a ${kind === 'on' ? 'host name' : 'resource name'}`, kw.text);
      if (kind === 'stacked-on-top-of' && names.length > 1) expectedBlockOpen(st.args[0]!, st.args[1]!);
    }
    const host: HostSection = { kind, names, volumes: new Map(), proxy: [], pos: pos(kw), ...(address ? { address } : {}) };
    if (kind === 'floating' && st.body === undefined) return host;
    const expected = ['device', 'disk', 'meta-disk', 'flexible-meta-disk', 'address', 'node-id', 'volume', 'proxy'];
    for (const s of needBody(st)) {
      const k = s.keyword;
      if (k.kind !== 'word') unknownKeyword(k, expected);
      switch (k.text) {
        case 'address':
          noBody(s);
          if (kind === 'floating') fail('DRBD_UNEXPECTED_TOKEN', k.file, k.line, 'a floating section has its address in its head', 'address');
          host.address = parseAddress(k, s.args);
          break;
        case 'node-id':
          noBody(s);
          host.nodeId = parseSmallInt(s, 0, 31);
          break;
        case 'volume': {
          const v = this.volume(s);
          if (host.volumes.has(v.vnr)) fail('DRBD_DUPLICATE', k.file, k.line, `volume ${v.vnr} defined twice`, String(v.vnr));
          host.volumes.set(v.vnr, v);
          break;
        }
        case 'device':
        case 'disk':
        case 'meta-disk':
        case 'flexible-meta-disk':
          this.volumeStatement(s, implicitVolume(host.volumes, k));
          break;
        case 'proxy':
          host.proxy.push(rawBlock(s));
          break;
        default:
          unknownKeyword(k, expected);
      }
    }
    return host;
  }

  private volume(st: Statement): Volume {
    const kw = st.keyword;
    const n = st.args[0];
    if (n === undefined || !/^\d+$/.test(n.text) || Number(n.text) > 65535) {
      fail('DRBD_BAD_NUMBER', kw.file, (n ?? kw).line, 'volume needs a number 0..65535', n?.text ?? kw.text);
    }
    if (st.args[1] !== undefined) expectedBlockOpen(n, st.args[1]);
    const v: Volume = { vnr: Number(n.text), implicit: false, diskOptions: new Map(), pos: pos(kw) };
    for (const s of needBody(st)) {
      const k = s.keyword;
      if (isWord(k, 'disk') && s.body !== undefined) {
        for (const o of s.body) {
          const spec = o.keyword.kind === 'word' ? DISK_OPTIONS[o.keyword.text] : undefined;
          const neg = o.keyword.kind === 'word' ? NEGATED_SWITCHES[o.keyword.text] : undefined;
          if (neg !== undefined && neg.section === 'disk') {
            this.setOption(v.diskOptions, { name: neg.name, text: 'no', value: false, pos: pos(o.keyword) });
            continue;
          }
          if (spec === undefined) unknownKeyword(o.keyword, Object.keys(DISK_OPTIONS), 'DRBD_UNKNOWN_OPTION');
          this.setOption(v.diskOptions, parseOption(o, spec, 'disk'));
        }
        continue;
      }
      if (k.kind === 'word' && ['device', 'disk', 'meta-disk', 'flexible-meta-disk'].includes(k.text)) {
        this.volumeStatement(s, v);
        continue;
      }
      unknownKeyword(k, ['device', 'disk', 'meta-disk', 'flexible-meta-disk']);
    }
    return v;
  }

  private volumeStatement(st: Statement, v: Volume): void {
    noBody(st);
    const kw = st.keyword;
    switch (kw.text) {
      case 'device':
        v.device = parseDevice(kw, st.args);
        return;
      case 'disk': {
        const d = st.args[0];
        if (d === undefined) fail('DRBD_MISSING', kw.file, kw.line, 'disk needs a device path (or none)', 'disk');
        if (st.args[1] !== undefined) expectedSemicolon(d.text, st.args[1]);
        v.disk = d.text;
        return;
      }
      default:
        v.metaDisk = parseMetaDisk(kw, st.args);
    }
  }

  private connection(st: Statement): Connection {
    const kw = st.keyword;
    if (st.args[1] !== undefined) expectedBlockOpen(st.args[0]!, st.args[1]);
    const name = st.args[0]?.text;
    if (name !== undefined) this.warn('DRBD_LEGACY', kw, 'named connections are deprecated (DRBD 9)', name);
    const implicitHosts: ConnectionHost[] = [];
    const conn: Connection = { paths: [], net: new Map(), disk: new Map(), volumeDisk: new Map(), pos: pos(kw), ...(name !== undefined ? { name } : {}) };
    const expected = ['host', 'path', 'net', 'disk', 'volume', 'skip'];
    for (const s of needBody(st)) {
      const k = s.keyword;
      if (k.kind !== 'word') unknownKeyword(k, expected);
      switch (k.text) {
        case 'host':
          implicitHosts.push(parseConnectionHost(s));
          break;
        case 'path': {
          const hosts: ConnectionHost[] = [];
          for (const h of needBody(s)) {
            if (!isWord(h.keyword, 'host')) unknownKeyword(h.keyword, ['host']);
            hosts.push(parseConnectionHost(h));
          }
          conn.paths.push({ hosts, pos: pos(k) });
          break;
        }
        case 'net':
        case 'disk': {
          const table = k.text === 'net' ? NET_OPTIONS : DISK_OPTIONS;
          const into = k.text === 'net' ? conn.net : conn.disk;
          for (const o of needBody(s)) {
            const spec = o.keyword.kind === 'word' ? table[o.keyword.text] : undefined;
            if (spec === undefined) unknownKeyword(o.keyword, Object.keys(table), 'DRBD_UNKNOWN_OPTION');
            this.setOption(into, parseOption(o, spec, k.text));
          }
          break;
        }
        case 'volume': {
          const v = this.volume(s);
          conn.volumeDisk.set(v.vnr, v.diskOptions);
          break;
        }
        default:
          unknownKeyword(k, expected);
      }
    }
    if (implicitHosts.length > 0) conn.paths.unshift({ hosts: implicitHosts, pos: pos(kw), implicit: true });
    return conn;
  }

  private mesh(st: Statement): ConnectionMesh {
    const kw = st.keyword;
    let hosts: string[] = [];
    const net: OptionSection = new Map();
    for (const s of needBody(st)) {
      const k = s.keyword;
      if (isWord(k, 'hosts')) {
        noBody(s);
        hosts = s.args.map((a) => a.text);
      } else if (isWord(k, 'net')) {
        for (const o of needBody(s)) {
          const spec = o.keyword.kind === 'word' ? NET_OPTIONS[o.keyword.text] : undefined;
          if (spec === undefined) unknownKeyword(o.keyword, Object.keys(NET_OPTIONS), 'DRBD_UNKNOWN_OPTION');
          this.setOption(net, parseOption(o, spec, 'net'));
        }
      } else unknownKeyword(k, ['hosts', 'net']);
    }
    if (hosts.length === 0) fail('DRBD_MISSING', kw.file, kw.line, 'connection-mesh needs a hosts statement', 'connection-mesh');
    return { hosts, net, pos: pos(kw) };
  }
}

interface LegacyState {
  group?: number;
  hasResyncAfter: boolean;
}

function expectedBlockOpen(after: Token, got: Token): never {
  fail('DRBD_EXPECTED_BLOCK', got.file, got.line, `'{' expected after ${showToken(after.text)}, but got ${showToken(got.text)}`, got.text);
}

function implicitVolume(volumes: Map<number, Volume>, at: Token): Volume {
  let v = volumes.get(0);
  if (v === undefined) {
    v = { vnr: 0, implicit: true, diskOptions: new Map(), pos: pos(at) };
    volumes.set(0, v);
  }
  return v;
}

function rawBlock(st: Statement): RawBlock {
  return {
    keyword: st.keyword.text,
    args: st.args.map((a) => a.text),
    ...(st.body !== undefined ? { body: st.body.map(rawBlock) } : {}),
  };
}

const UNIT_NAMES: Readonly<Record<string, string>> = {
  kib: 'KiB/s', sectors: 'sectors', bytes: 'bytes', tenths: 'tenths of a second', seconds: 'seconds', count: 'count',
};

/** Parses `name value;` per the option's spec into a printed text and a value. */
export function parseOption(st: Statement, spec: OptionSpec, section: string): OptionValue {
  noBody(st);
  const kw = st.keyword;
  const name = kw.text;
  const p = pos(kw);
  const [arg, extra] = st.args;
  if (spec.type === 'flag') {
    if (arg !== undefined) expectedSemicolon(name, arg);
    return { name, text: '', value: true, pos: p };
  }
  if (spec.type === 'bool') {
    if (arg === undefined) return { name, text: 'yes', value: true, pos: p };
    if (arg.text !== 'yes' && arg.text !== 'no') {
      fail('DRBD_BAD_VALUE', arg.file, arg.line, `value ${showToken(arg.text)} for ${name} is not 'yes' or 'no'`, arg.text);
    }
    if (extra !== undefined) expectedSemicolon(arg.text, extra);
    return { name, text: arg.text, value: arg.text === 'yes', pos: p };
  }
  if (arg === undefined) fail('DRBD_MISSING', kw.file, kw.line, `${name} needs a value`, name);
  if (extra !== undefined) expectedSemicolon(arg.text, extra);
  switch (spec.type) {
    case 'number': {
      const n = parseNumber(arg.text, spec.unit);
      if (n === undefined) {
        fail('DRBD_BAD_NUMBER', arg.file, arg.line, `${showToken(arg.text)} is not a valid number for ${name} (digits with an optional K, M, G or s unit)`, arg.text);
      }
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        fail('DRBD_BAD_NUMBER', arg.file, arg.line, `${name} ${arg.text} => ${n} out of range [${spec.min}..${spec.max}] (${UNIT_NAMES[spec.unit]})`, arg.text);
      }
      return { name, text: arg.text, value: n, unit: spec.unit, pos: p };
    }
    case 'enum': {
      const text = spec.upper ? arg.text.toUpperCase() : arg.text;
      if (!spec.values.includes(text) && !(spec.pattern?.test(text) ?? false)) {
        const hint = didYouMean(arg.text, spec.values);
        fail('DRBD_BAD_VALUE', arg.file, arg.line,
          `${showToken(arg.text)} is not a valid ${name} value in ${section}; allowed: ${spec.values.join(' | ')}${hint ? ` (did you mean '${hint}'?)` : ''}`, arg.text);
      }
      return { name, text, value: text, pos: p };
    }
    case 'string':
      return { name, text: arg.text, value: arg.text, free: true, pos: p };
  }
}

function parseSmallInt(st: Statement, min: number, max: number): number {
  const [arg, extra] = st.args;
  const kw = st.keyword;
  if (arg === undefined || !/^\d+$/.test(arg.text) || Number(arg.text) < min || Number(arg.text) > max) {
    fail('DRBD_BAD_NUMBER', kw.file, (arg ?? kw).line, `${kw.text} needs a number ${min}..${max}`, arg?.text ?? kw.text);
  }
  if (extra !== undefined) expectedSemicolon(arg.text, extra);
  return Number(arg.text);
}

const FAMILIES: readonly AddressFamily[] = ['ipv4', 'ipv6', 'ssocks', 'sdp', 'sci'];
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function validIpv4(ip: string): boolean {
  const m = IPV4.exec(ip);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

/**
 * `[AF] ADDR:PORT` in any of the spellings found in real files:
 * `10.0.0.1:7788`, `ipv4 10.0.0.1:7788`, `10.0.0.1 :7788`, `ipv6 [fd00::1]:7789`.
 */
export function parseAddress(kw: Token, args: readonly Token[]): Address {
  let rest = [...args];
  let family: AddressFamily | undefined;
  const first = rest[0];
  if (first !== undefined && first.kind === 'word' && (FAMILIES as readonly string[]).includes(first.text) && rest.length > 1) {
    family = first.text as AddressFamily;
    rest = rest.slice(1);
  }
  const head = rest[0];
  const expected = `'ssocks | sdp | ipv4 | ipv6 | <ipv4 address>' expected`;
  if (head === undefined) fail('DRBD_BAD_ADDRESS', kw.file, kw.line, `${kw.text}: ${expected}, but got nothing`, kw.text);
  // The real scanner allows white space around the `:` before the port.
  let joined = head.text;
  let used = 1;
  while (used < rest.length && (joined.endsWith(':') || rest[used]!.text.startsWith(':')) && used < 3) {
    joined += rest[used]!.text;
    used++;
  }
  if (rest[used] !== undefined) expectedSemicolon(joined, rest[used]!);
  const v6 = /^\[([0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?)\]:(\d+)$/.exec(joined);
  const v4 = /^([^:[\]]+):(\d+)$/.exec(joined);
  let ip: string;
  let portText: string;
  if (v6 !== null) {
    if (family !== undefined && family !== 'ipv6') fail('DRBD_BAD_ADDRESS', head.file, head.line, `${family} address expected, but got ${showToken(joined)}`, joined);
    family = 'ipv6';
    ip = v6[1]!;
    portText = v6[2]!;
    if (!ip.includes(':')) fail('DRBD_BAD_ADDRESS', head.file, head.line, `${showToken(ip)} is not an IPv6 address`, ip);
  } else if (v4 !== null && validIpv4(v4[1]!)) {
    if (family === 'ipv6') fail('DRBD_BAD_ADDRESS', head.file, head.line, `IPv6 addresses must be written in brackets: ipv6 [ADDR]:PORT`, joined);
    ip = v4[1]!;
    portText = v4[2]!;
  } else {
    const shown = joined.includes(':') && !joined.startsWith('[') ? joined.slice(0, joined.lastIndexOf(':')) : joined;
    const why = family === 'ipv6' || /^[0-9A-Fa-f]*:[0-9A-Fa-f:]*:/.test(joined)
      ? ' (IPv6 addresses need brackets: ipv6 [ADDR]:PORT)'
      : !joined.includes(':') ? ' (the :PORT is missing?)' : ' (drbd.conf needs an IP address, not a host name)';
    fail('DRBD_BAD_ADDRESS', head.file, head.line, `${expected}, but got ${showToken(shown)}${why}`, shown);
  }
  const port = Number(portText);
  if (port < 1 || port > 65535) fail('DRBD_BAD_ADDRESS', head.file, head.line, `port ${portText} out of range 1..65535`, portText);
  return { family: family ?? 'ipv4', ip, port, pos: pos(head) };
}

const MAX_MINOR = 1048575;

/** `/dev/drbdN`, `drbdN`, `minor N`, `NAME minor N`, with NAME starting with (/dev/)drbd. */
export function parseDevice(kw: Token, args: readonly Token[]): Device {
  const [a, b, c, d] = args;
  if (a === undefined) fail('DRBD_MISSING', kw.file, kw.line, 'device needs /dev/drbdN or minor N', 'device');
  let path: string | undefined;
  let minorTok: Token | undefined;
  if (isWord(a, 'minor')) {
    minorTok = b;
    if (c !== undefined) expectedSemicolon(b?.text ?? 'minor', c);
  } else {
    path = a.text;
    if (b !== undefined) {
      if (!isWord(b, 'minor')) expectedSemicolon(a.text, b);
      minorTok = c;
      if (d !== undefined) expectedSemicolon(c?.text ?? 'minor', d);
    }
  }
  if (path !== undefined) {
    const bare = path.startsWith('/dev/') ? path.slice(5) : path;
    if (!bare.startsWith('drbd')) {
      fail('DRBD_BAD_DEVICE', a.file, a.line, 'device name must start with /dev/drbd (/dev/ is optional, but drbd is required)', a.text);
    }
    path = '/dev/' + bare;
  }
  let minor: number;
  if (minorTok !== undefined || isWord(b, 'minor') || isWord(a, 'minor')) {
    if (minorTok === undefined || !/^\d+$/.test(minorTok.text) || Number(minorTok.text) > MAX_MINOR) {
      const t = minorTok ?? a;
      fail('DRBD_BAD_DEVICE', t.file, t.line, `minor needs a number 0..${MAX_MINOR}`, minorTok?.text ?? 'minor');
    }
    minor = Number(minorTok.text);
  } else {
    const m = /^\/dev\/drbd(\d+)$/.exec(path!);
    if (m === null || Number(m[1]) > MAX_MINOR) {
      fail('DRBD_BAD_DEVICE', a.file, a.line, `cannot tell the minor number of ${showToken(a.text)}; write 'device ${path} minor N;'`, a.text);
    }
    minor = Number(m[1]);
  }
  return path !== undefined ? { path, minor } : { minor };
}

/** `internal`, `DEV`, `DEV [IDX]`, `DEV[IDX]`; `flexible-meta-disk` is the same since 8.4. */
export function parseMetaDisk(kw: Token, args: readonly Token[]): MetaDisk {
  const first = args[0];
  if (first === undefined) fail('DRBD_MISSING', kw.file, kw.line, `${kw.text} needs internal or a device`, kw.text);
  const joined = args.map((a) => a.text).join(' ');
  const m = /^(.*?)\s*\[\s*(\d+)\s*\]$/.exec(joined);
  const device = m !== null ? m[1]! : joined;
  if (m === null && args.length > 1) expectedSemicolon(first.text, args[1]!);
  if (device === 'internal') {
    if (m !== null) fail('DRBD_BAD_META_DISK', first.file, first.line, 'internal meta data takes no [index]', joined);
    return { kind: 'internal' };
  }
  if (device === '' || /[[\]]/.test(device)) fail('DRBD_BAD_META_DISK', first.file, first.line, `${showToken(joined)} is not internal, DEV or DEV [INDEX]`, joined);
  return m !== null ? { kind: 'external', device, index: Number(m[2]) } : { kind: 'external', device };
}

function parseConnectionHost(st: Statement): ConnectionHost {
  const kw = st.keyword;
  const [nameTok, ...rest] = st.args;
  if (nameTok === undefined) fail('DRBD_MISSING', kw.file, kw.line, 'host needs a host name', 'host');
  let address: Address | undefined;
  let port: number | undefined;
  let via: RawBlock | undefined;
  let i = 0;
  while (i < rest.length) {
    const t = rest[i]!;
    if (isWord(t, 'address')) {
      let j = i + 1;
      while (j < rest.length && !isWord(rest[j], 'via') && !isWord(rest[j], 'port')) j++;
      address = parseAddress(t, rest.slice(i + 1, j));
      i = j;
    } else if (isWord(t, 'port')) {
      const p = rest[i + 1];
      if (p === undefined || !/^\d+$/.test(p.text) || Number(p.text) < 1 || Number(p.text) > 65535) {
        fail('DRBD_BAD_ADDRESS', t.file, t.line, 'port needs a number 1..65535', p?.text ?? 'port');
      }
      port = Number(p.text);
      i += 2;
    } else if (isWord(t, 'via')) {
      const p = rest[i + 1];
      if (!isWord(p, 'proxy')) fail('DRBD_UNKNOWN_KEYWORD', (p ?? t).file, (p ?? t).line, `'proxy' expected after via, but got ${showToken(p?.text ?? ';')}`, p?.text ?? 'via');
      via = { keyword: 'via', args: rest.slice(i + 1).map((a) => a.text), ...(st.body !== undefined ? { body: st.body.map(rawBlock) } : {}) };
      i = rest.length;
    } else expectedSemicolon(rest[i - 1]?.text ?? nameTok.text, t);
  }
  if (st.body !== undefined && via === undefined) noBody(st);
  return { name: nameTok.text, ...(address ? { address } : {}), ...(port !== undefined ? { port } : {}), ...(via ? { via } : {}) };
}

/** Pushes resource-level volumes into every host, then checks what every host needs. */
function finishResource(res: Resource): void {
  for (const host of res.hosts) {
    for (const [vnr, rv] of res.volumes) {
      const hv = host.volumes.get(vnr);
      if (hv === undefined) {
        host.volumes.set(vnr, { ...rv, diskOptions: new Map(rv.diskOptions) });
        continue;
      }
      const merged: Volume = {
        vnr,
        implicit: hv.implicit && rv.implicit,
        diskOptions: new Map([...rv.diskOptions, ...hv.diskOptions]),
        pos: hv.pos,
      };
      const device = hv.device ?? rv.device;
      const disk = hv.disk ?? rv.disk;
      const metaDisk = hv.metaDisk ?? rv.metaDisk;
      if (device) merged.device = device;
      if (disk !== undefined) merged.disk = disk;
      if (metaDisk) merged.metaDisk = metaDisk;
      host.volumes.set(vnr, merged);
    }
    // Sort volumes by number, as drbdadm prints them.
    const sorted = [...host.volumes.entries()].sort((a, b) => a[0] - b[0]);
    host.volumes.clear();
    for (const [k, v] of sorted) host.volumes.set(k, v);
    const where = host.kind === 'floating' ? `floating ${host.address?.ip}:${host.address?.port}` : `${host.kind} ${host.names.join(' ')}`;
    if (host.volumes.size === 0 && host.kind !== 'stacked-on-top-of') {
      fail('DRBD_MISSING', host.pos.file, host.pos.line, `in resource ${res.name}, ${where} { ... }: 'device' keyword missing`, 'device');
    }
    for (const v of host.volumes.values()) {
      if (v.device === undefined) {
        fail('DRBD_MISSING', host.pos.file, host.pos.line, `in resource ${res.name}, ${where} { ... }: 'device' keyword missing${v.implicit ? '' : ` (volume ${v.vnr})`}`, 'device');
      }
    }
  }
  if (res.hosts.length === 0) {
    fail('DRBD_MISSING', res.pos.file, res.pos.line, `in resource ${res.name}: missing section 'on <PEER> { ... }'`, res.name);
  }
  // DRBD 9: more than two hosts need explicit node-ids (the two-host hash trick no longer works).
  const on = res.hosts.filter((h) => h.kind !== 'stacked-on-top-of' || h.nodeId !== undefined);
  if (on.length > 2) {
    const missing = on.slice(2).find((h) => h.nodeId === undefined) ?? on.find((h) => h.nodeId === undefined);
    if (missing !== undefined) {
      const where = missing.kind === 'floating' ? `floating ${missing.address?.ip}:${missing.address?.port}` : `${missing.kind} ${missing.names.join(' ')}`;
      fail('DRBD_MISSING', missing.pos.file, missing.pos.line, `in resource ${res.name}, ${where} { ... }: 'node-id' keyword missing`, 'node-id');
    }
  }
}

/**
 * DRBD 0.7 `syncer { group N; }`: groups resync one after another. The modern
 * form is a chain of resync-after; each resource of group N waits for the last
 * resource (in file order) of the closest lower group.
 */
function applySyncGroups(resources: Resource[], b: ConfigBuilder): void {
  const grouped = resources.filter((r) => r.syncGroup !== undefined);
  for (const r of grouped) {
    if ((r as { hasResyncAfter?: boolean }).hasResyncAfter) continue;
    const lower = grouped.filter((o) => o.syncGroup! < r.syncGroup!);
    if (lower.length === 0) continue;
    const best = Math.max(...lower.map((o) => o.syncGroup!));
    const after = lower.filter((o) => o.syncGroup === best).pop()!;
    r.sections.disk.set('resync-after', { name: 'resync-after', text: after.name, value: after.name, free: true, pos: r.pos });
    b.warn('DRBD_LEGACY', r.pos, `resource ${r.name}: group ${r.syncGroup} read as resync-after ${after.name}`, 'group');
  }
}

/** The same IP:port or the same minor on one host, anywhere in the config, is an error. */
function checkConflicts(resources: readonly Resource[]): void {
  const ips = new Map<string, SourcePos>();
  const minors = new Map<string, SourcePos>();
  for (const r of resources) {
    for (const h of r.hosts) {
      if (h.address !== undefined) {
        const key = `${h.address.ip}:${h.address.port}`;
        const first = ips.get(key);
        if (first !== undefined) {
          fail('DRBD_CONFLICT', h.address.pos.file, h.address.pos.line, `conflicting use of IP '${key}' (first used at ${first.file}:${first.line})`, key);
        }
        ips.set(key, h.address.pos);
      }
      if (h.kind !== 'on') continue;
      for (const name of h.names) {
        for (const v of h.volumes.values()) {
          if (v.device === undefined) continue;
          const key = `device-minor:${name}:${v.device.minor}`;
          const first = minors.get(key);
          if (first !== undefined) {
            fail('DRBD_CONFLICT', h.pos.file, h.pos.line, `conflicting use of device-minor '${key}' (first used at ${first.file}:${first.line})`, String(v.device.minor));
          }
          minors.set(key, h.pos);
        }
      }
    }
  }
}
