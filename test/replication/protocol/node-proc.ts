import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/repl-node.mjs');

/** A replication engine in a child process (optionally inside a network namespace). */
export class NodeProc {
  readonly logs: string[] = [];
  private readonly proc: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: Record<string, unknown>) => void>();
  exited = false;

  constructor(ns?: string) {
    const cmd = ns === undefined ? ['node', FIXTURE] : ['ip', 'netns', 'exec', ns, 'node', FIXTURE];
    this.proc = spawn(cmd[0]!, cmd.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
    this.proc.on('exit', () => {
      this.exited = true;
      for (const [, w] of this.waiting) w({ ok: false, message: 'exited' });
      this.waiting.clear();
    });
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as Record<string, unknown>;
      if (typeof m.log === 'string') this.logs.push(m.log);
      else if (typeof m.id === 'number') {
        const w = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        w?.(m);
      }
    });
  }

  request(cmd: Record<string, unknown>, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer to ${JSON.stringify(cmd).slice(0, 80)}`)), timeoutMs);
      this.waiting.set(id, (r) => {
        clearTimeout(t);
        resolve(r);
      });
      this.proc.stdin!.write(JSON.stringify({ ...cmd, id }) + '\n');
    });
  }

  async status(): Promise<{ conn: string; role: string; disk: string; peerDisk: string; outOfSyncBits: number; counters: Record<string, number> }> {
    return (await this.request({ cmd: 'status' })).status as never;
  }

  async waitStatus(pred: (s: Awaited<ReturnType<NodeProc['status']>>) => boolean, ms = 20_000, what = 'status'): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      const s = await this.status();
      if (pred(s)) return;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last ${JSON.stringify({ conn: s.conn, disk: s.disk, peerDisk: s.peerDisk })}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async kill(): Promise<void> {
    if (this.exited) return;
    await this.request({ cmd: 'stop' }, 5000).catch(() => undefined);
    this.proc.stdin!.end();
    const done = new Promise((r) => this.proc.once('exit', r));
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await done;
    clearTimeout(t);
  }
}
