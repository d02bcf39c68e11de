/**
 * A minimal hbnet cluster for the benchmarks (the tests' harness lives under
 * test/ and is not part of the build): a unique netns prefix, a temporary
 * HBNET_STATE, bounded waits on the nodes' ha-log files, and the host PIDs of
 * a node's processes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readFileSync, readSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const ORIGINAL = '/usr/libexec/heartbeat/heartbeat';

export function sharedDir(repoRoot: string): string {
  const beside = path.resolve(repoRoot, '../shared');
  return existsSync(beside) ? realpathSync(beside) : beside;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let counter = 0;

export class BenchCluster {
  readonly state: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly hbnetPath: string,
    extraEnv: Record<string, string>,
  ) {
    this.state = mkdtempSync(path.join(tmpdir(), 'hbbench-'));
    const prefix = `hbb${process.pid.toString(36)}${(counter++).toString(36)}`;
    // HBNET_START_SETTLE=0: `hbnet start` returns at once, we wait on the logs ourselves.
    this.env = { ...process.env, HBNET_PREFIX: prefix, HBNET_STATE: this.state, HBNET_START_SETTLE: '0', ...extraEnv };
  }

  hbnet(args: string[], env: Record<string, string> = {}): string {
    return execFileSync(this.hbnetPath, args, { env: { ...this.env, ...env }, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  start(node: string, command: string): void {
    this.hbnet(['start', node], { [`HBNET_DAEMON_${node}`]: command });
  }

  logFile(node: string): string {
    return path.join(this.state, 'nodes', node, 'log/ha-log');
  }

  /** Current length of a node's ha-log in bytes (an offset for waitForLog). */
  logSize(node: string): number {
    try {
      const fd = openSync(this.logFile(node), 'r');
      try {
        return fstatSync(fd).size;
      } finally {
        closeSync(fd);
      }
    } catch {
      return 0;
    }
  }

  /**
   * Bounded wait until `node`'s ha-log holds `text` after byte `from`; reads
   * only what was appended since the last poll. Resolves with the wall-clock
   * time (epoch ms) of the poll that first saw it.
   */
  async waitForLog(node: string, text: string, timeoutMs: number, from = 0, pollMs = 5): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let offset = from;
    let seen = '';
    for (;;) {
      if (existsSync(this.logFile(node))) {
        const fd = openSync(this.logFile(node), 'r');
        try {
          const size = fstatSync(fd).size;
          if (size > offset) {
            const buf = Buffer.alloc(size - offset);
            const n = readSync(fd, buf, 0, buf.length, offset);
            offset += n;
            seen += buf.subarray(0, n).toString('latin1');
          }
        } finally {
          closeSync(fd);
        }
      }
      if (seen.includes(text)) return Date.now();
      if (Date.now() > deadline) throw new Error(`${node}'s ha-log lacks "${text}" after ${timeoutMs} ms`);
      await sleep(pollMs); // poll interval of a bounded wait
    }
  }

  /** Epoch ms at which hbnet recorded its last `kill -SIG NODE` (events.log, written just before kill(2)). */
  lastKillAt(node: string, sig = 'KILL'): number {
    const lines = readFileSync(path.join(this.state, 'events.log'), 'utf8').trimEnd().split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i]!;
      if (line.includes(` kill -${sig} ${node}:`)) return Math.round(parseFloat(line.slice(0, line.indexOf(' '))) * 1000);
    }
    throw new Error(`no kill of ${node} in events.log`);
  }

  /** tcpdump on the switch bridge (`hbnet capture start`), packet-buffered, into captures/NAME.pcap. */
  captureStart(name: string, filter: string[]): void {
    this.hbnet(['capture', 'start', name, ...filter]);
  }

  captureStop(): void {
    this.hbnet(['capture', 'stop']);
  }

  /** Capture times (epoch ms, µs precision) of the packets written so far to captures/NAME.pcap. */
  packetTimes(name: string): number[] {
    const f = path.join(this.state, 'captures', `${name}.pcap`);
    if (!existsSync(f)) return [];
    const b = readFileSync(f);
    if (b.length < 24) return [];
    const magic = b.readUInt32LE(0);
    const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
    const nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
    const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const times: number[] = [];
    for (let o = 24; o + 16 <= b.length; ) {
      const len = u32(o + 8);
      if (o + 16 + len > b.length) break; // a record still being written
      times.push(u32(o) * 1000 + u32(o + 4) / (nano ? 1e6 : 1e3));
      o += 16 + len;
    }
    return times;
  }

  /** Host PIDs of the node's processes (everything in its PID namespace but the holder). */
  pids(node: string): number[] {
    return this.hbnet(['ps', node])
      .split('\n')
      .slice(1)
      .map((l) => parseInt(l, 10))
      .filter((p) => Number.isInteger(p) && p > 0);
  }

  down(): void {
    try {
      this.hbnet(['down', '--purge']);
    } catch {
      // best effort; the state folder goes anyway
    } finally {
      // hbnet records setsid's pid for a serial cable, not socat's: kill what still names our folder.
      spawnSync('pkill', ['-KILL', '-f', '--', this.state], { stdio: 'ignore', timeout: 5_000 });
      rmSync(this.state, { recursive: true, force: true });
    }
  }
}
