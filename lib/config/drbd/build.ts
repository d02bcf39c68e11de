import type { ConfigWarning, SourcePos } from '../../shared/errors.js';
import { didYouMean } from '../../shared/suggest.js';
import { diag, fail, showToken, type DrbdDiagnosticCode } from './errors.js';
import type { Token } from './lexer.js';
import { applySyncGroups, checkConflicts, finishResource } from './checks.js';
import {
  emptySections,
  type Address,
  type CommonSection,
  type Connection,
  type ConnectionHost,
  type ConnectionMesh,
  type DrbdConfig,
  type HostSection,
  type OptionSection,
  type OptionValue,
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
} from './schema.js';
import { expectedBlockOpen, expectedSemicolon, isWord, needBody, noBody, pos, rawBlock } from './syntax.js';
import type { Statement } from './tree.js';
import { parseAddress, parseConnectionHost, parseDevice, parseMetaDisk, parseOption, parseSmallInt } from './values.js';

type MutableSections = { [K in SectionName]: OptionSection };

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
  /** What legacy statements each resource had, for the translations done after reading. */
  private readonly legacy = new Map<Resource, LegacyState>();

  constructor(private readonly files: readonly string[]) {}

  warn(code: DrbdDiagnosticCode, t: Token | SourcePos, message: string, token?: string): void {
    this.warnings.push(diag(code, t.file, t.line, message, token));
  }

  build(statements: readonly Statement[]): DrbdConfig {
    for (const st of statements) this.topLevel(st);
    applySyncGroups(
      this.resources,
      (r) => this.legacy.get(r)?.hasResyncAfter ?? false,
      (at, message) => this.warn('DRBD_LEGACY', at, message, 'group'),
    );
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
    this.legacy.set(res, legacy);
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

function implicitVolume(volumes: Map<number, Volume>, at: Token): Volume {
  let v = volumes.get(0);
  if (v === undefined) {
    v = { vnr: 0, implicit: true, diskOptions: new Map(), pos: pos(at) };
    volumes.set(0, v);
  }
  return v;
}

