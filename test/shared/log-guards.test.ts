import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REFERENCE } from '../helpers/env.js';
import { RateLimiter, rateLimited, suppressedText } from '../../lib/shared/log/rate-limit.js';
import { REDACTED, Redactor } from '../../lib/shared/log/redact.js';
import { Logger } from '../../lib/shared/log/logger.js';
import { MemorySink } from '../../lib/shared/log/stream-sink.js';
import { haClassicLine } from '../../lib/shared/log/heartbeat-format.js';

describe('redaction', () => {
  const r = new Redactor();
  it('blanks authkeys keys, ldirectord passwd/secret and drbd shared-secret', () => {
    const authkeys = fs.readFileSync(path.join(REFERENCE, 'vectors', 'ucast-2node', 'authkeys'), 'utf8');
    const key = /sha1\s+(\S+)/.exec(authkeys)![1]!;
    for (const line of authkeys.split('\n')) expect(r.redact(line)).not.toContain(key);
    expect(r.redact('1 sha1 somesecret')).toBe(`1 sha1 ${REDACTED}`);
    expect(r.redact('2 md5 abc def')).toBe(`2 md5 ${REDACTED} def`);
    expect(r.redact('login="u" passwd="p w" database="d"')).toBe(`login="u" passwd=${REDACTED} database="d"`);
    expect(r.redact('secret=s3cr3t, x')).toBe(`secret=${REDACTED}, x`);
    expect(r.redact('shared-secret "FooFunFactory";')).toBe(`shared-secret ${REDACTED};`);
    expect(r.redact('cram-hmac-alg sha1; shared-secret abc;')).toBe(`cram-hmac-alg sha1; shared-secret ${REDACTED};`);
  });
  it('leaves ordinary heartbeat messages alone', () => {
    for (const s of ['Link node2:eth0 up.', 'Running /etc/ha.d//resource.d/IPaddr 10.77.0.100 start', 'Heartbeat generation: 1795316413']) {
      expect(r.redact(s)).toBe(s);
    }
  });
  it('a registered secret never appears, whatever text surrounds it', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9]{1,12}$/), fc.string(), fc.string(), (secret, a, b) => {
        const rr = new Redactor();
        rr.addSecret(secret);
        expect(rr.redact(a + secret + b)).not.toContain(secret);
      }),
    );
  });
  it('the Logger redacts before any destination sees the text', () => {
    const sink = new MemorySink();
    const log = new Logger({ destinations: [{ name: 'm', minPriority: 'info', format: haClassicLine('heartbeat'), sink }], pid: 1, clock: () => 0 });
    log.redactor.addSecret('hunter2');
    log.error('bad auth with key hunter2 from 10.0.0.2');
    expect(sink.lines[0]).not.toContain('hunter2');
    expect(sink.lines[0]).toContain(REDACTED);
  });
});

describe('rate limiting (injected clock)', () => {
  it('lets a burst through per interval, then reports how many were suppressed', () => {
    let now = 0;
    const limiter = new RateLimiter({ clock: () => now, intervalMs: 10_000, burst: 3 });
    const out: string[] = [];
    const limited = rateLimited(limiter, (t) => out.push(t));
    const key = 'bad packet from 10.0.0.2';
    for (let i = 0; i < 10; i++) limited(key, () => out.push(`msg ${i}`));
    limited('other key', () => out.push('other'));
    expect(out).toEqual(['msg 0', 'msg 1', 'msg 2', 'other']);
    now = 9_999;
    expect(limited(key, () => out.push('late'))).toBe(false);
    now = 10_000;
    limited(key, () => out.push('next window'));
    expect(out.slice(4)).toEqual([suppressedText(key, 8), 'next window']);
    expect(suppressedText(key, 8)).toBe('bad packet from 10.0.0.2: 8 similar messages suppressed');
  });
  it('drain() hands over what is still held back', () => {
    let now = 0;
    const limiter = new RateLimiter({ clock: () => now, intervalMs: 1000, burst: 1 });
    limiter.check('a');
    limiter.check('a');
    limiter.check('a');
    limiter.check('b');
    expect(limiter.drain()).toEqual([['a', 2]]);
    now = 1;
    expect(limiter.check('a')).toEqual({ allow: true, suppressedBefore: 0 });
  });
  it('matches a plain window model: burst per interval, every suppressed message reported once (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(50), { maxLength: 200 }), fc.integer({ min: 1, max: 5 }), (steps, burst) => {
        let now = 0;
        const limiter = new RateLimiter({ clock: () => now, intervalMs: 100, burst });
        let start: number | undefined;
        let passed = 0;
        let suppressed = 0;
        let reported = 0;
        for (const s of steps) {
          now += s;
          const d = limiter.check('k');
          if (start === undefined || now - start >= 100) {
            start = now;
            passed = 0;
          }
          expect(d.allow).toBe(passed < burst);
          if (d.allow) passed++;
          else suppressed++;
          reported += d.suppressedBefore;
        }
        expect(reported + limiter.drain().reduce((n, [, c]) => n + c, 0)).toBe(suppressed);
      }),
    );
  });
});
