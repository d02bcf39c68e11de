/**
 * hb_standby and hb_takeover (Heartbeat 3.0.6 usr/share/heartbeat, resources-spec
 * §2.3): the same arguments, usage errors and exit codes. The message
 * (`t=ask_resources rsc_hold=SET info=me` / `t=hb_takeover rsc_hold=WORD`)
 * goes into heartbeat's FIFO when a daemon reads it (the original), else to
 * the daemon's API as a named client's cluster message (ours hands it to its
 * resource manager). Imports stay light.
 */
import * as fs from 'node:fs';
import { HaMessage } from '../wire/message.js';
import { ApiConnection } from './client.js';
import { AF, DEFAULT_RUN_DIR, REGISTER_SOCKET_ENV, REGISTER_SOCKET_SUBPATH, Req, Result, T_APIREQ, T_APIRESP } from './protocol.js';

export type StandbyCommand = 'hb_standby' | 'hb_takeover';

const WORDS = ['all', 'foreign', 'local', 'failback'] as const;
type Word = (typeof WORDS)[number];
const isWord = (s: string): s is Word => (WORDS as readonly string[]).includes(s);

/** How long to wait for the daemon's sign-on answer. */
const SIGNON_TIMEOUT_MS = 5000;

export interface StandbyIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** True when stderr is a terminal (the original's ha_log then prints the bare line). */
  readonly stderrIsTty: boolean;
  readonly now: () => Date;
}

export type ParsedStandby = { readonly ok: true; readonly word: Word; readonly message: HaMessage } | { readonly ok: false; readonly stdout: string; readonly stderr: string };

/** Arguments as the original scripts check them; `argv0` is how the command was called (their `$0`). */
export function parseStandbyArgs(command: StandbyCommand, argv0: string, args: readonly string[]): ParsedStandby {
  const usage = (before = ''): ParsedStandby => ({ ok: false, stdout: `${before}usage:\n`, stderr: `${argv0} [all|foreign|local|failback]\n` });
  if (args.length >= 2) return usage(`${argv0}: too many arguments\n`);
  const given = args[0] ?? 'all';
  if (given === '--help') return usage();
  if (!isWord(given)) return usage(`${argv0}: wrong resources(${given}).\n`);
  if (command === 'hb_standby') {
    const set = given === 'failback' ? 'foreign' : given;
    return { ok: true, word: set, message: HaMessage.of([['t', 'ask_resources'], ['rsc_hold', set], ['info', 'me']]) };
  }
  return { ok: true, word: given, message: HaMessage.of([['t', 'hb_takeover'], ['rsc_hold', given]]) };
}

/** The daemon's API socket (HEARTBEAT_API_SOCKET, as for cl_status). */
export function standbySocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const p = env[REGISTER_SOCKET_ENV];
  return p !== undefined && p !== '' ? p : `${DEFAULT_RUN_DIR}/${REGISTER_SOCKET_SUBPATH}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** ha_log's stamp for a hand-run script without a log file: `%b %d %T`. */
function hadate(d: Date): string {
  return `${MONTHS[d.getMonth()]} ${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** Signs on as a named client and sends `message`; the reason text when that fails. */
async function sendAsNamedClient(socketPath: string, name: string, message: HaMessage): Promise<{ ok: true } | { ok: false; running: boolean; reason: string }> {
  let conn: ApiConnection;
  try {
    conn = await ApiConnection.connect(socketPath);
  } catch {
    return { ok: false, running: false, reason: `cannot connect to ${socketPath}` };
  }
  const pid = String(process.pid);
  const clientId = `${name}.${pid}`;
  const boilerplate = (reqtype: string): HaMessage => new HaMessage().add(AF.type, T_APIREQ).add(AF.reqtype, reqtype).add(AF.pid, pid).add(AF.fromId, clientId);
  try {
    conn.send(
      boilerplate(Req.signon)
        .add(AF.uid, String(process.geteuid?.() ?? 0))
        .add(AF.gid, String(process.getegid?.() ?? 0)),
    );
    const reply = await conn.next((m) => m.type === T_APIRESP, SIGNON_TIMEOUT_MS);
    if (reply === undefined) return { ok: false, running: true, reason: 'no answer to the sign-on' };
    if (reply.get(AF.result) !== Result.ok) return { ok: false, running: true, reason: reply.get(AF.comment) ?? 'sign-on refused' };
    conn.send(message);
    conn.send(boilerplate(Req.signoff));
    return { ok: true };
  } finally {
    await conn.end();
  }
}

/** heartbeat's FIFO for scripts (HA_FIFO), read by a 3.0.6 daemon; ours has none. */
export function standbyFifoPath(env: NodeJS.ProcessEnv = process.env): string {
  const p = env['HA_FIFO'];
  return p !== undefined && p !== '' ? p : '/var/lib/heartbeat/fifo';
}

/**
 * Writes the message into the FIFO when a daemon reads it (the original's
 * ha_clustermsg, which 3.0.6 daemons accept from root without an apiauth
 * entry). False when there is no FIFO or nobody reads it: never blocks.
 */
export function sendThroughFifo(fifo: string, message: HaMessage): boolean {
  try {
    if (!fs.lstatSync(fifo).isFIFO()) return false;
  } catch {
    return false;
  }
  let fd: number;
  try {
    // Without a reader this fails at once (ENXIO) instead of hanging like the original.
    fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    const lines = message.fields.map((f) => `${f.name}=${message.get(f.name) ?? ''}\n`).join('');
    // One write below PIPE_BUF: atomic, as the original's single write.
    fs.writeSync(fd, `>>>\n${lines}<<<\n`);
    return true;
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

/** One invocation; resolves with the exit status. */
export async function standbyMain(
  command: StandbyCommand,
  argv0: string,
  args: readonly string[],
  io: StandbyIo,
  socketPath = standbySocketPath(),
  fifo = standbyFifoPath(),
): Promise<number> {
  const parsed = parseStandbyArgs(command, argv0, args);
  if (!parsed.ok) {
    io.stdout(parsed.stdout);
    io.stderr(parsed.stderr);
    return 1;
  }
  // A 3.0.6 daemon reads its FIFO (and refuses unknown named API clients); ours listens on the API.
  const sent = sendThroughFifo(fifo, parsed.message) ? ({ ok: true } as const) : await sendAsNamedClient(socketPath, command, parsed.message);
  if (sent.ok) {
    // hb_standby's ha_log line; run by hand it has no log file, so it goes to stderr.
    if (command === 'hb_standby') {
      const line = `Going standby [${parsed.word}].`;
      io.stderr(io.stderrIsTty ? `${line}\n` : `${hadate(io.now())} ${line}\n`);
    }
    return 0;
  }
  // The original blocks for ever on the FIFO when heartbeat does not run; we say so and fail.
  if (!sent.running) io.stderr('Heartbeat is not currently running.\n');
  else io.stderr(`${argv0}: heartbeat refused the request: ${sent.reason}\n`);
  return 1;
}

/** bin/hb_standby and bin/hb_takeover entries. */
export function run(command: StandbyCommand): void {
  const io: StandbyIo = {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    stderrIsTty: process.stderr.isTTY === true,
    now: () => new Date(),
  };
  standbyMain(command, process.argv[1] ?? command, process.argv.slice(2), io).then(
    (rc) => {
      process.exitCode = rc;
    },
    (e: unknown) => {
      process.stderr.write(`${command}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
    },
  );
}

export function runStandby(): void {
  run('hb_standby');
}

export function runTakeover(): void {
  run('hb_takeover');
}
