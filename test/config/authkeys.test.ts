import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collectAuthkeys, describeAuthkeys, parseAuthkeys } from '../../lib/config/authkeys/parse.js';
import { ConfigError } from '../../lib/shared/errors.js';
import { memoryConfigFs } from '../../lib/shared/fs.js';
import { CORPUS } from '../helpers/env.js';

const SECRET = 'S3cr3t-Key_value';

function errorsOf(text: string): [number, string, string | undefined][] {
  const r = collectAuthkeys(text, 'authkeys');
  expect(r.config).toBeUndefined();
  return r.errors.map((e) => [e.line, e.code, e.token]);
}

describe('authkeys', () => {
  it('reads auth N and the key lines', () => {
    const { config, warnings } = parseAuthkeys(`# keys\nauth 2\n1 md5 ${SECRET}\n2 sha1 ${SECRET}\n3 crc\n`, 'authkeys');
    expect(warnings).toEqual([]);
    expect(config.activeIndex).toBe(2);
    expect(config.active.method).toBe('sha1');
    expect(config.active.key!.reveal()).toBe(SECRET);
    expect(config.entries.map((e) => [e.index, e.method, e.line])).toEqual([[1, 'md5', 3], [2, 'sha1', 4], [3, 'crc', 5]]);
    expect(config.entries[2]!.key).toBeUndefined();
  });
  it('accepts CRLF, tabs, leading blanks, a missing final newline, `auth1` and `1sha1`', () => {
    const { config } = parseAuthkeys(`\t auth1\r\n\t1sha1\t${SECRET}\r\n# caf\xe9`, 'authkeys');
    expect(config.active.key!.reveal()).toBe(SECRET);
  });
  it('accepts non-UTF-8 bytes in comments', () => {
    const bytes = Buffer.concat([Buffer.from('# \xff'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('\nauth 1\n1 crc')]);
    expect(parseAuthkeys(bytes, 'authkeys').config.active.method).toBe('crc');
  });
  it('never shows a key: JSON, inspect, string conversion, describe', () => {
    const { config } = parseAuthkeys(`auth 1\n1 sha1 ${SECRET}\n`, 'authkeys');
    expect(JSON.stringify(config)).not.toContain(SECRET);
    expect(inspect(config, { depth: 10 })).not.toContain(SECRET);
    expect(String(config.active.key)).not.toContain(SECRET);
    expect(`${config.active.key}`).toBe('(hidden)');
    expect(describeAuthkeys(config)).toEqual({ activeIndex: 1, method: 'sha1', indexes: [{ index: 1, method: 'sha1' }] });
  });
  it('never puts a key in an error or warning', () => {
    for (const text of [`auth 1\n1 crc ${SECRET}\n`, `auth 1\n1 sha1 ${SECRET} more words\n`, `auth 1\n1 shaa1 ${SECRET}\n`, `auth 3\n1 sha1 ${SECRET}\n${SECRET}\n`]) {
      const r = collectAuthkeys(text, 'authkeys');
      for (const d of [...r.errors, ...r.warnings]) {
        expect(d.message).not.toContain(SECRET);
        expect(d.token ?? '').not.toContain(SECRET);
      }
    }
  });
  it('the key is one word; quotes are part of it; a # after it is a comment', () => {
    const r = parseAuthkeys('auth 1\n1 md5 "cluster twin test"\n', 'authkeys');
    expect(r.config.active.key!.reveal()).toBe('"cluster');
    expect(r.warnings.map((w) => [w.line, w.code, w.token])).toEqual([[2, 'AUTHKEYS_KEY_TRUNCATED', 'md5']]);
    expect(parseAuthkeys('auth 1\n1 md5 "x"\n', 'authkeys').warnings.map((w) => w.code)).toEqual(['AUTHKEYS_KEY_QUOTED']);
    expect(parseAuthkeys('auth 1 # active\n1 md5 key # old key\n', 'authkeys').warnings).toEqual([]);
  });
  it('a redefined index warns and the last one wins', () => {
    const r = parseAuthkeys('auth 1\n1 md5 a\n1 sha1 b\n', 'authkeys');
    expect(r.config.active.method).toBe('sha1');
    expect(r.warnings.map((w) => [w.line, w.code, w.token])).toEqual([[3, 'AUTHKEYS_DUPLICATE_INDEX', '1']]);
  });
  it.each([
    ['no auth line', '1 sha1 k\n', [[0, 'AUTHKEYS_NO_AUTH', undefined]]],
    ['active key missing', 'auth 2\n1 sha1 k\n', [[1, 'AUTHKEYS_KEY_NOT_FOUND', '2']]],
    ['auth after its key (the original only selects later lines)', '1 sha1 k\nauth 1\n', [[2, 'AUTHKEYS_AUTH_AFTER_KEY', '1']]],
    ['auth without a number', 'auth one\n1 crc\n', [[1, 'AUTHKEYS_BAD_AUTH_LINE', 'auth'], [0, 'AUTHKEYS_NO_AUTH', undefined]]],
    ['any line starting with a is an auth line', 'authx 1\n1 crc\n', [[1, 'AUTHKEYS_BAD_AUTH_LINE', 'authx'], [0, 'AUTHKEYS_NO_AUTH', undefined]]],
    ['unknown method, with a suggestion', 'auth 1\n1 sha2 k\n', [[2, 'AUTHKEYS_BAD_METHOD', 'sha2'], [1, 'AUTHKEYS_KEY_NOT_FOUND', '1']]],
    ['methods are case-sensitive', 'auth 1\n1 SHA1 k\n', [[2, 'AUTHKEYS_BAD_METHOD', 'SHA1'], [1, 'AUTHKEYS_KEY_NOT_FOUND', '1']]],
    ['crc takes no key', 'auth 1\n1 crc k\n', [[2, 'AUTHKEYS_UNEXPECTED_KEY', 'crc'], [1, 'AUTHKEYS_KEY_NOT_FOUND', '1']]],
    ['a comment after crc is read as a key', 'auth 1\n1 crc # plain\n', [[2, 'AUTHKEYS_UNEXPECTED_KEY', 'crc'], [1, 'AUTHKEYS_KEY_NOT_FOUND', '1']]],
    ['sha1 needs a key', 'auth 1\n1 sha1\n', [[2, 'AUTHKEYS_MISSING_KEY', 'sha1'], [1, 'AUTHKEYS_KEY_NOT_FOUND', '1']]],
    ['index out of range', 'auth 1\n1 crc\n16 md5 k\n', [[3, 'AUTHKEYS_BAD_INDEX', '16']]],
    ['a line that is neither (its word may be a key: not named)', 'auth 1\n1 crc\nkey\n', [[3, 'AUTHKEYS_BAD_LINE', undefined]]],
  ] as const)('%s', (_name, text, expected) => {
    expect(errorsOf(text)).toEqual(expected);
  });
  it('throws a ConfigError with exit status 6 and FILE:LINE messages', () => {
    expect(() => parseAuthkeys('auth 1\n1 sha2 k\n', '/etc/ha.d/authkeys')).toThrow(ConfigError);
    try {
      parseAuthkeys('auth 1\n1 sha2 k\n', '/etc/ha.d/authkeys');
    } catch (e) {
      expect((e as ConfigError).exitCode).toBe(6);
      expect((e as ConfigError).message.split('\n')[0]).toBe('/etc/ha.d/authkeys:2: invalid auth method [sha2]; did you mean sha1?');
    }
  });
  it('refuses a file readable by group or others, with the original message', () => {
    const file = '/etc/ha.d/authkeys';
    const text = 'auth 1\n1 crc\n';
    for (const mode of [0o640, 0o604, 0o644]) {
      const fs = memoryConfigFs({ [file]: text }, { [file]: mode });
      const r = collectAuthkeys(text, file, { fs });
      expect(r.errors.map((e) => [e.line, e.code, e.message])).toEqual([[0, 'AUTHKEYS_BAD_PERMISSIONS', `Bad permissions on keyfile [${file}], 600 recommended.`]]);
    }
    for (const mode of [0o600, 0o400, 0o620]) {
      const fs = memoryConfigFs({ [file]: text }, { [file]: mode });
      expect(collectAuthkeys(text, file, { fs }).errors).toEqual([]);
    }
  });
});

/** The original accepts every corpus authkeys file (checked with Debian's heartbeat 3.0.6). */
const AUTHKEYS_VERDICTS: Record<string, { index: number; method: string; warnings?: string[] }> = {
  '7layer-org.authkeys': { index: 1, method: 'sha1' },
  'amarak-administration-linux.authkeys': { index: 2, method: 'sha1' },
  'bluevitality-blank-line-trailing-comment.authkeys': { index: 1, method: 'sha1' },
  'bwahn-heartbeat-vagrant.authkeys': { index: 1, method: 'md5' },
  'chenzhiwei-commented-keys.authkeys': { index: 2, method: 'sha1' },
  // The md5 key is `"cluster` (sscanf %s); it is not the active one, so nothing fails.
  'deimosfr-EXTRACTED-quoted-md5-key-with-spaces.authkeys': { index: 2, method: 'crc', warnings: ['AUTHKEYS_KEY_TRUNCATED'] },
  'easytzb-ops-notes-crc.authkeys': { index: 1, method: 'crc' },
  'gslin-coscup2015-leading-comment.authkeys': { index: 1, method: 'md5' },
  'lucashlx-drbd-heartbeat.authkeys': { index: 1, method: 'sha1' },
  'maxencecolmant-asterisk.authkeys': { index: 2, method: 'crc' },
  'pulecp-vagrant-pacemaker.authkeys': { index: 1, method: 'sha1' },
  'ryanaudiencepi-heartbeat-template.authkeys': { index: 1, method: 'sha1' },
  'slpcat-freebsd-auth4.authkeys': { index: 4, method: 'sha1' },
};

describe('authkeys corpus', () => {
  const dir = path.join(CORPUS, 'authkeys');
  it('has a verdict for every corpus file', () => {
    expect(readdirSync(dir).sort()).toEqual(Object.keys(AUTHKEYS_VERDICTS).sort());
  });
  it.each(Object.entries(AUTHKEYS_VERDICTS))('%s is accepted: %j', (name, v) => {
    const { config, warnings } = parseAuthkeys(readFileSync(path.join(dir, name)), name);
    expect([config.activeIndex, config.active.method]).toEqual([v.index, v.method]);
    expect(warnings.map((w) => w.code)).toEqual(v.warnings ?? []);
  });
});

describe('authkeys properties', () => {
  it('random bytes give a result or a ConfigError, never another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          parseAuthkeys(bytes, 'authkeys');
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
        }
      }),
      { numRuns: 300 },
    );
  });
  it('random key lines: result or ConfigError; a key never leaks into JSON', () => {
    const word = fc.stringMatching(/^[!-~]{1,12}$/);
    const line = fc.oneof(
      fc.tuple(fc.integer({ min: -2, max: 20 }), fc.constantFrom('crc', 'md5', 'sha1', 'xyz'), fc.option(word)).map(([i, m, k]) => `${i} ${m}${k === null ? '' : ' ' + k}`),
      fc.integer({ min: -1, max: 17 }).map((i) => `auth ${i}`),
      fc.string({ maxLength: 10 }),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 6 }), (lines) => {
        try {
          const { config } = parseAuthkeys(lines.join('\n'), 'authkeys');
          const json = JSON.stringify(config);
          for (const e of config.entries) if (e.key && e.key.length > 6) expect(json).not.toContain(e.key.reveal());
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
