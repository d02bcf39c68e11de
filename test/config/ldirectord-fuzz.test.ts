import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConfigError } from '../../lib/shared/errors.js';
import { parse } from './ldirectord-helpers.js';

/** Either a model or a ConfigError with FILE:LINE diagnostics; anything else is a bug. */
function parseOrConfigError(input: string | Uint8Array): 'ok' | 'error' {
  try {
    parse(input, 'fuzz.cf');
    return 'ok';
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    expect(e.exitCode).toBe(2);
    for (const d of e.diagnostics) {
      expect(d.file).toBe('fuzz.cf');
      expect(d.line).toBeGreaterThanOrEqual(1);
      expect(d.code).toMatch(/^LDIR_[A-Z_]+$/);
    }
    expect(e.message).toMatch(/^fuzz\.cf:\d+: /);
    return 'error';
  }
}

const WORDS = [
  'virtual=', 'virtual6=', 'real=', 'real6=', '192.0.2.1', '192.0.2.2', ':80', ':http', '->', '[::1]', 'gate', 'masq', 'ipip',
  'fallback=', 'checktype=', 'service=', 'scheduler=', 'request=', 'receive=', '"x"', '"', '#', ' ', '\t', '\n', '\r\n',
  'quiescent=', 'yes', 'no', '5', '0', 'l:', 'u:', 'netmask=', 'protocol=', 'fwm', 'udp', 'localhost', '10', ',', '=',
];

describe('ldirectord.cf parser never crashes', () => {
  it('random bytes: a model or a ConfigError, never another exception', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      parseOrConfigError(bytes);
    }), { numRuns: 400 });
  });
  it('random strings built from config words', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...WORDS), { maxLength: 60 }), (words) => {
      parseOrConfigError(words.join(''));
    }), { numRuns: 1000 });
  });
  it('a valid block stays valid with comments, blank lines, CRLF and trailing blanks sprinkled in', () => {
    const body = ['virtual=192.0.2.1:80', '\treal=192.0.2.2:80 gate 3', '\tscheduler=rr', '\tquiescent=yes'];
    fc.assert(fc.property(
      fc.array(fc.record({ blankBefore: fc.boolean(), comment: fc.boolean(), trailing: fc.constantFrom('', ' ', '\t', '  '), crlf: fc.boolean() }), { minLength: body.length, maxLength: body.length }),
      (noise) => {
        const text = body.map((l, i) => {
          const n = noise[i]!;
          return (i > 0 && n.blankBefore ? '\n' : '') + l + (n.comment ? ' # note' : '') + n.trailing + (n.crlf ? '\r\n' : '\n');
        }).join('');
        const v = parse(text).config.virtuals[0]!;
        expect(v).toMatchObject({ scheduler: 'rr', quiescent: true });
        expect(v.reals[0]).toMatchObject({ address: '192.0.2.2', port: 80, weight: 3 });
      },
    ), { numRuns: 300 });
  });
});
