/** drbdd's control socket never falls over on bad input: garbage, wrong shapes, unknown resources. */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Logger } from '../../lib/shared/log/index.js';
import { Drbdd, controlSocket } from '../../lib/replication/daemon/run.js';

let dir: string;
let d: Drbdd;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h7-ctl-'));
  d = new Drbdd({ runDir: dir, log: new Logger({ destinations: [] }) });
  await d.start();
});
afterAll(async () => {
  await d.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function ask(lines: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const c = net.connect(controlSocket(dir));
    let got = '';
    const want = lines.split('\n').filter((l) => l.trim() !== '').length;
    c.setEncoding('utf8');
    c.on('data', (x: string) => {
      got += x;
      if (got.split('\n').filter((l) => l !== '').length >= want) {
        c.end();
        resolve(got.split('\n').filter((l) => l !== ''));
      }
    });
    c.on('error', reject);
    c.write(lines);
    if (want === 0) {
      c.end();
      resolve([]);
    }
  });
}

describe('control socket', () => {
  it('answers every line, refusing bad ones with a stable shape', async () => {
    const replies = await ask(['garbage', 'null', '5', '{"op":"frob"}', '{"op":"attach"}', '{"op":"primary","res":"nope","force":false}', '{"op":"ping"}'].join('\n') + '\n');
    const parsed = replies.map((r) => JSON.parse(r) as { ok: boolean; exit?: number; message?: string });
    expect(parsed.map((p) => p.ok)).toEqual([false, false, false, false, false, false, true]);
    expect(parsed[5]!.message).toBe('nope: Unknown resource');
    expect(parsed[5]!.exit).toBe(10);
  });

  it('survives arbitrary lines', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.string(), fc.json()), { minLength: 1, maxLength: 5 }), async (items) => {
        const lines = items.map((x) => x.replace(/\n/g, ' ')).filter((l) => l.trim() !== '');
        if (lines.length === 0) return;
        const replies = await ask(lines.join('\n') + '\n');
        expect(replies.length).toBe(lines.length);
      }),
      { numRuns: 40 },
    );
    expect(JSON.parse((await ask('{"op":"ping"}\n'))[0]!)).toEqual({ ok: true });
  });
});
