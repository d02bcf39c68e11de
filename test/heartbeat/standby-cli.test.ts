/**
 * hb_standby / hb_takeover (resources-spec §2.3): usage errors word for word,
 * the message each argument sends through the API as a named client, and
 * what happens without a daemon. The commands against a real cluster are in
 * daemon-resources.test.ts.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiServer } from '../../lib/heartbeat/api/index.js';
import { parseStandbyArgs, standbyFifoPath, standbyMain, type StandbyCommand, type StandbyIo } from '../../lib/heartbeat/api/standby-cli.js';
import type { HaMessage } from '../../lib/heartbeat/wire/index.js';
import { REPO_ROOT } from '../helpers/env.js';
import { VIEW } from './api-fixture.js';

const USAGE = (argv0: string) => ({ stdout: 'usage:\n', stderr: `${argv0} [all|foreign|local|failback]\n` });

function io(tty = false): StandbyIo & { out: string; err: string } {
  const o = {
    out: '',
    err: '',
    stdout: (t: string) => void (o.out += t),
    stderr: (t: string) => void (o.err += t),
    stderrIsTty: tty,
    now: () => new Date(2026, 10, 22, 3, 0, 33),
  };
  return o;
}

describe('hb_standby / hb_takeover arguments', () => {
  for (const cmd of ['hb_standby', 'hb_takeover'] as const) {
    const argv0 = `/usr/share/heartbeat/${cmd}`;
    it(`${cmd}: too many arguments, a wrong word and --help print the original's usage and exit 1`, async () => {
      expect(parseStandbyArgs(cmd, argv0, ['all', 'local'])).toEqual({ ok: false, stdout: `${argv0}: too many arguments\nusage:\n`, stderr: USAGE(argv0).stderr });
      expect(parseStandbyArgs(cmd, argv0, ['some'])).toEqual({ ok: false, stdout: `${argv0}: wrong resources(some).\nusage:\n`, stderr: USAGE(argv0).stderr });
      expect(parseStandbyArgs(cmd, argv0, ['--help'])).toEqual({ ok: false, ...USAGE(argv0) });
      const o = io();
      expect(await standbyMain(cmd, argv0, ['a', 'b'], o, '/nonexistent/register', '/nonexistent/fifo')).toBe(1);
      expect([o.out, o.err]).toEqual([`${argv0}: too many arguments\nusage:\n`, `${argv0} [all|foreign|local|failback]\n`]);
    });
  }

  const fields = (m: HaMessage) => m.fields.map((f) => `${f.name}=${m.get(f.name)}`);
  it('hb_standby sends ask_resources info=me; failback is foreign; no argument is all', () => {
    const want: [string[], string[]][] = [
      [[], ['t=ask_resources', 'rsc_hold=all', 'info=me']],
      [['all'], ['t=ask_resources', 'rsc_hold=all', 'info=me']],
      [['local'], ['t=ask_resources', 'rsc_hold=local', 'info=me']],
      [['foreign'], ['t=ask_resources', 'rsc_hold=foreign', 'info=me']],
      [['failback'], ['t=ask_resources', 'rsc_hold=foreign', 'info=me']],
    ];
    for (const [args, msg] of want) {
      const p = parseStandbyArgs('hb_standby', 'hb_standby', args);
      expect(p.ok && fields(p.message)).toEqual(msg);
    }
  });

  it('hb_takeover sends hb_takeover with the word as given', () => {
    for (const w of ['all', 'local', 'foreign', 'failback']) {
      const p = parseStandbyArgs('hb_takeover', 'hb_takeover', [w]);
      expect(p.ok && fields(p.message)).toEqual(['t=hb_takeover', `rsc_hold=${w}`]);
    }
    const none = parseStandbyArgs('hb_takeover', 'hb_takeover', []);
    expect(none.ok && fields(none.message)).toEqual(['t=hb_takeover', 'rsc_hold=all']);
  });
});

describe('hb_standby / hb_takeover against an API socket', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-standby-'));
  });
  afterEach(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function withServer(run: (socket: string, sent: HaMessage[]) => Promise<void>): Promise<void> {
    const sent: HaMessage[] = [];
    const server = await ApiServer.start({ view: VIEW, runDir: tmp, onClusterMessage: (m) => sent.push(m) });
    try {
      await run(server.socketPath, sent);
    } finally {
      await server.close();
    }
  }

  /** Bounded wait for the server to have handed over `n` cluster messages. */
  async function until(sent: HaMessage[], n: number): Promise<void> {
    const deadline = Date.now() + 5000;
    while (sent.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5)); // poll interval of a bounded wait
  }

  const run = async (cmd: StandbyCommand, args: string[], socket: string, tty = false) => {
    const o = io(tty);
    const rc = await standbyMain(cmd, cmd, args, o, socket, path.join(tmp, 'fifo'));
    return { rc, out: o.out, err: o.err };
  };

  it('hb_standby local: a named client (join, the request, leave), stderr "Going standby [local]." with ha_log\'s date, exit 0', async () => {
    await withServer(async (socket, sent) => {
      expect(await run('hb_standby', ['local'], socket)).toEqual({ rc: 0, out: '', err: 'Nov 22 03:00:33 Going standby [local].\n' });
      await until(sent, 3);
      expect(sent.map((m) => m.type)).toEqual(['hbapi-clstat', 'ask_resources', 'hbapi-clstat']);
      expect(sent[0]!.get('st')).toBe('join');
      expect(sent[0]!.get('from_id')).toBe(`hb_standby.${process.pid}`);
      expect([sent[1]!.get('rsc_hold'), sent[1]!.get('info')]).toEqual(['local', 'me']);
      expect(sent[2]!.get('st')).toBe('leave');
    });
  });

  it('on a terminal the line has no date; hb_takeover prints nothing', async () => {
    await withServer(async (socket, sent) => {
      expect(await run('hb_standby', ['failback'], socket, true)).toEqual({ rc: 0, out: '', err: 'Going standby [foreign].\n' });
      expect(await run('hb_takeover', ['failback'], socket)).toEqual({ rc: 0, out: '', err: '' });
      await until(sent, 6);
      expect(sent.filter((m) => m.type !== 'hbapi-clstat').map((m) => `${m.type} ${m.get('rsc_hold')}`)).toEqual(['ask_resources foreign', 'hb_takeover failback']);
    });
  });

  it('no daemon: "Heartbeat is not currently running." on stderr, exit 1 (the original blocks on its FIFO)', async () => {
    expect(await run('hb_standby', [], path.join(tmp, 'register'))).toEqual({ rc: 1, out: '', err: 'Heartbeat is not currently running.\n' });
    expect(await run('hb_takeover', ['local'], path.join(tmp, 'register'))).toEqual({ rc: 1, out: '', err: 'Heartbeat is not currently running.\n' });
  });

  it('bin/ and share/heartbeat/ entries run the built command under the name they were called by', () => {
    for (const entry of ['bin/hb_standby', 'share/heartbeat/hb_standby', 'bin/hb_takeover', 'share/heartbeat/hb_takeover']) {
      const file = path.join(REPO_ROOT, entry);
      const env = { ...process.env, HEARTBEAT_API_SOCKET: path.join(tmp, 'register'), HA_FIFO: path.join(tmp, 'fifo') };
      const r = spawnSync(file, ['nonsense'], { encoding: 'utf8', env });
      expect({ entry, status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
        entry,
        status: 1,
        stdout: `${file}: wrong resources(nonsense).\nusage:\n`,
        stderr: `${file} [all|foreign|local|failback]\n`,
      });
      const down = spawnSync(file, [], { encoding: 'utf8', env });
      expect([down.status, down.stdout, down.stderr]).toEqual([1, '', 'Heartbeat is not currently running.\n']);
    }
  });
});

describe('hb_standby / hb_takeover and a 3.0.6 daemon\'s FIFO', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-standby-fifo-'));
  });
  afterEach(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('HA_FIFO, else /var/lib/heartbeat/fifo', () => {
    expect(standbyFifoPath({})).toBe('/var/lib/heartbeat/fifo');
    expect(standbyFifoPath({ HA_FIFO: '/x/fifo' })).toBe('/x/fifo');
  });

  it('a FIFO with a reader gets the classic message in one write (ha_clustermsg), and the API is not used', async () => {
    const fifo = path.join(tmp, 'fifo');
    expect(spawnSync('mkfifo', ['-m', '600', fifo]).status).toBe(0);
    const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const o = io();
      expect(await standbyMain('hb_standby', 'hb_standby', ['failback'], o, path.join(tmp, 'no-socket'), fifo)).toBe(0);
      expect(o.err).toBe('Nov 22 03:00:33 Going standby [foreign].\n');
      expect(await standbyMain('hb_takeover', 'hb_takeover', ['local'], io(), path.join(tmp, 'no-socket'), fifo)).toBe(0);
      const buf = Buffer.alloc(4096);
      const n = fs.readSync(reader, buf, 0, buf.length, null);
      expect(buf.subarray(0, n).toString()).toBe('>>>\nt=ask_resources\nrsc_hold=foreign\ninfo=me\n<<<\n>>>\nt=hb_takeover\nrsc_hold=local\n<<<\n');
    } finally {
      fs.closeSync(reader);
    }
  });

  it('a FIFO nobody reads (our daemon has none; a stopped original) is skipped at once, not written to; a regular file there is left alone', async () => {
    const fifo = path.join(tmp, 'fifo');
    expect(spawnSync('mkfifo', ['-m', '600', fifo]).status).toBe(0);
    const o = io();
    expect(await standbyMain('hb_standby', 'hb_standby', [], o, path.join(tmp, 'no-socket'), fifo)).toBe(1);
    expect(o.err).toBe('Heartbeat is not currently running.\n');
    const file = path.join(tmp, 'plain');
    fs.writeFileSync(file, 'x');
    expect(await standbyMain('hb_takeover', 'hb_takeover', [], io(), path.join(tmp, 'no-socket'), file)).toBe(1);
    expect(fs.readFileSync(file, 'utf8')).toBe('x');
  });
});
