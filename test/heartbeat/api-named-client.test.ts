/** The named API client ipfail uses, against our API server: sign-on by name, queries, events, and what casual clients do not get. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiConnection, ApiServer } from '../../lib/heartbeat/api/index.js';
import { NamedApiClient, apiSocketFromEnv } from '../../lib/heartbeat/api/named-client.js';
import { HaMessage } from '../../lib/heartbeat/wire/index.js';
import { VIEW } from './api-fixture.js';

let tmp: string;
let server: ApiServer;
const toCluster: HaMessage[] = [];
beforeEach(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-api-named-'));
  toCluster.length = 0;
  server = await ApiServer.start({ view: VIEW, runDir: tmp, onClusterMessage: (m) => toCluster.push(m) });
});
afterEach(async () => {
  await server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10)); // poll interval of a bounded condition wait
  }
};

describe('NamedApiClient', () => {
  it('finds the socket from HEARTBEAT_API_SOCKET, else HEARTBEAT_RUN_DIR, else /var/run', () => {
    expect(apiSocketFromEnv({ HEARTBEAT_API_SOCKET: '/a/b', HEARTBEAT_RUN_DIR: '/x' })).toBe('/a/b');
    expect(apiSocketFromEnv({ HEARTBEAT_RUN_DIR: '/x' })).toBe('/x/heartbeat/register');
    expect(apiSocketFromEnv({})).toBe('/var/run/heartbeat/register');
  });

  it('signs on as ipfail, asks, hears events (those before its handler too), and its messages go to the cluster as its own', async () => {
    const s = await NamedApiClient.signon(server.socketPath, 'ipfail');
    if ('error' in s) throw new Error(s.error);
    const c = s.client;
    expect([c.nodeName, c.keepaliveMs, c.deadtimeMs]).toEqual(['node1', 1000, 5000]);
    // The join announcement went to the cluster.
    expect(toCluster.map((m) => [m.get('t'), m.get('st'), m.get('from_id')])).toEqual([['hbapi-clstat', 'join', 'ipfail']]);
    expect(server.namedClients()).toEqual(['ipfail']);

    // A casual client (cl_status) gets no events.
    const casual = await ApiConnection.connect(server.socketPath);
    casual.send(HaMessage.of([['t', 'hbapi-req'], ['reqtype', 'signon'], ['dest', 'node1'], ['pid', String(process.pid)], ['from_id', String(process.pid)], ['uid', '0'], ['gid', '0']]));
    expect((await casual.next((m) => m.get('t') === 'hbapi-resp', 5000))?.get('result')).toBe('OK');

    server.broadcast(HaMessage.of([['t', 'ifstat'], ['node', 'node2'], ['ifname', 'eth0'], ['st', 'dead']]));
    expect(await c.resources()).toBe('local');
    expect(await c.parameter('auto_failback')).toBe('on');
    expect(await c.setDefaultFilter()).toBe(true);
    expect((await c.nodes())?.map((n) => [n.name, n.type, n.status])).toEqual([
      ['node1', 'normal', 'active'],
      ['node2', 'normal', 'active'],
      ['node3', 'normal', 'dead'],
      ['10.77.0.1', 'ping', 'ping'],
    ]);
    const heard: string[] = [];
    c.onMessage = (m) => heard.push(`${m.get('t')} ${m.get('st') ?? ''}`);
    expect(heard).toEqual(['ifstat dead']);
    expect(server.deliver('ipfail', HaMessage.of([['t', 'num_ping_nodes'], ['to_id', 'ipfail'], ['num_ping', '1']]))).toBe(true);
    await until(() => heard.length === 2);
    expect(heard[1]).toBe('num_ping_nodes ');
    expect(await casual.next((m) => m.get('t') !== 'hbapi-resp', 200)).toBeUndefined();
    await casual.end();

    c.sendNode('node2', [['t', 'num_ping_nodes'], ['src', 'node1'], ['num_ping', '1']]);
    c.sendCluster([['t', 'ask_resources'], ['rsc_hold', 'all'], ['src', 'node1'], ['info', 'me']]);
    await until(() => toCluster.length === 3);
    const [, peer, all] = toCluster;
    expect([peer!.get('t'), peer!.get('dest'), peer!.get('from_id'), peer!.get('to_id')]).toEqual(['num_ping_nodes', 'node2', 'ipfail', 'ipfail']);
    expect([all!.get('t'), all!.get('rsc_hold'), all!.get('info'), all!.get('dest')]).toEqual(['ask_resources', 'all', 'me', undefined]);

    await c.signoff();
    await until(() => server.namedClients().length === 0);
  });

  it('a refused sign-on says why; no daemon says so too', async () => {
    const first = await NamedApiClient.signon(server.socketPath, 'ipfail');
    expect('client' in first).toBe(true);
    const second = await NamedApiClient.signon(server.socketPath, 'ipfail');
    expect(second).toEqual({ error: 'duplicate add request' });
    expect(await NamedApiClient.signon(path.join(tmp, 'nothing'), 'ipfail')).toEqual({ error: "hb_api_signon: Can't initiate connection to heartbeat" });
    if ('client' in first) await first.client.signoff();
  });
});
