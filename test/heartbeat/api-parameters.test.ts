/** getparm's table: values as written, the original's defaults, derived timings (checked against a live 3.0.6 daemon). */
import { describe, expect, it } from 'vitest';
import { apiParameters, recordedDirectives } from '../../lib/heartbeat/api/index.js';

describe('apiParameters', () => {
  it('defaults as a 3.0.6 daemon with a minimal ha.cf reports them', () => {
    // Live daemon with `logfacility local0`, `bcast eth0`, `auto_failback on`, `node vm server1`:
    // keepalive 1000ms, deadtime 30000ms.
    const p = apiParameters({ directives: [['logfacility', 'local0'], ['auto_failback', 'on']], deadtimeMs: 30000, logFacility: 128 });
    expect(p.keepalive).toBe('1000ms');
    expect(p.deadtime).toBe('30000ms');
    expect(p.warntime).toBe('15000ms');
    expect(p.initdead).toBe('30000ms');
    expect(p.deadping).toBe('30000ms');
    expect(p.udpport).toBe('694');
    expect(p.auto_failback).toBe('on');
    expect(p.pacemaker).toBe('false');
    expect(p.logfile).toBe('/dev/null');
    expect(p.use_logd).toBeUndefined();
    expect(p.debug).toBe('0');
    expect(p.hbversion).toBe('3.0.6');
  });

  it('values as written, last one wins, crm is pacemaker, multi-valued directives are not parameters', () => {
    // The recorded cluster: keepalive 1, warntime 3, deadtime 5, initdead 10 (cl_status catalogue).
    const p = apiParameters({
      directives: [['keepalive', '2'], ['keepalive', '1'], ['warntime', '3'], ['deadtime', '5'], ['initdead', '10'], ['crm', 'off'], ['node', 'node1']],
      deadtimeMs: 5000,
    });
    expect([p.keepalive, p.warntime, p.deadtime, p.initdead, p.pacemaker]).toEqual(['1', '3', '5', '10', 'off']);
    expect(p.deadping).toBe('5000ms');
    expect(p.node).toBeUndefined();
    expect(p.auto_failback).toBe('legacy');
    expect(p.use_logd).toBe('yes');
  });

  it('initdead derived as the original: deadtime over 10 s, 12 s under 6 s, twice deadtime between', () => {
    expect(apiParameters({ directives: [], deadtimeMs: 5000 }).initdead).toBe('12000ms');
    expect(apiParameters({ directives: [], deadtimeMs: 8000 }).initdead).toBe('16000ms');
    expect(apiParameters({ directives: [], deadtimeMs: 12000 }).initdead).toBe('12000ms');
  });
});

describe('recordedDirectives', () => {
  it('cuts ha.cf as the original reader does: comments, blanks or commas between values, each value applied', () => {
    const text = [
      '# a comment',
      '  keepalive 2 # two seconds',
      'deadtime\t10,12\r',
      'node alpha beta',
      'ucast eth0 10.0.0.2',
      'crm off',
      'logfacility     local0',
      '',
    ].join('\n');
    expect(recordedDirectives(text)).toEqual([
      ['keepalive', '2'],
      ['deadtime', '10'],
      ['deadtime', '12'],
      ['crm', 'off'],
      ['logfacility', 'local0'],
    ]);
    const p = apiParameters({ directives: recordedDirectives(text), deadtimeMs: 12000 });
    expect([p.keepalive, p.deadtime, p.pacemaker]).toEqual(['2', '12', 'off']);
  });
});
