/**
 * The recorded scenarios of the original ldirectord (../shared/reference/
 * ldirectord-golden) replayed against our daemon with the same runner, test
 * servers and stateful fake ipvsadm. After each event the IPVS table must
 * equal the golden snapshot (destinations compared as sets: the order is
 * insertion order, which the original's start-up flap shuffles), except where
 * the issue asks us to fix the original; and no start-up flap may appear.
 */
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { REFERENCE, REPO_ROOT, itWithTools } from '../helpers/env.js';

const GOLDEN = path.join(REFERENCE, 'ldirectord-golden');
const RUNNER = path.join(GOLDEN, 'tools', 'run-scenario.py');

type Snapshot = Record<string, string[]>;

/** The `== table` snapshots of a trace, each service's destinations as sorted `ADDR FWD WEIGHT`. */
export function snapshots(trace: string): Snapshot[] {
  const out: Snapshot[] = [];
  let cur: Snapshot | undefined;
  let svc = '';
  for (const line of trace.split('\n')) {
    if (line.startsWith('== table')) {
      cur = {};
      out.push(cur);
      continue;
    }
    if (line.startsWith('   |') && cur) {
      const body = line.slice(4).trim();
      if (body.startsWith('->')) {
        const t = body.split(/\s+/);
        cur[svc]!.push(`${t[1]} ${t[2]} ${t[3]}`);
        cur[svc]!.sort();
      } else {
        svc = body.split(/\s+/).join(' ');
        cur[svc] = [];
      }
      continue;
    }
    if (line.startsWith('==')) cur = undefined;
  }
  return out;
}

/** Mutating ipvsadm commands issued between `== event ld-start` and the next event. */
function startCommands(trace: string): string[] {
  const lines = trace.split('\n');
  const i = lines.findIndex((l) => l.startsWith('== event ld-start') || l.startsWith('== event ld-ns-start'));
  if (i < 0) return [];
  const out: string[] = [];
  for (const l of lines.slice(i + 1)) {
    if (l.startsWith('==')) break;
    if (l.startsWith('   ipvsadm ')) out.push(l.trim());
  }
  return out;
}

/** The original's start-up flap: a real given a weight > 0 and then taken to 0 or deleted in the same start. */
function flaps(commands: string[]): string[] {
  const raised = new Set<string>();
  const found: string[] = [];
  for (const c of commands) {
    const real = / -r (\S+)/.exec(c)?.[1];
    const svc = / -[tuf] (\S+)/.exec(c)?.[1];
    if (!real || !svc) continue;
    const key = `${svc} ${real}`;
    const weight = Number(/ -w (\d+)/.exec(c)?.[1] ?? '-1');
    if ((c.includes(' -a ') || c.includes(' -e ') || /^ipvsadm -[ae] /.test(c)) && weight > 0) raised.add(key);
    else if (raised.has(key) && (weight === 0 || /^ipvsadm -d /.test(c))) found.push(key);
  }
  return found;
}

/** Where we deliberately differ from the recording (the fixes); applied to the golden snapshots. */
const EXPECTED_FIXES: Record<string, (s: Snapshot[]) => Snapshot[]> = {
  // The original's POP check reports a POP server with nothing listening as up (no login set); ours says down.
  'service-dialogues': (snaps) => snaps.map((snap) => ({
    ...snap,
    'TCP 127.0.19.219:110 wrr': snap['TCP 127.0.19.219:110 wrr']!.filter((d) => !d.startsWith('127.0.19.222:110 ')),
  })),
};

const SCENARIOS = [
  'start-all-down', 'connect-failurecount', 'external-checks', 'fallback-and-command', 'fork-mode', 'http-check-matrix',
  'http-timeout', 'hup-and-callback', 'maintenancedir', 'virtual-forms', 'daemon-cli', 'combined-checktype', 'supervised',
  'tutorial-empty-table', 'service-dialogues',
];

const work = mkdtempSync(path.join(tmpdir(), 'ldgold-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function wrapper(): string {
  const w = path.join(work, 'ldirectord');
  if (!existsSync(w)) {
    // The runner restricts PATH; the wrapper names node and our entry, and points ipvsadm at the fake in the run folder.
    writeFileSync(w, `#!/bin/sh\nexport IPVSADM="$PWD/ipvsadm"\nexec ${process.execPath} ${path.join(REPO_ROOT, 'bin', 'ldirectord')} "$@"\n`);
    chmodSync(w, 0o755);
  }
  return w;
}

function replay(name: string): Promise<string> {
  const dir = path.join(work, name);
  rmSync(dir, { recursive: true, force: true });
  cpSync(path.join(GOLDEN, name), dir, { recursive: true, filter: (src) => !src.includes(`${path.sep}out`) });
  return new Promise((resolve, reject) => {
    execFile('python3', [RUNNER, dir, wrapper()], { timeout: 150_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${name}: runner failed: ${err.message}\n${stderr}`));
      else resolve(readFileSync(path.join(dir, 'out', 'trace.txt'), 'utf8'));
    });
  });
}

/** Three scenarios at a time: each runs on its own loopback addresses; more would only slow every check. */
async function replayAll(names: string[]): Promise<Map<string, string>> {
  const results = new Map<string, string>();
  const queue = [...names];
  await Promise.all([0, 1, 2].map(async () => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) results.set(n, await replay(n));
  }));
  return results;
}

describe('ldirectord golden scenarios against our daemon', () => {
  itWithTools(['python3', 'unshare', 'mount', 'ipvsadm'], 'every snapshot equals the original\'s table; no start-up flap', async () => {
    const traces = await replayAll(SCENARIOS);
    const verdict = (name: string, ours: string): string[] => {
      const golden = readFileSync(path.join(GOLDEN, name, 'out', 'trace.txt'), 'utf8');
      const want = (EXPECTED_FIXES[name] ?? ((s) => s))(snapshots(golden));
      const got = snapshots(ours);
      const out: string[] = [];
      if (JSON.stringify(got) !== JSON.stringify(want)) out.push(`${name}:\n  want ${JSON.stringify(want)}\n  got  ${JSON.stringify(got)}`);
      const f = flaps(startCommands(ours));
      if (f.length > 0) out.push(`${name}: start-up flap of ${f.join(', ')}`);
      return out;
    };
    const problems: string[] = [];
    for (const name of SCENARIOS) {
      let found = verdict(name, traces.get(name)!);
      // The runner's steps are timed for the original (a snapshot 3 s after start, say); on a loaded
      // machine a start-up can miss one. A scenario that fails is replayed once more on its own: a real
      // difference fails both times.
      if (found.length > 0) found = verdict(name, await replay(name));
      problems.push(...found);
    }
    expect(problems).toEqual([]);
    // The detector itself sees the original's flap in its own recording.
    expect(flaps(startCommands(readFileSync(path.join(GOLDEN, 'start-all-down', 'out', 'trace.txt'), 'utf8')))).not.toEqual([]);
  }, 420_000);
});
