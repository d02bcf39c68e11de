/** The API's IPC framing and request handler on hand-made input: the bytes the original exchanges, replies, refusals. */
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  ApiSession,
  IPC_MAGIC,
  IpcFrameReader,
  MAX_IPC_BODY_BYTES,
  decodeApiBody,
  encodeApiMessage,
  encodeIpcFrame,
  fixedClusterView,
  type ApiEnv,
} from '../../lib/heartbeat/api/index.js';
import { HaMessage, encodeNetstring } from '../../lib/heartbeat/wire/index.js';
import { SNAPSHOT, VIEW } from './api-fixture.js';

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/** The sign-on Debian's cl_status sent (pid 14651, from a strace of the real exchange). */
const SIGNON_WIRE =
  'R\0\0\0\xcd\xab\0\0>>>\nt=hbapi-req\nreqtype=signon\ndest=vm\npid=14651\nfrom_id=14651\nuid=0\ngid=105\n<<<\n\0';
/** And the reply the real daemon gave. */
const SIGNON_REPLY_WIRE =
  '\xb4\0\0\0\xcd\xab\0\0>>>\nt=hbapi-resp\nreqtype=signon\nresult=OK\ndeadtime=7530\nkeepalive=3e8\nnode=vm\nhbversion=3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)\npacemaker=false\nlogfacility=128\n<<<\n\0';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
  return 'no error';
}

const env = (over: Partial<ApiEnv> = {}): ApiEnv => ({ view: VIEW, pidExists: () => true, clientSignedOn: () => false, ...over });

function req(reqtype: string, fields: Record<string, string> = {}, pid = '4242'): HaMessage {
  const m = HaMessage.of([
    ['t', 'hbapi-req'],
    ['reqtype', reqtype],
    ['dest', 'node1'],
    ['pid', pid],
    ['from_id', pid],
  ]);
  for (const [k, v] of Object.entries(fields)) m.add(k, v);
  return m;
}

const fieldsOf = (m: HaMessage): [string, string][] => m.fields.map((f) => [f.name, f.kind === 'string' ? Buffer.from(f.value).toString() : '?']);

function signedOn(e: ApiEnv = env()): ApiSession {
  const s = new ApiSession();
  const out = s.handle(req('signon', { uid: '0', gid: '0' }), e);
  expect(out.replies[0]!.get('result')).toBe('OK');
  return s;
}

describe('IPC framing', () => {
  it('reads the frames of the recorded exchange, in any chunking', () => {
    const wire = bytes(SIGNON_WIRE + SIGNON_REPLY_WIRE);
    for (const size of [1, 3, 8, 9, 50, wire.length]) {
      const r = new IpcFrameReader();
      const bodies: Uint8Array[] = [];
      for (let i = 0; i < wire.length; i += size) bodies.push(...r.push(wire.subarray(i, i + size)));
      expect(bodies.map((b) => decodeApiBody(b).get('reqtype'))).toEqual(['signon', 'signon']);
      expect(r.pending).toBe(0);
    }
  });

  it('writes what glue writes: little-endian length, magic 0xabcd, classic text and a NUL', () => {
    const reply = decodeApiBody(new IpcFrameReader().push(bytes(SIGNON_REPLY_WIRE))[0]!);
    expect(text(encodeApiMessage(reply))).toBe(SIGNON_REPLY_WIRE);
    const sent = decodeApiBody(new IpcFrameReader().push(bytes(SIGNON_WIRE))[0]!);
    expect(text(encodeApiMessage(sent))).toBe(SIGNON_WIRE);
  });

  it('accepts netstring bodies, with or without the NUL', () => {
    const m = HaMessage.of([['t', 'hbapi-req'], ['reqtype', 'nodelist']]);
    const ns = encodeNetstring(m);
    expect(decodeApiBody(ns).get('reqtype')).toBe('nodelist');
    expect(decodeApiBody(new Uint8Array([...ns, 0])).get('reqtype')).toBe('nodelist');
  });

  it('refuses a bad magic, a negative or oversized length, and stays refused', () => {
    const badMagic = encodeIpcFrame(bytes('>>>\nt=x\n<<<\n\0'));
    badMagic[4] = 0xce;
    const r = new IpcFrameReader();
    expect(codeOf(() => r.push(badMagic))).toBe('API_BAD_MAGIC');
    expect(codeOf(() => r.push(encodeIpcFrame(bytes('>>>\nt=x\n<<<\n'))))).toBe('API_BAD_MAGIC');
    const huge = new Uint8Array(8);
    new DataView(huge.buffer).setInt32(0, MAX_IPC_BODY_BYTES + 1, true);
    new DataView(huge.buffer).setUint32(4, IPC_MAGIC, true);
    expect(codeOf(() => new IpcFrameReader().push(huge))).toBe('API_BAD_LENGTH');
    new DataView(huge.buffer).setInt32(0, -1, true);
    expect(codeOf(() => new IpcFrameReader().push(huge))).toBe('API_BAD_LENGTH');
    expect(codeOf(() => encodeIpcFrame(new Uint8Array(MAX_IPC_BODY_BYTES + 1)))).toBe('API_BAD_LENGTH');
  });

  it('reports a frame cut by the end of the stream', () => {
    const r = new IpcFrameReader();
    r.push(bytes(SIGNON_WIRE).subarray(0, 20));
    expect(codeOf(() => r.end())).toBe('API_TRUNCATED');
    const clean = new IpcFrameReader();
    clean.push(bytes(SIGNON_WIRE));
    expect(codeOf(() => clean.end())).toBe('no error');
  });

  it('turns a body that is no message into API_BAD_BODY with the wire error as cause', () => {
    let caught: unknown;
    try {
      decodeApiBody(bytes('hello'));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect((caught as ApiError).code).toBe('API_BAD_BODY');
    expect(((caught as ApiError).cause as { code: string }).code).toBe('WIRE_BAD_START');
  });
});

describe('sign-on', () => {
  it('answers with the fields the original sends, in its order', () => {
    const out = new ApiSession().handle(req('signon', { uid: '0', gid: '105' }), env());
    expect(out.replies.map(fieldsOf)).toEqual([
      [
        ['t', 'hbapi-resp'],
        ['reqtype', 'signon'],
        ['result', 'OK'],
        ['deadtime', '1388'],
        ['keepalive', '3e8'],
        ['node', 'node1'],
        ['hbversion', '3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)'],
        ['pacemaker', 'false'],
        ['logfacility', '-1'],
      ],
    ]);
    expect(out.close).toBeUndefined();
  });

  it('refuses a dead pid, a duplicate client and missing ids, with the reason before the result, then closes', () => {
    const cases: [Partial<ApiEnv>, Record<string, string>, string][] = [
      [{ pidExists: () => false }, { uid: '0', gid: '0' }, 'bad pid'],
      [{ clientSignedOn: () => true }, { uid: '0', gid: '0' }, 'duplicate add request'],
      [{}, { uid: '0' }, 'invalid id info'],
      [{}, { uid: 'root', gid: '0' }, 'invalid id info'],
    ];
    for (const [over, ids, reason] of cases) {
      const out = new ApiSession().handle(req('signon', ids), env(over));
      const r = out.replies[0]!;
      expect(fieldsOf(r).slice(0, 4)).toEqual([
        ['t', 'hbapi-resp'],
        ['reqtype', 'signon'],
        ['info', reason],
        ['result', 'badreq'],
      ]);
      expect(r.get('deadtime')).toBe('1388');
      expect(out.close).toMatch(/refused/);
    }
  });

  it('ignores anything but a sign-on before one', () => {
    const s = new ApiSession();
    expect(s.handle(req('nodelist'), env()).replies).toEqual([]);
    expect(s.handle(new HaMessage().add('t', 'status'), env()).ignored).toBeDefined();
    expect(s.client).toBeUndefined();
  });

  it('tells casual clients (from_id = pid) from named ones', () => {
    const casual = signedOn();
    expect(casual.client).toMatchObject({ pid: 4242, clientId: '4242', casual: true });
    const named = new ApiSession();
    const m = req('signon', { uid: '0', gid: '0' });
    m.setString('from_id', 'ipfail');
    named.handle(m, env());
    expect(named.client).toMatchObject({ clientId: 'ipfail', casual: false });
  });
});

describe('requests', () => {
  const ask = (reqtype: string, fields: Record<string, string> = {}, e: ApiEnv = env()) => signedOn(e).handle(req(reqtype, fields), e);
  const one = (reqtype: string, fields: Record<string, string> = {}) => {
    const out = ask(reqtype, fields);
    expect(out.replies).toHaveLength(1);
    return fieldsOf(out.replies[0]!).slice(2);
  };

  it('nodelist: one reply per node, ok/more then OK', () => {
    const out = ask('nodelist');
    expect(out.replies.map((r) => fieldsOf(r).slice(2))).toEqual([
      [['node', 'node1'], ['nodetype', 'normal'], ['st', 'active'], ['result', 'ok/more']],
      [['node', 'node2'], ['nodetype', 'normal'], ['st', 'active'], ['result', 'ok/more']],
      [['node', 'node3'], ['nodetype', 'normal'], ['st', 'dead'], ['result', 'ok/more']],
      [['node', '10.77.0.1'], ['nodetype', 'ping'], ['st', 'ping'], ['result', 'OK']],
    ]);
  });

  it('per-node queries; names are looked up lowercased; unknown nodes are EINVAL', () => {
    expect(one('nodestatus', { node: 'NODE3' })).toEqual([['st', 'dead'], ['result', 'OK']]);
    expect(one('nodetype', { node: '10.77.0.1' })).toEqual([['nodetype', 'ping'], ['result', 'OK']]);
    expect(one('nodeweight', { node: 'node1' })).toEqual([['weight', '100'], ['result', 'OK']]);
    expect(one('nodeweight', { node: 'node2' })).toEqual([['weight', '50'], ['result', 'OK']]);
    expect(one('nodesite', { node: 'node1' })).toEqual([['site', ''], ['result', 'OK']]);
    expect(one('numnodes')).toEqual([['numnodes', '3'], ['result', 'OK']]);
    for (const r of ['nodestatus', 'nodetype', 'nodeweight', 'nodesite', 'iflist']) {
      expect(one(r, { node: 'nosuch' })).toEqual([['result', 'badreq'], ['info', 'EINVAL']]);
      expect(one(r)).toEqual([['result', 'badreq'], ['info', 'EINVAL']]);
    }
  });

  it('iflist and ifstatus', () => {
    expect(ask('iflist', { node: 'node2' }).replies.map((r) => fieldsOf(r).slice(2))).toEqual([
      [['ifname', 'eth0'], ['st', 'up'], ['result', 'ok/more']],
      [['ifname', 'eth1'], ['st', 'dead'], ['result', 'OK']],
    ]);
    expect(one('iflist', { node: '10.77.0.1' })).toEqual([['ifname', '10.77.0.1'], ['st', 'up'], ['result', 'OK']]);
    expect(one('ifstatus', { node: 'node2', ifname: 'eth1' })).toEqual([['st', 'dead'], ['result', 'OK']]);
    expect(one('ifstatus', { node: 'node2', ifname: 'eth9' })).toEqual([['result', 'badreq'], ['info', 'EINVAL']]);
  });

  it('getparm (crm is pacemaker; unknown: OK without pvalue) and getrsc', () => {
    expect(one('getparm', { pname: 'deadtime' })).toEqual([['pvalue', '5'], ['result', 'OK']]);
    expect(one('getparm', { pname: 'crm' })).toEqual([['pvalue', 'false'], ['result', 'OK']]);
    expect(one('getparm', { pname: 'nosuch' })).toEqual([['result', 'OK']]);
    expect(one('getparm')).toEqual([['result', 'badreq'], ['info', 'EINVAL']]);
    expect(one('getrsc')).toEqual([['rsc_hold', 'local'], ['result', 'OK']]);
    const crm = fixedClusterView({ ...SNAPSHOT, resources: undefined, parameters: { pacemaker: 'respawn' } });
    const out = ask('getrsc', {}, env({ view: crm }));
    expect(fieldsOf(out.replies[0]!).slice(2)).toEqual([
      ['result', 'badreq'],
      ['info', 'Resource is managed by crm. Use crm tool to query resource'],
    ]);
  });

  it('clientstatus: local answer, offline for a node not active, a cluster query otherwise', () => {
    expect(one('clientstatus', { node: 'node1', cn: 'ipfail' })).toEqual([['subt', 'respond-cstatus'], ['cs', 'online'], ['result', 'OK']]);
    expect(one('clientstatus', { node: 'node1', cn: 'other' })).toEqual([['subt', 'respond-cstatus'], ['cs', 'offline'], ['result', 'OK']]);
    expect(one('clientstatus', { node: 'node3', cn: 'ipfail' })).toEqual([['subt', 'respond-cstatus'], ['cs', 'offline'], ['result', 'OK']]);
    const remote = ask('clientstatus', { node: 'node2', cn: 'ipfail' });
    expect(remote.replies).toEqual([]);
    expect(remote.toCluster.map(fieldsOf)).toEqual([[['t', 'query-cstatus'], ['dest', 'node2'], ['cn', 'ipfail'], ['from_id', '4242']]]);
    expect(one('clientstatus', { node: 'nosuch', cn: 'ipfail' })).toEqual([['result', 'badreq'], ['info', 'EINVAL']]);
  });

  it('signoff closes without a reply; unknown requests are badreq without a reason', () => {
    const out = ask('signoff');
    expect(out.replies).toEqual([]);
    expect(out.close).toBe('signoff');
    expect(one('frobnicate')).toEqual([['result', 'badreq']]);
  });

  it('a casual client sending a cluster message is dropped; a named one has it forwarded', () => {
    const s = signedOn();
    expect(s.handle(HaMessage.of([['t', 'ip-request']]), env()).close).toMatch(/badclient/);
    const named = new ApiSession();
    const m = req('signon', { uid: '0', gid: '0' });
    m.setString('from_id', 'ipfail');
    named.handle(m, env());
    const out = named.handle(HaMessage.of([['t', 'ask_resources'], ['rsc_hold', 'all']]), env());
    expect(out.toCluster.map(fieldsOf)).toEqual([[['t', 'ask_resources'], ['rsc_hold', 'all'], ['from_id', 'ipfail'], ['to_id', 'ipfail'], ['client_gen', '0']]]);
  });

  it('a named client joining and leaving is announced (hbapi-clstat); a casual one is not', () => {
    let gen = 7;
    const e = env({ nextClientGeneration: () => gen++ });
    const named = new ApiSession();
    const m = req('signon', { uid: '0', gid: '0' });
    m.setString('from_id', 'ipfail');
    const joined = named.handle(m, e);
    expect(joined.toCluster.map(fieldsOf)).toEqual([
      [['t', 'hbapi-clstat'], ['st', 'join'], ['from_id', 'ipfail'], ['to_id', 'ipfail'], ['src', 'node1'], ['info', 'signon'], ['client_gen', '7']],
    ]);
    const off = named.handle(req('signoff', {}, '4242').setString('from_id', 'ipfail'), e);
    expect(off.close).toBe('signoff');
    expect(off.replies.map(fieldsOf)).toEqual([
      [['t', 'hbapi-clstat'], ['st', 'leave'], ['from_id', 'ipfail'], ['to_id', 'ipfail'], ['src', 'node1'], ['info', 'signoff'], ['client_gen', '7']],
    ]);
    expect(off.toCluster).toHaveLength(1);
    expect(named.leave('EOF', e).toCluster).toEqual([]); // once only

    const vanished = new ApiSession();
    vanished.handle(m, e);
    expect(vanished.leave('EOF', e).toCluster.map((x) => x.get('info'))).toEqual(['EOF']);

    const casual = signedOn(e);
    expect(casual.leave('EOF', e).toCluster).toEqual([]);
  });

  it('a request naming another client gets no answer', () => {
    const s = signedOn();
    const out = s.handle(req('nodelist', {}, '999'), env());
    expect(out.replies).toEqual([]);
    expect(out.ignored).toBeDefined();
  });
});
