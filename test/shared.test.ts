import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { didYouMean, editDistance } from '../lib/shared/suggest.js';
import { splitLines } from '../lib/shared/text.js';
import { memoryConfigFs, globSegmentToRegExp } from '../lib/shared/fs.js';
import { ConfigError, formatDiagnostic } from '../lib/shared/errors.js';

describe('suggest', () => {
  it('finds a close directive name', () => {
    expect(didYouMean('keepalve', ['keepalive', 'deadtime', 'warntime'])).toBe('keepalive');
    expect(didYouMean('zzzzzz', ['keepalive', 'deadtime'])).toBeUndefined();
  });
  it('edit distance is a metric on small strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), (a, b) => {
        expect(editDistance(a, b)).toBe(editDistance(b, a));
        expect(editDistance(a, a)).toBe(0);
        expect(editDistance(a, b)).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
    );
  });
});

describe('text', () => {
  it('splits CRLF and a missing final newline', () => {
    expect(splitLines('a\r\nb\nc')).toEqual([
      { line: 1, text: 'a' },
      { line: 2, text: 'b' },
      { line: 3, text: 'c' },
    ]);
  });
});

describe('config fs', () => {
  it('globs in memory, sorted, per segment', () => {
    const mfs = memoryConfigFs({ '/etc/drbd.d/b.res': '', '/etc/drbd.d/a.res': '', '/etc/drbd.d/x.conf': '' });
    expect(mfs.glob('/etc/drbd.d/*.res')).toEqual(['/etc/drbd.d/a.res', '/etc/drbd.d/b.res']);
    expect(globSegmentToRegExp('[!a]*.res').test('b.res')).toBe(true);
    expect(globSegmentToRegExp('[!a]*.res').test('a.res')).toBe(false);
  });
});

describe('errors', () => {
  it('formats FILE:LINE: message and keeps the exit code', () => {
    const e = new ConfigError({ file: 'ha.cf', line: 3, code: 'X', message: 'bad', token: 'tok' }, 10);
    expect(e.message).toBe('ha.cf:3: bad');
    expect(e.exitCode).toBe(10);
    expect(e.token).toBe('tok');
    expect(formatDiagnostic(e.diagnostics[0]!)).toBe('ha.cf:3: bad');
  });
});
