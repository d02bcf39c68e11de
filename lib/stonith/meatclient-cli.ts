/**
 * meatclient: the operator's side of the meatware STONITH device. After
 * power-cycling (or cutting off) a node by hand, `meatclient -c NODE`
 * confirms it, and the waiting heartbeat takes the node's resources over.
 * `-w` waits for the request when none is pending yet. Exit codes are
 * cluster-glue's S_* codes (0 confirmed, 3 cancelled or bad usage, 4 no
 * pending request for that node, 8 write error). The FIFO folder is
 * HA_MEATWARE_DIR (default /var/run), as for the daemon.
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { getopt } from '../heartbeat/api/getopt.js';
import { DEFAULT_MEATWARE_DIR, MEATWARE_RECORD, meatwareFifo } from './meatware.js';
import { S } from './types.js';

export interface MeatclientIo {
  readonly env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
  /** The operator's answer (first word of the next line), undefined at end of input. */
  answer(): Promise<string | undefined>;
  sleep(ms: number): Promise<void>;
}

function processIo(): MeatclientIo {
  let rl: readline.Interface | undefined;
  return {
    env: process.env,
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    answer: () =>
      new Promise((resolve) => {
        rl = readline.createInterface({ input: process.stdin });
        let got = false;
        rl.once('line', (l) => {
          got = true;
          rl?.close();
          resolve(l.trim().split(/\s+/)[0] ?? '');
        });
        rl.once('close', () => {
          if (!got) resolve(undefined);
        });
      }),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)), // -w: the original's 1 s retry while no request is pending
  };
}

export async function meatclient(argv: readonly string[], io: MeatclientIo): Promise<number> {
  const prog = 'meatclient';
  const usage = (): number => {
    io.err(`usage: ${prog} -c node [-w]\n`);
    return S.INVAL;
  };
  const g = getopt(prog, argv, 'c:w');
  let host: string | undefined;
  let wait = false;
  for (const e of g.events) {
    if (e.opt === '?') {
      io.err((e as { message: string }).message);
      return usage();
    }
    if (e.opt === 'c') host = (e as { arg: string }).arg;
    if (e.opt === 'w') wait = true;
  }
  if (host === undefined || host === '' || g.operands.length > 0) return usage();
  host = host.toLowerCase();
  const dir = io.env['HA_MEATWARE_DIR'] !== undefined && io.env['HA_MEATWARE_DIR'] !== '' ? io.env['HA_MEATWARE_DIR'] : DEFAULT_MEATWARE_DIR;
  const fifo = meatwareFifo(dir, host);
  let fd: number | undefined;
  let waited = false;
  for (;;) {
    try {
      fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!wait || (code !== 'ENOENT' && code !== 'ENXIO')) {
        if (waited) io.out('\n');
        io.err(`Meatware_IPC failed: ${fifo}: ${code === 'ENOENT' ? 'No such file or directory' : code === 'ENXIO' ? 'No such device or address' : (e as Error).message}\n`);
        return S.BADHOST;
      }
      io.out('.');
      waited = true;
      await io.sleep(1000);
    }
  }
  if (waited) io.out('\n');
  io.out(
    `\nWARNING!\n\nConfirm only if node "${host}" has really been power-cycled, or cut off from every shared disk and network.\n` +
      'Otherwise two nodes may write the same shared data (and corrupt it), and services moved to this cluster may misbehave.\n' +
      'Check that the name above is the node you have just reset.\n\nPROCEED? [yN] ',
  );
  const a = await io.answer();
  if (a === undefined || !/^[yY]/.test(a)) {
    fs.closeSync(fd);
    io.out('Meatware_client: operation canceled.\n');
    return S.INVAL;
  }
  const rec = Buffer.alloc(MEATWARE_RECORD);
  rec.write(`meatware reply ${host}`, 'latin1');
  try {
    fs.writeSync(fd, rec);
  } catch (e) {
    io.err(`Meatware_IPC failed: ${fifo}: ${(e as Error).message}\n`);
    return S.OOPS;
  } finally {
    fs.closeSync(fd);
  }
  io.out('Meatware_client: reset confirmed.\n');
  return S.OK;
}

export async function run(): Promise<void> {
  const io = processIo();
  process.exitCode = await meatclient(process.argv.slice(2), io);
  process.stdin.unref?.();
}
