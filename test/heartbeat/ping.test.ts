/**
 * Ping nodes: the output parser and command (both iputils' and GNU
 * inetutils' formats), and the Pinger with the real `ping` on loopback
 * addresses (a group answers when one member does) and with a stand-in that
 * fails the way ping does without a route.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LineSplitter, Pinger, parsePingLine, pingCommand } from '../../lib/heartbeat/ping/index.js';
import { nodeStatusMessage, linkStatusMessage, clientEnv } from '../../lib/heartbeat/daemon/companions.js';
import { itWithTools } from '../helpers/env.js';

describe('ping output', () => {
  it.each([
    ['64 bytes from 127.0.0.1: icmp_seq=0 ttl=64 time=0.038 ms', 0], // inetutils
    ['64 bytes from 10.77.0.254: icmp_seq=17 ttl=64 time=0.05 ms', 17], // iputils -n
    ['64 bytes from gw.example (10.0.0.1): icmp_seq=3 ttl=63 time=1.2 ms', 3], // iputils with names
    ['64 bytes from 10.0.0.1: icmp_seq=4 ttl=64 time=0.1 ms (DUP!)', 4],
    ['64 bytes from fe80::1%eth0: icmp_seq=1 ttl=64 time=0.04 ms', 1],
  ])('a reply: %s', (line, seq) => {
    expect(parsePingLine(line)).toEqual({ kind: 'reply', seq });
  });

  it.each([
    'PING 10.0.0.1 (10.0.0.1): 56 data bytes',
    '92 bytes from 10.77.0.11: Destination Host Unreachable',
    'From 10.77.0.11 icmp_seq=1 Destination Host Unreachable',
    '--- 10.0.0.1 ping statistics ---',
    '5 packets transmitted, 5 packets received, 0% packet loss',
    '',
  ])('not a reply: %j', (line) => {
    expect(parsePingLine(line).kind).toBe('other');
  });

  it('recognises its complaints', () => {
    expect(parsePingLine('ping: sending packet: Network is unreachable')).toEqual({ kind: 'error', text: 'ping: sending packet: Network is unreachable' });
    expect(parsePingLine('ping6: unknown host').kind).toBe('error');
  });

  it('pings every keepalive, numerically', () => {
    expect(pingCommand('10.0.0.1', 4, 1000)).toEqual(['ping', '-n', '-i', '1', '10.0.0.1']);
    expect(pingCommand('10.0.0.1', 4, 200)).toEqual(['ping', '-n', '-i', '0.2', '10.0.0.1']);
    expect(pingCommand('10.0.0.1', 4, 1500)).toEqual(['ping', '-n', '-i', '1.5', '10.0.0.1']);
    expect(pingCommand('::1', 6, 1000)).toEqual(['ping', '-6', '-n', '-i', '1', '::1']);
    expect(pingCommand('::1', 6, 1000, 'ping6')).toEqual(['ping6', '-n', '-i', '1', '::1']);
  });

  it('splits lines across chunks, CRLF tolerated, an endless line cut', () => {
    const s = new LineSplitter();
    expect(s.push('64 bytes from 1.2.3.4: icmp_')).toEqual([]);
    expect(s.push('seq=1 ttl=64\r\nPING x\n64')).toEqual(['64 bytes from 1.2.3.4: icmp_seq=1 ttl=64', 'PING x']);
    expect(s.push(' more\n')).toEqual(['64 more']);
    s.push('x'.repeat(10_000));
    expect(s.push('\n')[0]!.length).toBe(LineSplitter.MAX_LINE);
  });
});

describe('the status messages named API clients hear', () => {
  it('node status: status / NS_st for a live ping node / dead ping node with info=ping; link: ifstat', () => {
    const f = (m: ReturnType<typeof nodeStatusMessage>) => m.fields.map((x) => [x.name, m.get(x.name)]);
    expect(f(nodeStatusMessage('node2', 'normal', 'active'))).toEqual([['t', 'status'], ['src', 'node2'], ['st', 'active']]);
    expect(f(nodeStatusMessage('10.0.0.1', 'ping', 'ping'))).toEqual([['t', 'NS_st'], ['src', '10.0.0.1'], ['st', 'ping']]);
    expect(f(nodeStatusMessage('10.0.0.1', 'ping', 'dead'))).toEqual([['t', 'status'], ['src', '10.0.0.1'], ['st', 'dead'], ['info', 'ping']]);
    expect(f(linkStatusMessage('node2', 'eth0', 'dead'))).toEqual([['t', 'ifstat'], ['node', 'node2'], ['ifname', 'eth0'], ['st', 'dead']]);
  });

  it("children's environment: logging as ha.cf says, the daemon's folders and socket, env lines", () => {
    const env = clientEnv(
      {
        hacf: {
          logging: { logfile: '/var/log/ha-log', debugfile: undefined, logfacility: 'local0', useLogd: false, syslogmsgfmt: false, connLogdTimeMs: 60_000, logBadpack: true },
          env: [{ name: 'FOO', value: 'bar' }],
        } as never,
        paths: { haDir: '/x/ha.d', runDir: '/x/run', stateDir: '/x/lib', pidFile: '/x/run/heartbeat.pid' },
        debugLevel: 0,
      },
      { PATH: '/bin' },
    );
    expect(env).toMatchObject({
      PATH: '/bin',
      HA_LOGFILE: '/var/log/ha-log',
      HA_LOGFACILITY: 'local0',
      HA_SYSLOGMSGFMT: 'false',
      HA_DIR: '/x/ha.d',
      HEARTBEAT_RUN_DIR: '/x/run',
      HEARTBEAT_API_SOCKET: '/x/run/heartbeat/register',
      HA_FOO: 'bar',
    });
    expect(env.HA_DEBUGLOG).toBeUndefined();
  });
});

describe('Pinger', () => {
  let pinger: Pinger | undefined;
  let tmp: string | undefined;
  afterEach(() => {
    pinger?.stop();
    pinger = undefined;
    if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
    tmp = undefined;
  });
  const quietLog = (lines: string[]) => ({
    error: (m: string) => lines.push(`ERROR: ${m}`),
    info: (m: string) => lines.push(`info: ${m}`),
    debug: () => {},
  });
  const until = async (cond: () => boolean, ms: number, why: () => string): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out: ${why()}`);
      await new Promise((r) => setTimeout(r, 20)); // poll interval of a bounded condition wait
    }
  };

  itWithTools(['ping'], 'each reply is a heartbeat of its node; a group answers when any member does', async () => {
    const beats: Record<string, number> = {};
    const lines: string[] = [];
    pinger = new Pinger({
      nodes: [
        { name: '127.0.0.1', type: 'ping', addresses: ['127.0.0.1'] },
        // 192.0.2.0/24 is TEST-NET-1: nothing answers there.
        { name: 'grp', type: 'ping_group', addresses: ['192.0.2.77', '127.0.0.2'] },
        { name: '192.0.2.78', type: 'ping', addresses: ['192.0.2.78'] },
      ],
      intervalMs: 200,
      onReply: (n) => (beats[n] = (beats[n] ?? 0) + 1),
      log: quietLog(lines),
    });
    pinger.start();
    expect(lines).toEqual(['info: ping heartbeat started.', 'info: ping group heartbeat started.']);
    await until(() => (beats['127.0.0.1'] ?? 0) >= 3 && (beats['grp'] ?? 0) >= 3, 10_000, () => JSON.stringify(beats));
    expect(beats['192.0.2.78']).toBeUndefined();
    expect(pinger.replies()['192.0.2.77']).toBe(0);
    pinger.stop();
    const after = { ...beats };
    await new Promise((r) => setTimeout(r, 500)); // nothing may arrive after stop: a fixed quiet period is the assertion
    expect(beats).toEqual(after);
  });

  it('a ping that exits is started again; its complaint is logged once, and a recovery once', async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-ping-'));
    const count = path.join(tmp, 'count');
    const fake = path.join(tmp, 'fakeping');
    // Fails 3 times as ping does without a route, then answers once and exits.
    fs.writeFileSync(
      fake,
      `#!/bin/sh\necho x >> ${count}\nn=$(wc -l < ${count} | tr -d " ")\nif [ "$n" -le 3 ]; then echo "ping: sending packet: Network is unreachable" >&2; exit 1; fi\necho "64 bytes from $4: icmp_seq=0 ttl=64 time=0.1 ms"\nexec sleep 60\n`,
      { mode: 0o755 },
    );
    const beats: string[] = [];
    const lines: string[] = [];
    pinger = new Pinger({ nodes: [{ name: 'gw', type: 'ping', addresses: ['10.9.9.9'] }], intervalMs: 50, onReply: (n) => beats.push(n), log: quietLog(lines), program: fake, restartDelayMs: 30 });
    pinger.start();
    await until(() => beats.length === 1, 10_000, () => lines.join('\n'));
    expect(beats).toEqual(['gw']);
    expect(fs.readFileSync(count, 'utf8').split('\n').filter(Boolean)).toHaveLength(4);
    expect(lines.filter((l) => l.startsWith('ERROR'))).toEqual(['ERROR: ping 10.9.9.9: sending packet: Network is unreachable']);
    expect(lines).toContain('info: ping 10.9.9.9: replies again');
  });
});
