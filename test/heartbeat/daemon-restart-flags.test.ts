/** `-R [-C CLASS]` and HA_RSCTMP, the pure parts (the daemon with them: daemon-resources.test.ts). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { restartOption } from '../../lib/heartbeat/daemon/command.js';
import { restartedClass } from '../../lib/heartbeat/daemon/restart.js';
import { RSCTMP_MODE, resetRscTmp, rscTmpDir } from '../../lib/heartbeat/daemon/rsctmp.js';

describe('-R / -C', () => {
  it('-C takes none, local, foreign or all; anything else is a usage error naming the value', () => {
    expect(restartOption({})).toBeUndefined();
    expect(restartOption({ R: true })).toEqual({});
    for (const c of ['none', 'local', 'foreign', 'all']) expect(restartOption({ R: true, C: c })).toEqual({ current: c });
    expect(restartOption({ R: true, C: 'mine' })).toBe('heartbeat: -C: bad resource type [mine] (none, local, foreign or all)\n');
  });

  it('without -C: local in nice mode (logged as the original logs it), none in legacy', () => {
    const lines: string[] = [];
    const log = { info: (t: string) => lines.push(t) };
    expect(restartedClass({}, { autoFailback: 'on' }, log)).toBeUndefined();
    expect(restartedClass({ restart: {} }, { autoFailback: 'off' }, log)).toBe('local');
    expect(lines).toEqual(['restart: assuming HB_LOCAL_RSC']);
    expect(restartedClass({ restart: {} }, { autoFailback: 'legacy' }, log)).toBe('none');
    expect(restartedClass({ restart: { current: 'foreign' } }, { autoFailback: 'on' }, log)).toBe('foreign');
    expect(lines).toHaveLength(1);
  });
});

describe('HA_RSCTMP at start', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-rsctmp-'));
  });
  afterEach(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('RUN_DIR/heartbeat/rsctmp is emptied and recreated with mode 1777 whatever the umask', () => {
    const dir = rscTmpDir(tmp);
    expect(dir).toBe(path.join(tmp, 'heartbeat', 'rsctmp'));
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'Delay-1'), '');
    fs.writeFileSync(path.join(dir, 'sub', 'send_arp-10.0.0.1'), '123');
    const old = process.umask(0o077);
    try {
      expect(resetRscTmp(dir)).toBeUndefined();
    } finally {
      process.umask(old);
    }
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(fs.statSync(dir).mode & 0o7777).toBe(RSCTMP_MODE);
    // Missing at first (a fresh /run): created.
    fs.rmSync(path.join(tmp, 'heartbeat'), { recursive: true });
    expect(resetRscTmp(dir)).toBeUndefined();
    expect(fs.statSync(dir).isDirectory()).toBe(true);
  });

  it('a path that cannot be made is reported, not thrown', () => {
    fs.writeFileSync(path.join(tmp, 'heartbeat'), 'a file');
    expect(resetRscTmp(rscTmpDir(tmp))).toMatch(/^Cannot create .*rsctmp: /);
  });
});
