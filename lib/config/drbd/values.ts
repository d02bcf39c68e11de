import { didYouMean } from '../../shared/suggest.js';
import { fail, showToken } from './errors.js';
import type { Token } from './lexer.js';
import type { Address, AddressFamily, ConnectionHost, Device, MetaDisk, OptionValue, RawBlock } from './model.js';
import type { OptionSpec } from './schema.js';
import { expectedSemicolon, isWord, noBody, pos, rawBlock } from './syntax.js';
import type { Statement } from './tree.js';
import { parseNumber } from './units.js';

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

export function parseSmallInt(st: Statement, min: number, max: number): number {
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

export function parseConnectionHost(st: Statement): ConnectionHost {
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
