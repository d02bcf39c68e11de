import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHaCf } from '../../lib/config/hacf/parse.js';
import { configFileLine, deviceIdOf, deviceSpecs, externalName, hostList, isKnownType, listsHost, namedParams, positionalParams } from '../../lib/stonith/index.js';

const BASE = 'node node1 node2\nbcast eth0\nlogfile /dev/null\n';

describe('stonith parameters (pure)', () => {
  it('positional values follow the names; the last name takes the rest of the line', () => {
    expect(positionalParams(['hostlist'], '  node1 node2 ')).toEqual(new Map([['hostlist', 'node1 node2 ']]));
    expect(positionalParams(['ipaddr', 'user', 'pass'], 'ip1\tadmin  my secret words')).toEqual(
      new Map([
        ['ipaddr', 'ip1'],
        ['user', 'admin'],
        ['pass', 'my secret words'],
      ]),
    );
    expect(positionalParams(['a', 'b'], 'only-one')).toBeUndefined();
    expect(positionalParams(['a'], '   ')).toBeUndefined();
    expect(positionalParams([], 'anything')).toEqual(new Map());
  });

  it('property: blank-free values joined by blanks come back by name', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9_.:=-]{1,8}$/);
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z]{1,6}$/), { minLength: 1, maxLength: 5 }), fc.array(word, { minLength: 5, maxLength: 5 }), fc.constantFrom(' ', '\t', '  '), (names, values, sep) => {
        const vals = values.slice(0, names.length);
        const got = positionalParams(names, vals.join(sep));
        expect(got).toEqual(new Map(names.map((n, i) => [n, vals[i]!])));
      }),
    );
  });

  it('property: never throws, and a result has exactly the names', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 4 }), fc.string(), (names, text) => {
        const got = positionalParams(names, text);
        if (got !== undefined) expect([...got.keys()].sort()).toEqual([...new Set(names)].sort());
      }),
    );
  });

  it('a config file: the first line that is not empty or a # comment', () => {
    expect(configFileLine('# power switch\n\nsw1 admin secret\nignored\n')).toBe('sw1 admin secret');
    expect(configFileLine('a b\r\n')).toBe('a b');
    expect(configFileLine('# only\n\n')).toBeUndefined();
  });

  it('name=value words, host lists, type names', () => {
    expect(namedParams(['hostlist=a b', 'x='])).toEqual(
      new Map([
        ['hostlist', 'a b'],
        ['x', ''],
      ]),
    );
    expect(namedParams(['novalue'])).toBeUndefined();
    expect(hostList('node1, node2\tnode3')).toEqual(['node1', 'node2', 'node3']);
    expect(listsHost(['Node1'], 'NODE1')).toBe(true);
    expect(externalName('external/ipmi')).toBe('ipmi');
    expect(externalName('external/../x')).toBeUndefined();
    expect(externalName('external/')).toBeUndefined();
    expect(isKnownType('apcsmart')).toBe(false);
    expect(isKnownType('meatware')).toBe(true);
    expect(deviceIdOf('null')).toBe('NULL STONITH device');
    expect(deviceIdOf('external/x')).toBe('external/x');
  });

  it('devices for this node: stonith lines and stonith_host lines naming it or *, in file order', () => {
    const hacf = parseHaCf(
      BASE + 'stonith_host node2 null node1\nstonith_host * external/ipmi node1 10.0.0.1 admin pw\nstonith external/rackpdu /etc/ha.d/pdu.cfg\nstonith_host node1 ssh node2\n',
      'ha.cf',
    ).config;
    expect(deviceSpecs(hacf, 'node2')).toEqual([
      { line: 4, type: 'null', source: { kind: 'inline', params: 'node1' } },
      { line: 5, type: 'external/ipmi', source: { kind: 'inline', params: 'node1 10.0.0.1 admin pw' } },
      { line: 6, type: 'external/rackpdu', source: { kind: 'file', file: '/etc/ha.d/pdu.cfg' } },
    ]);
    expect(deviceSpecs(hacf, 'NODE1').map((d) => d.type)).toEqual(['external/ipmi', 'external/rackpdu', 'ssh']);
    expect(deviceSpecs(parseHaCf(BASE, 'ha.cf').config, 'node1')).toEqual([]);
  });
});
