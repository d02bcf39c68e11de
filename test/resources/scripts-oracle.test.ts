// Differential tests: the same operation sequences run with the original
// Heartbeat 3.0.6 / resource-agents scripts (Debian package `heartbeat`,
// /etc/ha.d/resource.d) in one network namespace and with ours in an
// identically configured other namespace; stdout, exit codes and the
// resulting addresses must agree.  Where the originals are known to differ
// on purpose (docs/compatibility.md) the case is left out.
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { hasTool, itWithTools } from '../helpers/env.js';
import { RESOURCE_D, runScript, scriptEnv, sh, uniqueName } from './script-helpers.js';

const ORIG_DIR = '/etc/ha.d/resource.d';
const NS_ORIG = uniqueName('oo');
const NS_OURS = uniqueName('on');
const se = scriptEnv('hbts-scripts-oracle');
const TOOLS = ['ip', 'arping', `${ORIG_DIR}/IPaddr2`, `${ORIG_DIR}/IPaddr`];
let ready = false;

function setup(ns: string): void {
  sh('ip', ['netns', 'add', ns]);
  const n = (args: string[]) => sh('ip', ['-n', ns, ...args]);
  n(['link', 'set', 'lo', 'up']);
  n(['link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0']);
  n(['link', 'add', 'a1', 'type', 'veth', 'peer', 'name', 'b1']);
  n(['addr', 'add', '10.78.1.1/24', 'dev', 'a0']);
  n(['addr', 'add', '10.78.2.1/24', 'dev', 'a1']);
  for (const d of ['a0', 'b0', 'a1', 'b1']) n(['link', 'set', d, 'up']);
}

/** Addresses of a namespace other than the fixed ones: "dev addr/bits brd label". */
function addresses(ns: string): string[] {
  return sh('ip', ['-n', ns, '-o', '-4', 'addr', 'show'])
    .split('\n')
    .filter((l) => l.includes(' inet ') && !/inet (127\.0\.0\.1|10\.78\.1\.1|10\.78\.2\.1)\//.test(l))
    .map((l) => {
      const f = l.split(/\s+/);
      const i = f.indexOf('inet');
      const brd = f[i + 2] === 'brd' ? f[i + 3] : '-';
      const label = (f.find((t) => t.endsWith('\\')) ?? '').replace(/\\$/, '');
      return `${f[1]!.replace(/:$/, '')} ${f[i + 1]} ${brd} ${label}`;
    })
    .sort();
}

interface Step {
  stdout: string;
  status: number;
  addresses: string[];
}

/** Runs SCRIPT with each action in turn; the script path in stdout is normalised. */
function sequence(ns: string, dir: string, script: string, args: string[], actions: string[]): Step[] {
  const steps: Step[] = [];
  for (const a of actions) {
    const argv = a === '' ? args : [...args, a];
    const r = runScript(script, argv, {
      // the originals are run by absolute path through the same helper
      prefix: ['ip', 'netns', 'exec', ns],
      env: { ...se.env, HA_LOGFILE: path.join(se.dir, `${ns}.log`) },
      scriptDir: dir,
    });
    steps.push({ stdout: r.stdout.replaceAll(path.join(dir, script), 'SCRIPT'), status: r.status, addresses: addresses(ns) });
  }
  return steps;
}

function compare(script: string, args: string[], actions: string[]): void {
  const orig = sequence(NS_ORIG, ORIG_DIR, script, args, actions);
  const ours = sequence(NS_OURS, RESOURCE_D, script, args, actions);
  expect(ours).toEqual(orig);
}

beforeAll(() => {
  if (!TOOLS.every(hasTool)) return;
  setup(NS_ORIG);
  setup(NS_OURS);
  ready = true;
});

afterAll(() => {
  for (const ns of [NS_ORIG, NS_OURS]) sh('ip', ['netns', 'del', ns], { allowFail: true });
  se.cleanup();
});

const CYCLE = ['status', 'start', 'status', 'start', 'stop', 'stop', 'status'];

describe('IPaddr2 against the original', () => {
  for (const spec of ['10.78.1.10/24/a0:vip', '10.78.1.11/24/a0', '10.78.2.12', '10.78.1.13/255.255.255.0/a0', '10.78.1.14/26/a0/10.78.1.63']) {
    itWithTools(TOOLS, `IPaddr2 ${spec}: ${CYCLE.join(', ')}`, () => {
      expect(ready).toBe(true);
      compare('IPaddr2', [spec], CYCLE);
    });
  }
  itWithTools(TOOLS, 'argument errors: no address, unknown action, label too long', () => {
    expect(ready).toBe(true);
    compare('IPaddr2', [], ['start']);
    compare('IPaddr2', ['10.78.1.20'], ['frob']);
    compare('IPaddr2', ['10.78.1.21/24/a0:averyveryverylonglabel'], ['start']);
  });
});

describe('IPaddr against the original (NIC given: resource-agents 4.x defaults it to eth0)', () => {
  for (const spec of ['10.78.1.30/24/a0', '10.78.2.31/24/a1']) {
    itWithTools(TOOLS, `IPaddr ${spec}: ${CYCLE.join(', ')}`, () => {
      expect(ready).toBe(true);
      compare('IPaddr', [spec], CYCLE);
    });
  }
});

describe('IPsrcaddr against the original', () => {
  itWithTools([...TOOLS, `${ORIG_DIR}/IPsrcaddr`], 'same stdout, exit codes and default route over status/start/start/stop/status', () => {
    expect(ready).toBe(true);
    const both = (args: string[]) => [NS_ORIG, NS_OURS].forEach((ns) => sh('ip', ['-n', ns, ...args]));
    both(['addr', 'add', '10.78.1.80/24', 'dev', 'a0']);
    both(['route', 'add', 'default', 'via', '10.78.1.254', 'dev', 'a0']);
    try {
      const run = (ns: string, dir: string) => {
        const out = [];
        // (a second stop is left out: the original fails it with rc 1 — fixed in ours)
        for (const [ip, a] of [['10.78.1.99', 'start'], ['10.78.1.80', 'status'], ['10.78.1.80', 'start'], ['10.78.1.80', 'status'],
          ['10.78.1.80', 'start'], ['10.78.1.80', 'stop'], ['10.78.1.80', 'status']] as const) {
          const r = runScript('IPsrcaddr', [ip, a], { prefix: ['ip', 'netns', 'exec', ns], env: se.env, scriptDir: dir });
          out.push({ stdout: r.stdout, status: r.status, route: sh('ip', ['-n', ns, '-4', 'route', 'show', 'default']).trim() });
        }
        return out;
      };
      expect(run(NS_OURS, RESOURCE_D)).toEqual(run(NS_ORIG, ORIG_DIR));
    } finally {
      both(['route', 'del', 'default']);
      both(['addr', 'del', '10.78.1.80/24', 'dev', 'a0']);
    }
  });
});
