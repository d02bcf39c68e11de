import { describe, expect, it } from 'vitest';
import { parseHaCf } from '../../lib/config/hacf/parse.js';
import { parseHaresources } from '../../lib/config/haresources/parse.js';
import { DEFAULT_SCRIPT_TIMEOUT_MS, resourceSettings } from '../../lib/resources/index.js';

const HACF = 'node node1\nnode node2\nucast eth0 10.0.0.2\nauto_failback off\nlogfile /dev/null\n';
const hares = parseHaresources('node1 10.0.0.10 apache\n', 'haresources', { nodes: ['node1', 'node2'] }).config;

describe('resource settings from ha.cf and haresources', () => {
  it('takes peer, failback mode, groups and the default script limit', () => {
    const s = resourceSettings(parseHaCf(HACF, 'ha.cf').config, hares, 'Node1');
    expect(s.config.localNode).toBe('node1');
    expect(s.config.peerNode).toBe('node2');
    expect(s.config.autoFailback).toBe('off');
    expect(s.config.groups.map((g) => g.key)).toEqual(['10.0.0.10']);
    expect(s.config.stonithDevice).toBeUndefined();
    expect(s.scriptTimeoutMs).toBe(DEFAULT_SCRIPT_TIMEOUT_MS);
  });

  it('reads env SCRIPT_TIMEOUT and a stonith_host device', () => {
    const s = resourceSettings(parseHaCf(HACF + 'env SCRIPT_TIMEOUT=2.5\nstonith_host * external/ipmi a b\n', 'ha.cf').config, hares, 'node2');
    expect(s.scriptTimeoutMs).toBe(2_500);
    expect(s.config.stonithDevice).toBe('external/ipmi');
  });

  it('refuses a node not in ha.cf and more than two nodes', () => {
    expect(() => resourceSettings(parseHaCf(HACF, 'ha.cf').config, hares, 'node3')).toThrow(/not in configuration/);
    expect(() => resourceSettings(parseHaCf(HACF + 'node node3\n', 'ha.cf').config, hares, 'node1')).toThrow(/two nodes/);
  });
});
