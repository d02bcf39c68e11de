/**
 * The pure parts of SIGHUP reload: the membership machine taking a new
 * config in place, planReload's diff of two configurations, and the Reloader
 * refusing bad configs (nothing changes) or applying good ones, over an
 * in-memory host.
 */
import { describe, expect, it } from 'vitest';
import { memoryConfigFs } from '../../lib/shared/fs.js';
import { checkHaDir, type HaDirConfig } from '../../lib/heartbeat/config-check.js';
import { Reloader, planReload, type ReloadHost } from '../../lib/heartbeat/daemon/reload.js';
import { daemonSettings, type DaemonSettings } from '../../lib/heartbeat/daemon/settings.js';
import { MemorySegment, type Medium, type MediumSpec } from '../../lib/heartbeat/media/index.js';
import { BASE_CONFIG, Harness } from './membership-harness.js';

const BASE_HACF = [
  'logfacility none',
  'keepalive 200ms',
  'warntime 1',
  'deadtime 2',
  'initdead 4',
  'ucast eth0 10.0.0.2',
  'ucast eth0 10.0.0.3',
  'auto_failback on',
  'crm off',
  'node node1',
  'node node2',
  '',
].join('\n');
const KEYS = 'auth 1\n1 sha1 somesecret\n';

function config(hacf: string, authkeys = KEYS): HaDirConfig {
  const fs = memoryConfigFs({ '/ha/ha.cf': hacf, '/ha/authkeys': authkeys, '/ha/haresources': '' }, { '/ha/authkeys': 0o600 });
  return checkHaDir('/ha', fs, { localNode: 'node1' }).config;
}
const settingsOf = (c: HaDirConfig): DaemonSettings => daemonSettings(c.hacf, c.authkeys, 'node1', '/ha/ha.cf');

describe('MembershipMachine.reconfigure', () => {
  function upPair(): Harness {
    const h = new Harness();
    h.start(0);
    h.status(100, 'node2', { st: 'up' });
    h.packet(150, { from: 'node2', link: 'eth0', type: 'repnodes', seq: 2, generation: 1 });
    for (let t = 1000; t < 6000; t += 1000) h.status(t, 'node2');
    h.runUntil(6000);
    return h;
  }

  it('new timings: a status with the new dt at once, the keepalive grid restarts, sequence tracking goes on', () => {
    const h = upPair();
    const step = h.machine.reconfigure(6000, { ...BASE_CONFIG, keepaliveMs: 2000, deadtimeMs: 8000, warntimeMs: 4000, initdeadMs: 16000 });
    expect(step.actions.filter((a) => a.kind === 'sendStatus')).toEqual([{ kind: 'sendStatus', status: 'active', deadtimeMs: 8000, protocol: true }]);
    expect(step.nextDeadline).toBe(8000);
    h.next = step.nextDeadline;
    for (let t = 7000; t <= 12_000; t += 1000) h.status(t, 'node2');
    h.runUntil(12_000);
    expect(h.of('sendStatus').filter((x) => x.at > 6000).map((x) => x.at)).toEqual([8000, 10_000, 12_000]);
    // node2 is still judged by its own advertised dt (5000), and its next seq is in order.
    expect(h.machine.nodeView('node2')?.status).toBe('active');
    h.status(12_100, 'node2');
    expect(h.machine.counters().badSequence + h.machine.counters().oldDuplicate).toBe(0);
  });

  it('an added medium is a new link (dead until heard); a removed one is gone; added nodes start their clock now, removed ones are forgotten', () => {
    const h = upPair();
    const step = h.machine.reconfigure(6000, { ...BASE_CONFIG, nodes: ['node1', 'node2', 'node3'], media: ['eth0', '/dev/ttyS0'] });
    h.next = step.nextDeadline;
    expect(h.machine.nodeView('node2')?.links).toEqual([
      { name: 'eth0', status: 'up' },
      { name: '/dev/ttyS0', status: 'dead' },
    ]);
    expect(h.machine.nodeView('node3')?.status).toBe('init');
    h.status(6100, 'node2', { link: '/dev/ttyS0' });
    expect(h.logs(6100)).toContain('info: Link node2:/dev/ttyS0 up.');
    // node3 never talks: dead one deadtime (5000) after the reload.
    for (let t = 7000; t <= 10_000; t += 1000) h.status(t, 'node2', { link: '/dev/ttyS0' });
    h.runUntil(10_999);
    expect(h.machine.nodeView('node3')?.status).toBe('init');
    h.runUntil(11_000);
    expect(h.machine.nodeView('node3')?.status).toBe('dead');

    const step2 = h.machine.reconfigure(11_100, { ...BASE_CONFIG, nodes: ['node1', 'node2'], media: ['/dev/ttyS0'] });
    h.next = step2.nextDeadline;
    expect(h.machine.nodeView('node3')).toBeUndefined();
    expect(h.machine.nodeViews().map((n) => n.name)).toEqual(['node1', 'node2']);
    expect(h.machine.nodeView('node2')?.links).toEqual([{ name: '/dev/ttyS0', status: 'up' }]);
  });

  it('refuses a config it cannot run and changes nothing', () => {
    const h = upPair();
    expect(() => h.machine.reconfigure(6000, { ...BASE_CONFIG, deadtimeMs: 1000, keepaliveMs: 1000 })).toThrow(/deadtime/);
    expect(() => h.machine.reconfigure(6000, { ...BASE_CONFIG, localNode: 'node2' })).toThrow(/local node/);
    expect(h.machine.nodeView('node2')?.deadtimeMs).toBe(5000);
  });
});

describe('planReload', () => {
  it('lists what is applied and what needs a restart; keeps, opens and closes media by what they are', () => {
    const a = config(BASE_HACF);
    const b = config(
      BASE_HACF.replace('deadtime 2', 'deadtime 3')
        .replace('keepalive 200ms', 'keepalive 300ms')
        .replace('ucast eth0 10.0.0.2\n', 'bcast eth0\n')
        .replace('auto_failback on', 'auto_failback off')
        .replace('node node2', 'node node2\nnode node3'),
    );
    const p = planReload(a, settingsOf(a), b, settingsOf(b));
    expect(p.haCfChanged).toBe(true);
    expect(p.keysChanged).toBe(false);
    expect(p.applied).toEqual([
      'keepalive now 300 ms (was 200 ms)',
      'deadtime now 3000 ms (was 2000 ms)',
      'medium removed: ucast eth0 10.0.0.2',
      'medium added: bcast eth0',
      'node added: node3',
    ]);
    expect(p.notApplied).toEqual(['autoFailback']);
    // New specs: [bcast eth0, ucast eth0 10.0.0.3]: the second keeps running medium 1.
    expect(p.open).toEqual([0]);
    expect(p.keep).toEqual([-1, 1]);
    expect(p.close).toEqual([0]);
  });

  it('moving lines, comments and blank lines are no change; a new active key is; udpport reopens every UDP medium', () => {
    const a = config(BASE_HACF);
    const moved = config('# a comment\n\n' + BASE_HACF.replace('ucast eth0 10.0.0.2\nucast eth0 10.0.0.3\n', '').replace('crm off', 'crm off\nucast eth0 10.0.0.2\nucast eth0 10.0.0.3'));
    const p = planReload(a, settingsOf(a), moved, settingsOf(moved));
    expect(p.haCfChanged).toBe(false);
    expect(p.close).toEqual([]);
    const rotated = config(BASE_HACF, 'auth 2\n1 sha1 somesecret\n2 md5 other\n');
    expect(planReload(a, settingsOf(a), rotated, settingsOf(rotated))).toMatchObject({ haCfChanged: false, keysChanged: true });
    const port = config('udpport 695\n' + BASE_HACF);
    expect(planReload(a, settingsOf(a), port, settingsOf(port))).toMatchObject({ open: [0, 1], close: [0, 1] });
  });
});

describe('Reloader', () => {
  function host(files: { hacf: string; authkeys?: string }, failOpen = false) {
    const lan = new MemorySegment();
    const lines: string[] = [];
    const calls: { settings: DaemonSettings; media: readonly Medium[] }[] = [];
    const opened: Medium[] = [];
    const first = config(BASE_HACF);
    let media: readonly Medium[] = settingsOf(first).media.map((s, i) => lan.attach({ name: (s as { interface: string }).interface, address: `10.0.0.${10 + i}` }));
    const h: ReloadHost = {
      log: { info: (m) => lines.push(`info: ${m}`), warn: (m) => lines.push(`WARN: ${m}`), error: (m) => lines.push(`ERROR: ${m}`), reopen: () => lines.push('reopen') },
      load: () => {
        try {
          return { config: config(files.hacf, files.authkeys) };
        } catch (e) {
          return { text: (e as Error).message };
        }
      },
      settings: settingsOf,
      openMedium: async (spec: MediumSpec) => {
        if (failOpen) throw new Error(`no such device ${spec.kind === 'serial' ? spec.device : spec.interface}`);
        const m = lan.attach({ name: 'new', address: `10.0.0.${50 + opened.length}` });
        opened.push(m);
        return m;
      },
      media: () => media,
      reconfigure: (settings, m) => {
        calls.push({ settings, media: m });
        media = m;
      },
      addSecrets: () => {},
      applyHaCf: async () => {
        lines.push('applyHaCf');
      },
    };
    return { reloader: new Reloader(h, first, settingsOf(first), '/ha'), lines, calls, opened, media: () => media };
  }

  it('nothing changed: "Configuration unchanged." and nothing is touched', async () => {
    const t = host({ hacf: BASE_HACF });
    expect(await t.reloader.reload()).toBe('unchanged');
    expect(t.lines).toEqual(['reopen', 'info: Configuration unchanged.']);
    expect(t.calls).toEqual([]);
  });

  it('a broken ha.cf is refused with its FILE:LINE diagnostics; the running configuration stays', async () => {
    const t = host({ hacf: BASE_HACF.replace('deadtime 2', 'deadtime banana') });
    const before = t.reloader.current.config;
    expect(await t.reloader.reload()).toBe('refused');
    expect(t.lines.some((l) => /^ERROR: .*\/ha\/ha\.cf:4/.test(l))).toBe(true);
    expect(t.lines.at(-1)).toMatch(/^ERROR: Configuration errors: the new configuration is refused; heartbeat pid \d+ keeps running with the old one\.$/);
    expect(t.calls).toEqual([]);
    expect(t.reloader.current.config).toBe(before);
  });

  it('a medium that cannot be opened is refused the same way; nothing changes', async () => {
    const t = host({ hacf: BASE_HACF.replace('crm off', 'crm off\nbcast eth1') }, true);
    expect(await t.reloader.reload()).toBe('refused');
    expect(t.lines).toContain('ERROR: /ha/ha.cf: cannot open bcast eth1: no such device eth1');
    expect(t.calls).toEqual([]);
  });

  it('a good change is applied: kept media are the same objects, removed ones are closed, the next reload compares with it', async () => {
    const files = { hacf: BASE_HACF.replace('ucast eth0 10.0.0.2\n', '').replace('crm off', 'crm off\nbcast eth0') };
    const t = host(files);
    const old = t.media();
    expect(await t.reloader.reload()).toBe('applied');
    expect(t.calls).toHaveLength(1);
    const now = t.calls[0]!.media;
    expect(now).toEqual([old[1], t.opened[0]]);
    expect(old[0]!.closed).toBe(true);
    expect(old[1]!.closed).toBe(false);
    expect(t.lines).toContain('info: medium removed: ucast eth0 10.0.0.2');
    expect(t.lines).toContain('info: medium added: bcast eth0');
    expect(t.lines).toContain('applyHaCf');
    expect(await t.reloader.reload()).toBe('unchanged');
  });

  it('an authkeys-only change: "Rereading authentication file." and the new keys, ha.cf untouched', async () => {
    const t = host({ hacf: BASE_HACF, authkeys: 'auth 2\n1 sha1 somesecret\n2 md5 other\n' });
    expect(await t.reloader.reload()).toBe('applied');
    expect(t.lines).toContain('info: Rereading authentication file.');
    expect(t.lines.join('\n')).not.toContain('changed: applying it');
    expect(t.lines).not.toContain('applyHaCf');
    expect(t.calls[0]!.settings.activeKey).toMatchObject({ index: 2, method: 'md5' });
  });
});
