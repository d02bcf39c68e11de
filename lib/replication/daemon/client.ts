/** drbdadm's side of the control socket, and starting drbdd when it is not running. */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnDaemon } from '../../shared/daemon/daemonize.js';
import { HbError } from '../../shared/errors.js';
import { LineSplitter, type ControlRequest, type ControlResponse } from './protocol.js';
import { controlSocket } from './run.js';

/** One request; 'no-daemon' when nothing listens on the control socket. */
export function request(runDir: string, req: ControlRequest, timeoutMs = 120_000): Promise<ControlResponse | 'no-daemon'> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(controlSocket(runDir));
    const split = new LineSplitter();
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      sock.destroy();
      reject(new HbError('DRBDD_TIMEOUT', `drbdd did not answer '${req.op}' within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (chunk: string) => {
      const lines = split.push(chunk);
      if (lines.length > 0 && !done) {
        done = true;
        clearTimeout(timer);
        sock.end();
        resolve(JSON.parse(lines[0]!) as ControlResponse);
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') resolve('no-daemon');
      else reject(new HbError('DRBDD_CONTROL', `cannot talk to drbdd: ${e.message}`));
    });
    sock.on('close', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new HbError('DRBDD_CONTROL', 'drbdd closed the control connection without an answer'));
    });
  });
}

function drbddPath(): string {
  if (process.env.DRBDD_BIN !== undefined) return process.env.DRBDD_BIN;
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const rel of ['../../bin/drbdd', '../../../bin/drbdd', '../../../../bin/drbdd']) {
    const p = path.resolve(here, rel);
    if (fs.existsSync(p)) return p;
  }
  return 'drbdd';
}

/** Sends `req`, starting drbdd first when it is not running. */
export async function requestStarting(runDir: string, req: ControlRequest): Promise<ControlResponse> {
  const first = await request(runDir, req);
  if (first !== 'no-daemon') return first;
  const bin = drbddPath();
  const started = await spawnDaemon({ command: process.execPath, args: [bin, '--run-dir', runDir], timeoutMs: 15_000 });
  if (!started.ok && !/pid file|already running/i.test(started.message)) {
    throw new HbError('DRBDD_START', `cannot start drbdd: ${started.message}`);
  }
  for (let i = 0; i < 100; i++) {
    const r = await request(runDir, req);
    if (r !== 'no-daemon') return r;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new HbError('DRBDD_START', 'drbdd started but its control socket does not answer');
}
