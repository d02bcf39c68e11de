import { describe, expect, it } from 'vitest';
import { parseHaCf } from '../../lib/config/hacf/parse.js';
import { memoryConfigFs } from '../../lib/shared/fs.js';
import { stonithWarnings } from '../../lib/stonith/check.js';
import { runBin } from '../helpers/env.js';
import { mkdtempSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const HACF = 'node node1 node2\nucast eth0 10.0.0.2\nlogfile /dev/null\n';

describe('heartbeat --check: STONITH lines', () => {
  it('warns about unknown types, missing or unsafe plugins and unreadable parameter files, naming the line', () => {
    const hacf = parseHaCf(
      HACF + 'stonith_host * apcsmart /dev/ttyS0 node1\nstonith_host * external/ok node1\nstonith_host * external/open node1\nstonith external/gone gone.cfg\nstonith null null.cfg\nstonith_host node1 meatware node2\n',
      '/etc/ha.d/ha.cf',
    ).config;
    const fs = memoryConfigFs({ '/plugins/ok': '#!/bin/sh\n', '/plugins/open': '#!/bin/sh\n', '/etc/ha.d/null.cfg': 'node1\n' }, { '/plugins/ok': 0o755, '/plugins/open': 0o777 });
    const w = stonithWarnings(hacf, '/etc/ha.d/ha.cf', '/etc/ha.d', fs, { HA_STONITH_EXTERNAL_DIR: '/plugins' });
    expect(w.map((x) => `${x.line} ${x.code} ${x.token}`)).toEqual([
      '4 STONITH_UNKNOWN_TYPE apcsmart',
      '6 STONITH_PLUGIN_UNSAFE external/open',
      '7 STONITH_PLUGIN_NOT_FOUND external/gone',
      '7 STONITH_FILE_MISSING gone.cfg',
    ]);
    expect(w[1]!.message).toBe('STONITH plugin /plugins/open is writable by group/others and will not be run');
  });

  it('bin/heartbeat --check prints them as FILE:LINE warnings and still accepts the configuration', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hbts-stonith-check-'));
    try {
      mkdirSync(path.join(dir, 'resource.d'));
      writeFileSync(path.join(dir, 'ha.cf'), HACF + 'stonith_host * external/absent node1\n');
      writeFileSync(path.join(dir, 'authkeys'), 'auth 1\n1 crc\n');
      chmodSync(path.join(dir, 'authkeys'), 0o600);
      writeFileSync(path.join(dir, 'haresources'), '');
      const r = runBin('heartbeat', ['--check', '--confdir', dir], { env: { HA_STONITH_EXTERNAL_DIR: path.join(dir, 'plugins') } });
      expect(r.status).toBe(0);
      expect(r.stderr).toContain(`${dir}/ha.cf:4: warning: STONITH plugin external/absent not found in ${dir}/plugins: fencing with it will fail`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
