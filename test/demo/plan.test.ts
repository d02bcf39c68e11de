/**
 * The demo's configuration (lib/demo/plan.ts, cluster.ts writeNodeFiles):
 * the generated ha.cf, authkeys and haresources of each mode pass our own
 * `heartbeat --check`, and bad options are refused with a usage error.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoFiles, writeNodeFiles } from '../../lib/demo/cluster.js';
import { DemoErrorCode, haresourcesText, hacfText, makePlan } from '../../lib/demo/plan.js';
import { runBin } from '../helpers/env.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('demo plan', () => {
  it('netns: ucast to the peer on udpport 694, IPaddr2 then the web service on the service IP', () => {
    const p = makePlan({ mode: 'netns', secret: 's3cret' });
    expect(p.nodes.map((n) => n.address)).toEqual(['10.88.0.11', '10.88.0.12']);
    const cf = hacfText(p, p.nodes[0], '/x/ha-log');
    expect(cf).toContain('ucast eth0 10.88.0.12\n');
    expect(cf).not.toContain('ucast eth0 10.88.0.11');
    expect(cf).toContain('udpport 694\n');
    expect(cf).toContain('keepalive 200ms\nwarntime 1\ndeadtime 2\ninitdead 4\n');
    expect(cf).toMatch(/^node node1\nnode node2$/m);
    expect(haresourcesText(p)).toContain('\nnode1 IPaddr2::10.88.0.100/24/eth0 hbdemo-web::10.88.0.100::80\n');
  });

  it('loopback: multicast on lo with loop on, the web service binds 127.0.0.100 itself', () => {
    const p = makePlan({ mode: 'loopback', secret: 's', hbPort: 20001, webPort: 20002 });
    const cf = hacfText(p, p.nodes[1], '/x/ha-log');
    expect(cf).toContain('mcast lo 239.255.77.1 20001 1 1\n');
    expect(cf).not.toContain('udpport');
    expect(haresourcesText(p)).toContain('\nnode1 hbdemo-web::127.0.0.100::20002\n');
  });

  it('refuses a bad subnet, port or loopback net with DEMO_USAGE', () => {
    expect(() => makePlan({ mode: 'netns', secret: 's', subnet: '10.300.0' })).toThrow(expect.objectContaining({ code: DemoErrorCode.Usage }));
    expect(() => makePlan({ mode: 'netns', secret: 's', subnet: '10.0' })).toThrow(expect.objectContaining({ code: DemoErrorCode.Usage }));
    expect(() => makePlan({ mode: 'loopback', secret: 's', webPort: 70000 })).toThrow(expect.objectContaining({ code: DemoErrorCode.Usage }));
    expect(() => makePlan({ mode: 'loopback', secret: 's', loopbackNet: '10.0.0' })).toThrow(expect.objectContaining({ code: DemoErrorCode.Usage }));
  });

  for (const mode of ['netns', 'loopback'] as const) {
    it(`${mode}: each node's generated ha.d passes heartbeat --check (one warning: the short initdead); authkeys is 0600`, () => {
      const work = mkdtempSync(path.join(tmpdir(), 'hbdemo-plan-'));
      dirs.push(work);
      const p = makePlan({ mode, secret: 'abc' });
      for (const n of p.nodes) {
        const d = writeNodeFiles(p, repoFiles(), work, n);
        expect(statSync(path.join(d.haDir, 'authkeys')).mode & 0o777).toBe(0o600);
        expect(statSync(path.join(d.haDir, 'resource.d/hbdemo-web')).mode & 0o111).not.toBe(0);
        const r = runBin('heartbeat', ['--check', '--confdir', d.haDir]);
        // The short demo timings draw the original's initdead warning, nothing else.
        const lines = r.stderr.trim().split('\n').filter(Boolean);
        expect(lines.filter((l) => !/ha\.cf:7: warning: initdead \[4000 ms\] may be too small/.test(l))).toEqual([]);
        expect(r.status).toBe(0);
      }
    });
  }
});
