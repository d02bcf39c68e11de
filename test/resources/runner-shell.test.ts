/**
 * The resource shell end to end in one process: two nodes' ResourceShells
 * joined by an in-memory wire, real scripts in a temp dir (one state dir per
 * node), real timers. Waits are bounded and wait for the event itself.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ResourceShell } from '../../lib/resources/shell.js';
import { buildScriptEnv } from '../../lib/resources/runner/index.js';
import type { RscStatus } from '../../lib/resources/index.js';
import { parseHaresources } from './manager-groups.js';

let root: string;
const shells: ResourceShell[] = [];

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'hbts-shell-'));
  const rdir = path.join(root, 'resource.d');
  mkdirSync(rdir);
  const svc = `#!/bin/sh
f="$STATE/$1"
eval act=\\\${$#}
case "$act" in
  start) touch "$f";;
  stop) [ -e "$STATE/stuck-$1" ] && exit 1; rm -f "$f";;
  status) if [ -e "$f" ]; then echo running; else echo stopped; fi;;
esac
exit 0
`;
  writeFileSync(path.join(rdir, 'svc'), svc);
  chmodSync(path.join(rdir, 'svc'), 0o755);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  for (const s of shells.splice(0)) s.close();
});

const HARES = 'node1 svc::a1 svc::a2\nnode2 svc::b1\n';

/** Resolves when `pred` holds after some callback, or fails after `ms`. */
function waiter() {
  const checks: (() => void)[] = [];
  return {
    poke: () => checks.forEach((c) => c()),
    until(pred: () => boolean, ms = 5_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('timed out waiting')), ms);
        const check = () => {
          if (pred()) {
            clearTimeout(t);
            resolve();
          }
        };
        checks.push(check);
        check();
      });
    },
  };
}

function cluster(opts: { autoFailback?: 'on' | 'off' | 'legacy'; escalateTo?: string } = {}) {
  const w = waiter();
  const status: Record<string, RscStatus | undefined> = {};
  const logs = { node1: [] as string[], node2: [] as string[] };
  const state = (n: string) => path.join(root, `state-${n}`);
  const nodes: Record<string, ResourceShell> = {};
  const cut = { on: false };
  for (const [me, peer] of [['node1', 'node2'], ['node2', 'node1']] as const) {
    rmSync(state(me), { recursive: true, force: true });
    mkdirSync(state(me));
    const shell = new ResourceShell({
      config: {
        localNode: me,
        peerNode: peer,
        groups: parseHaresources(HARES),
        autoFailback: opts.autoFailback ?? 'on',
        stopFailureCommand: ['touch', opts.escalateTo ?? path.join(root, `escalated-${me}`)],
      },
      runner: {
        dirs: [path.join(root, 'resource.d')],
        env: { ...buildScriptEnv({ haDir: root, nodeName: me }), STATE: state(me), HA_STOPRETRYMAX: '1' },
        timeoutMs: 5_000,
        stopRetryDelayMs: 10,
      },
      send: (m) => {
        if (!cut.on) setImmediate(() => nodes[peer]!.feed({ kind: 'message', message: { ...m, src: me } }));
      },
      log: (level, text) => {
        logs[me].push(`${level}: ${text}`);
        w.poke();
      },
      rscstatus: (v) => {
        status[me] = v;
        w.poke();
      },
      escalate: (cmd) => {
        writeFileSync(cmd[1]!, '');
        w.poke();
      },
    });
    shells.push(shell);
    nodes[me] = shell;
  }
  const running = (n: string) => ['a1', 'a2', 'b1'].filter((r) => existsSync(path.join(state(n), r)));
  return { w, status, logs, nodes, state, running, cut };
}

describe('resource shell with real scripts', () => {
  it('starts each group on its owner, and fails over on peer death', async () => {
    const c = cluster();
    c.nodes.node1!.feed({ kind: 'comm-up', peer: 'active' });
    c.nodes.node2!.feed({ kind: 'comm-up', peer: 'active' });
    await c.w.until(() => c.status.node1 === 'local' && c.status.node2 === 'local');
    expect(c.running('node1')).toEqual(['a1', 'a2']);
    expect(c.running('node2')).toEqual(['b1']);

    c.cut.on = true;
    c.nodes.node2!.feed({ kind: 'peer-dead' });
    await c.w.until(() => c.status.node2 === 'all');
    expect(c.running('node2')).toEqual(['a1', 'a2', 'b1']);
    expect(c.logs.node2).toContain('info: Acquiring resource group: node1 svc::a1 svc::a2');
  });

  it('a graceful stop hands every group to the peer', async () => {
    const c = cluster({ autoFailback: 'off' });
    c.nodes.node1!.feed({ kind: 'comm-up', peer: 'active' });
    c.nodes.node2!.feed({ kind: 'comm-up', peer: 'active' });
    await c.w.until(() => c.status.node1 === 'local' && c.status.node2 === 'local');
    c.nodes.node1!.feed({ kind: 'shutdown' });
    await c.w.until(() => c.status.node2 === 'all' && c.logs.node1.includes('info: All HA resources relinquished.'));
    expect(c.running('node1')).toEqual([]);
    expect(c.running('node2')).toEqual(['a1', 'a2', 'b1']);
  });

  it('a stop that keeps failing on a running resource runs the final command and keeps the group', async () => {
    const c = cluster();
    c.nodes.node1!.feed({ kind: 'comm-up', peer: 'dead' });
    await c.w.until(() => c.status.node1 === 'all');
    writeFileSync(path.join(c.state('node1'), 'stuck-a2'), '');
    c.nodes.node1!.feed({ kind: 'shutdown' });
    const marker = path.join(root, 'escalated-node1');
    await c.w.until(() => existsSync(marker));
    expect(c.logs.node1).toContain('CRIT: Resource STOP failure. Reboot required!');
    expect(c.logs.node1.filter((l) => l.startsWith('info: Retrying failed stop operation'))).toEqual(['info: Retrying failed stop operation [svc::a2]']);
    expect(c.logs.node1).not.toContain('info: All HA resources relinquished.');
    expect(readFileSync(marker, 'utf8')).toBe('');
  });
});
