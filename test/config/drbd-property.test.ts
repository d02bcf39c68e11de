import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/shared/errors.js';
import { memoryConfigFs } from '../../lib/shared/fs.js';
import { dumpConfig } from '../../lib/config/drbd/dump.js';
import { parseDrbdConfig } from '../../lib/config/drbd/index.js';
import { configMeaning } from '../../lib/config/drbd/meaning.js';
import type { DrbdConfig } from '../../lib/config/drbd/model.js';
import { DISK_OPTIONS, NET_OPTIONS, OPTIONS_OPTIONS, RESERVED_WORDS, STARTUP_OPTIONS, HANDLER_OPTIONS, type OptionSpec } from '../../lib/config/drbd/schema.js';
import { entryInput, readOracle } from './drbd-oracle.js';

const parseText = (text: string | Uint8Array, file = '/etc/drbd.conf'): DrbdConfig => parseDrbdConfig(memoryConfigFs({ [file]: text }), file);
const bare = (c: DrbdConfig) => dumpConfig(c, { comments: false });

/** dump -> parse -> dump gives the same text, and the same meaning as the original. */
function assertFixedPoint(c: DrbdConfig): void {
  const once = bare(c);
  const again = parseText(once, '/dumped.conf');
  expect(bare(again)).toBe(once);
  expect(configMeaning(again)).toEqual(configMeaning(c));
}

describe('dump is a fixed point', () => {
  it('over every accepted corpus file', () => {
    let n = 0;
    for (const e of readOracle()) {
      const input = entryInput(e);
      let c: DrbdConfig;
      try {
        c = parseDrbdConfig(input.fs, input.file, input.text !== undefined ? { text: input.text } : {});
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        continue;
      }
      assertFixedPoint(c);
      n++;
    }
    expect(n).toBeGreaterThan(25);
  });

  const word = fc.stringMatching(/^[a-z][a-z0-9._-]{0,10}$/).filter((w) => !RESERVED_WORDS.has(w));
  const freeText = fc.oneof(word, fc.string({ unit: fc.constantFrom('a', ' ', '"', '\\', '#', ';', '{', '}', '/', 'é'), maxLength: 12 }));
  const numberText = (spec: OptionSpec & { type: 'number' }) => {
    // Ranged options: a bare number inside the range.
    if (spec.min !== undefined) return fc.integer({ min: spec.min, max: Math.min(spec.max ?? 99999, 99999) }).map(String);
    const suffixes = ['kib', 'sectors', 'bytes'].includes(spec.unit) ? ['', 'K', 'M', 'G', 'k', 's'] : [''];
    return fc.tuple(fc.nat({ max: 99999 }), fc.constantFrom(...suffixes)).map(([n, s]) => `${n}${s}`);
  };
  const valueFor = (spec: OptionSpec): fc.Arbitrary<string> => {
    switch (spec.type) {
      case 'bool':
        return fc.constantFrom('', ' yes', ' no');
      case 'flag':
        return fc.constant('');
      case 'enum':
        return fc.constantFrom(...spec.values).map((v) => ' ' + v);
      case 'number':
        return numberText(spec).map((v) => ' ' + v);
      case 'string':
        return freeText.map((v) => ' "' + v.replace(/[\\"]/g, (c) => '\\' + c) + '"');
    }
  };
  const section = (name: string, table: Readonly<Record<string, OptionSpec>>) =>
    fc
      .uniqueArray(fc.constantFrom(...Object.keys(table)), { maxLength: 5 })
      .chain((names) => fc.tuple(...names.map((n) => valueFor(table[n]!).map((v) => `${n}${v};`))))
      .map((opts) => (opts.length === 0 ? '' : `  ${name} { ${opts.join(' ')} }\n`));
  const sections = fc
    .tuple(section('options', OPTIONS_OPTIONS), section('net', NET_OPTIONS), section('disk', DISK_OPTIONS), section('startup', STARTUP_OPTIONS), section('handlers', HANDLER_OPTIONS))
    .map((s) => s.join(''));
  const metaDisk = fc.oneof(fc.constant('internal'), word.map((w) => `/dev/${w}`), fc.tuple(word, fc.nat({ max: 9 })).map(([w, i]) => `/dev/${w} [${i}]`));
  const resource = (i: number) =>
    fc
      .record({ name: word, a: word, b: word, sections, md: metaDisk, vol: fc.boolean(), legacy: fc.boolean() })
      .filter((r) => r.a !== r.b)
      .map((r) => {
        const dev = r.vol ? `volume 0 { device minor ${i}; disk /dev/${r.name}; meta-disk ${r.md}; }` : `device /dev/drbd${i}; disk /dev/${r.name}; meta-disk ${r.md};`;
        const legacy = r.legacy ? '  protocol B;\n  syncer { rate 10M; al-extents 257; }\n' : '';
        return `resource ${r.name}${i} {\n${legacy}${r.sections}  ${dev}\n  on ${r.a} { address 10.0.${i}.1:7788; }\n  on ${r.b} { address ipv6 [fd00::${i}:2]:7788; }\n}\n`;
      });
  const config = fc
    .tuple(fc.option(sections, { nil: undefined }), fc.integer({ min: 0, max: 3 }))
    .chain(([common, n]) => fc.tuple(fc.constant(common), ...Array.from({ length: n }, (_, i) => resource(i))))
    .map(([common, ...resources]) => (common ? `common {\n${common}}\n` : '') + resources.join(''));

  it('over generated configs', () => {
    fc.assert(
      fc.property(config, (text) => {
        assertFixedPoint(parseText(text));
      }),
      { numRuns: 300 },
    );
  });
});

describe('the parser only ever throws ConfigError', () => {
  const check = (input: string | Uint8Array) => {
    try {
      parseText(input);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      expect(e.exitCode).toBe(10);
      expect(e.message).toMatch(/^\/etc\/drbd\.conf:\d+: /);
    }
  };

  it('on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), check), { numRuns: 500 });
  });

  it('on mutated real configs (characters dropped, duplicated or replaced)', () => {
    const texts = readOracle().flatMap((e) => {
      const input = entryInput(e);
      return [input.text ?? readFileSync(input.file, 'utf8')];
    });
    expect(texts.length).toBeGreaterThan(20);
    const edit = fc.tuple(fc.nat(), fc.constantFrom('drop', 'dup', '{', '}', ';', '"', '#', '\n', ' '));
    fc.assert(
      fc.property(fc.constantFrom(...texts), fc.array(edit, { minLength: 1, maxLength: 4 }), (text, edits) => {
        let t = text;
        for (const [at, op] of edits) {
          const i = at % (t.length + 1);
          t = op === 'drop' ? t.slice(0, i) + t.slice(i + 1) : op === 'dup' ? t.slice(0, i) + t.slice(i, i + 1) + t.slice(i) : t.slice(0, i) + op + t.slice(i);
        }
        check(t);
      }),
      { numRuns: 500 },
    );
  });

  it('on random drbd.conf-like token soup', () => {
    const tok = fc.constantFrom('resource', 'r', 'on', 'a', '{', '}', ';', '"x"', 'net', 'disk', 'syncer', 'rate', '10M', 'device', '/dev/drbd0', 'minor', '0', 'address', '10.0.0.1:7788', 'meta-disk', 'internal', 'skip', 'include', 'volume', 'connection', 'host', 'path', 'floating', '#', '\n', '[1]', 'ipv6', '[::1]:1', 'protocol', 'C', 'common', 'global', 'usage-count', 'no');
    fc.assert(fc.property(fc.array(tok, { maxLength: 60 }), (toks) => check(toks.join(' '))), { numRuns: 1000 });
  });
});
