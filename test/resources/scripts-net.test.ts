// resource.d IPaddr, IPaddr2, SendArp and portblock run for real inside
// network namespaces created here (10.78.1.0/24 and 10.78.2.0/24 exist only
// inside them).  Namespace A holds the addresses; namespace B, on the other
// end of a veth, accepts gratuitous ARP so we can see that it was sent.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { hasTool, itWithTools } from '../helpers/env.js';
import { RESOURCE_D, owned, runScript, scriptEnv, sh, uniqueName, waitFor } from './script-helpers.js';

const A = uniqueName('ra');
const B = uniqueName('rb');
const se = scriptEnv('hbts-scripts-net');
const NET_TOOLS = ['ip', 'arping'];
let ready = false;

function inA(args: string[]): string {
  return sh('ip', ['-n', A, ...args]);
}

/** "dev bits label" for each place IP is configured in namespace A. */
function where(ip: string): string[] {
  return inA(['-o', '-4', 'addr', 'show'])
    .split('\n')
    .filter((l) => l.includes(` inet ${ip}/`))
    .map((l) => {
      const f = l.split(/\s+/);
      const i = f.indexOf('inet');
      const label = (f.find((t) => t.endsWith('\\')) ?? '').replace(/\\$/, '');
      return `${f[1]!.replace(/:$/, '')} ${f[i + 1]!.split('/')[1]} ${label}`;
    });
}

function macOf(ns: string, dev: string): string {
  const m = /link\/ether ([0-9a-f:]+)/.exec(sh('ip', ['-n', ns, 'link', 'show', 'dev', dev]));
  return m![1]!;
}

function neighMac(ip: string): string | undefined {
  const out = sh('ip', ['-n', B, 'neigh', 'show', ip, 'dev', 'b0']);
  return /lladdr ([0-9a-f:]+)/.exec(out)?.[1];
}

function run(name: string, args: string[]) {
  return runScript(name, args, { netns: A, env: se.env });
}

beforeAll(() => {
  if (!NET_TOOLS.every(hasTool)) return;
  sh('ip', ['netns', 'add', A]);
  sh('ip', ['netns', 'add', B]);
  inA(['link', 'set', 'lo', 'up']);
  inA(['link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0', 'netns', B]);
  inA(['addr', 'add', '10.78.1.1/24', 'dev', 'a0']);
  inA(['link', 'set', 'a0', 'up']);
  // a second network on another interface, for the route-based NIC choice
  inA(['link', 'add', 'a1', 'type', 'veth', 'peer', 'name', 'a2']);
  inA(['addr', 'add', '10.78.2.1/24', 'dev', 'a1']);
  inA(['link', 'set', 'a1', 'up']);
  inA(['link', 'set', 'a2', 'up']);
  sh('ip', ['-n', B, 'addr', 'add', '10.78.1.2/24', 'dev', 'b0']);
  sh('ip', ['-n', B, 'link', 'set', 'b0', 'up']);
  sh('ip', ['netns', 'exec', B, 'sysctl', '-qw', 'net.ipv4.conf.b0.arp_accept=1']);
  ready = true;
});

afterAll(() => {
  for (const ns of [A, B]) sh('ip', ['netns', 'del', ns], { allowFail: true });
  se.cleanup();
});

describe('IPaddr2', () => {
  itWithTools(NET_TOOLS, 'start adds IP/BITS with the label on the given NIC, announces it by ARP; status, idempotent start, stop', async () => {
    expect(ready).toBe(true);
    const spec = '10.78.1.10/24/a0:vip';
    let r = run('IPaddr2', [spec, 'status']);
    expect(r.stdout).toBe('INFO:  Resource is stopped\n');
    expect(r.status).toBe(7);
    expect(owned(r.stdout)).toBe(false);

    r = run('IPaddr2', [spec, 'start']);
    expect(r.stdout).toBe('INFO:  Success\n');
    expect(r.status).toBe(0);
    expect(where('10.78.1.10')).toEqual(['a0 24 a0:vip']);
    expect(inA(['-o', '-4', 'addr', 'show', 'dev', 'a0'])).toMatch(/inet 10\.78\.1\.10\/24 scope global secondary a0:vip/);
    // the gratuitous ARP reaches the other namespace with a0's MAC
    const mac = macOf(A, 'a0');
    await waitFor('the gratuitous ARP for 10.78.1.10 in namespace B', () => neighMac('10.78.1.10') === mac);

    r = run('IPaddr2', [spec, 'status']);
    expect(r.stdout).toBe('INFO:  Running OK\n');
    expect(r.status).toBe(0);
    expect(owned(r.stdout)).toBe(true);

    r = run('IPaddr2', [spec, 'start']);
    expect(r.status).toBe(0);
    expect(where('10.78.1.10')).toEqual(['a0 24 a0:vip']);

    r = run('IPaddr2', [spec, 'stop']);
    expect(r.stdout).toBe('INFO:  Success\n');
    expect(r.status).toBe(0);
    expect(where('10.78.1.10')).toEqual([]);
    expect(owned(run('IPaddr2', [spec, 'status']).stdout)).toBe(false);
    // stop when stopped succeeds (heartbeat stops every group at shutdown)
    expect(run('IPaddr2', [spec, 'stop']).status).toBe(0);

    const log = se.log();
    expect(log).toMatch(/^IPaddr2\[\d+\]:\t\d{4}\/\d\d\/\d\d_\d\d:\d\d:\d\d INFO: ip -f inet addr add 10\.78\.1\.10\/24 dev a0 label a0:vip$/m);
    expect(log).toContain('INFO: ip -f inet addr delete 10.78.1.10/24 dev a0');
  });

  itWithTools(NET_TOOLS, 'NIC and mask from the routes; a dotted mask; no label unless given', () => {
    expect(ready).toBe(true);
    expect(run('IPaddr2', ['10.78.2.20', 'start']).status).toBe(0);
    expect(where('10.78.2.20')).toEqual(['a1 24 a1']);
    expect(run('IPaddr2', ['10.78.1.21/255.255.255.0/a0', 'start']).status).toBe(0);
    expect(where('10.78.1.21')).toEqual(['a0 24 a0']);
    expect(se.log()).toContain('Using calculated nic for 10.78.2.20: a1');
    expect(run('IPaddr2', ['10.78.2.20', 'stop']).status).toBe(0);
    expect(run('IPaddr2', ['10.78.1.21/255.255.255.0/a0', 'stop']).status).toBe(0);
    expect(where('10.78.2.20')).toEqual([]);
    expect(where('10.78.1.21')).toEqual([]);
  });

  itWithTools(NET_TOOLS, 'argument errors: usage exit 1, bad address, label too long', () => {
    expect(ready).toBe(true);
    let r = run('IPaddr2', ['start']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^usage: \S*IPaddr2 ip-address\[\/netmaskbits\[\/interface\[:label\]\[\/broadcast\]\]\] \(start\|stop\|status\|usage\|meta-data\)\n$/);
    r = run('IPaddr2', ['10.78.1.30', 'frob']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('ERROR: Unknown operation: frob');
    r = run('IPaddr2', ['10.78.1.300', 'start']);
    expect(r.status).not.toBe(0);
    expect(owned(r.stdout)).toBe(false);
    r = run('IPaddr2', ['10.78.1.30/24/a0:averyveryverylonglabel', 'start']);
    expect(r.stdout).toBe('ERROR:  Program is not configured\n');
    expect(r.status).toBe(6);
    expect(where('10.78.1.30')).toEqual([]);
  });
});

describe('IPaddr', () => {
  itWithTools(NET_TOOLS, 'a bare IP goes on the interface of its connected route, as the next free alias NIC:N', async () => {
    expect(ready).toBe(true);
    for (const ip of ['10.78.2.50', '10.78.2.51', '10.78.1.50']) {
      const r = run('IPaddr', [ip, 'start']);
      expect(r.stdout).toBe('INFO:  Success\n');
      expect(r.status).toBe(0);
    }
    expect(where('10.78.2.50')).toEqual(['a1 24 a1:0']);
    expect(where('10.78.2.51')).toEqual(['a1 24 a1:1']);
    expect(where('10.78.1.50')).toEqual(['a0 24 a0:0']);
    expect(se.log()).toContain('INFO: Using calculated nic for 10.78.2.50: a1');
    await waitFor('the gratuitous ARP for 10.78.1.50', () => neighMac('10.78.1.50') === macOf(A, 'a0'));

    const st = run('IPaddr', ['10.78.2.50', 'status']);
    expect(st.stdout).toBe('INFO:  Running OK\n');
    expect(owned(st.stdout)).toBe(true);
    // start again: already there, nothing added
    expect(run('IPaddr', ['10.78.2.50', 'start']).status).toBe(0);
    expect(where('10.78.2.50')).toEqual(['a1 24 a1:0']);

    // stop frees the alias; the next start takes the lowest free one again
    expect(run('IPaddr', ['10.78.2.50', 'stop']).status).toBe(0);
    expect(where('10.78.2.50')).toEqual([]);
    expect(run('IPaddr', ['10.78.2.52/24/a1', 'start']).status).toBe(0);
    expect(where('10.78.2.52')).toEqual(['a1 24 a1:0']);
    for (const ip of ['10.78.2.51', '10.78.1.50', '10.78.2.52']) expect(run('IPaddr', [ip, 'stop']).status).toBe(0);
    expect(where('10.78.2.51')).toEqual([]);
    expect(where('10.78.2.52')).toEqual([]);
    const r = run('IPaddr', ['10.78.2.50', 'status']);
    expect(r.stdout).toBe('INFO:  Resource is stopped\n');
    expect(r.status).toBe(7);
  });

  itWithTools(NET_TOOLS, 'no connected route: start fails (rc 1); a NIC other than the route\'s: rc 2; one arg only: usage', () => {
    expect(ready).toBe(true);
    let r = run('IPaddr', ['10.78.3.5', 'start']);
    expect(r.stdout).toBe('ERROR:  Generic error\n');
    expect(r.status).toBe(1);
    expect(se.log()).toContain('ERROR: Unable to find nic or netmask for 10.78.3.5');
    r = run('IPaddr', ['10.78.1.5/24/a1', 'start']);
    expect(r.status).toBe(2);
    expect(se.log()).toContain('ERROR: Invalid parameter value: nic [a1] Calculated nic: [a0]');
    expect(where('10.78.1.5')).toEqual([]);
    r = run('IPaddr', ['status']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^usage: \S*IPaddr <ip-address> \(start\|stop\|status\|usage\|meta-data\)\n$/);
  });
  itWithTools(NET_TOOLS, 'two starts at once get different aliases (the alias choice is locked)', async () => {
    expect(ready).toBe(true);
    const ips = ['10.78.2.60', '10.78.2.61', '10.78.2.62', '10.78.2.63'];
    await Promise.all(
      ips.map(
        (ip) =>
          new Promise<void>((resolve, reject) => {
            const c = spawn('ip', ['netns', 'exec', A, path.join(RESOURCE_D, 'IPaddr'), ip, 'start'], {
              env: { ...process.env, ...se.env },
              stdio: 'ignore',
            });
            const t = setTimeout(() => c.kill('SIGKILL'), 20_000);
            c.on('exit', (code) => {
              clearTimeout(t);
              if (code === 0) resolve();
              else reject(new Error(`IPaddr ${ip} start exited ${code}`));
            });
          }),
      ),
    );
    const labels = ips.map((ip) => where(ip)[0]?.split(' ')[2]);
    expect(new Set(labels).size).toBe(4);
    expect([...labels].sort()).toEqual(['a1:0', 'a1:1', 'a1:2', 'a1:3']);
    for (const ip of ips) expect(run('IPaddr', [ip, 'stop']).status).toBe(0);
  });
});

describe('IPv6addr', () => {
  itWithTools(NET_TOOLS, 'start adds the address on the interface of its connected route; status; idempotent; stop', () => {
    expect(ready).toBe(true);
    inA(['-6', 'addr', 'add', 'fd78:1::1/64', 'dev', 'a0', 'nodad']);
    const v6 = () => inA(['-6', '-o', 'addr', 'show']).split('\n').filter((l) => l.includes('fd78:1::10/')).map((l) => l.split(/\s+/).slice(1, 4).join(' '));
    const spec = 'fd78:1:0:0:0:0:0:10';
    let r = run('IPv6addr', [spec, 'status']);
    expect(r).toMatchObject({ stdout: 'INFO:  Resource is stopped\n', status: 7 });
    r = run('IPv6addr', [spec, 'start']);
    expect(r).toMatchObject({ stdout: 'INFO:  Success\n', status: 0 });
    expect(v6()).toEqual(['a0 inet6 fd78:1::10/64']);
    r = run('IPv6addr', [spec, 'status']);
    expect(r).toMatchObject({ stdout: 'INFO:  Running OK\n', status: 0 });
    expect(owned(r.stdout)).toBe(true);
    expect(run('IPv6addr', [spec, 'start']).status).toBe(0);
    expect(v6()).toHaveLength(1);
    expect(run('IPv6addr', [spec, 'stop']).status).toBe(0);
    expect(v6()).toEqual([]);
    expect(run('IPv6addr', [spec, 'stop']).status).toBe(0);
    // explicit prefix and NIC, no route needed; compressed spellings match
    expect(run('IPv6addr', ['fd78:9:0:0:0:0:0:5/80/a1', 'start']).status).toBe(0);
    expect(owned(run('IPv6addr', ['fd78:9::5', 'status']).stdout)).toBe(true);
    expect(run('IPv6addr', ['fd78:9:0:0:0:0:0:5/80/a1', 'stop']).status).toBe(0);
    expect(run('IPv6addr', ['fd78:3:0:0:0:0:0:5', 'start']).status).toBe(1);
    expect(run('IPv6addr', ['fd78:zz::5', 'status']).status).toBe(6);
    inA(['-6', 'addr', 'del', 'fd78:1::1/64', 'dev', 'a0']);
  });
});

describe('IPsrcaddr', () => {
  itWithTools(NET_TOOLS, 'start sets src IP on the default route, stop restores the primary address', () => {
    expect(ready).toBe(true);
    inA(['route', 'add', 'default', 'via', '10.78.1.254', 'dev', 'a0']);
    try {
      const dflt = () => inA(['-o', '-4', 'route', 'show', 'default']).trim();
      let r = run('IPsrcaddr', ['10.78.1.80', 'start']);
      expect(r.stdout).toBe('ERROR:  Program is not installed\n');
      expect(r.status).toBe(5);
      expect(run('IPaddr2', ['10.78.1.80/24/a0', 'start']).status).toBe(0);
      r = run('IPsrcaddr', ['10.78.1.80', 'status']);
      expect(r.stdout).toBe('No preferred source address defined\nINFO:  Resource is stopped\n');
      expect(owned(r.stdout)).toBe(false);
      r = run('IPsrcaddr', ['10.78.1.80', 'start']);
      expect(r.stdout).toBe('INFO:  Success\n');
      expect(dflt()).toMatch(/^default via 10\.78\.1\.254 dev a0 .*src 10\.78\.1\.80\b/);
      r = run('IPsrcaddr', ['10.78.1.80', 'status']);
      expect(r.stdout).toBe('OK\nINFO:  Running OK\n');
      expect(owned(r.stdout)).toBe(true);
      expect(run('IPsrcaddr', ['10.78.1.80', 'start']).status).toBe(0);
      expect(run('IPsrcaddr', ['10.78.1.80', 'stop']).status).toBe(0);
      expect(dflt()).toMatch(/src 10\.78\.1\.1\b/);
      expect(owned(run('IPsrcaddr', ['10.78.1.80', 'status']).stdout)).toBe(false);
      expect(run('IPsrcaddr', ['10.78.1.80', 'stop']).status).toBe(0);
      expect(run('IPaddr2', ['10.78.1.80/24/a0', 'stop']).status).toBe(0);
    } finally {
      inA(['route', 'del', 'default']);
    }
  });
});

describe('SendArp', () => {
  itWithTools(NET_TOOLS, 'start announces IP on NIC (pseudo resource: running until stop)', async () => {
    expect(ready).toBe(true);
    inA(['addr', 'add', '10.78.1.70/24', 'dev', 'a0']);
    let r = run('SendArp', ['10.78.1.70/a0', 'status']);
    expect(owned(r.stdout)).toBe(false);
    r = run('SendArp', ['10.78.1.70/a0', 'start']);
    expect(r.status).toBe(0);
    await waitFor('the gratuitous ARP for 10.78.1.70', () => neighMac('10.78.1.70') === macOf(A, 'a0'));
    r = run('SendArp', ['10.78.1.70/a0', 'status']);
    expect(r.stdout).toBe('INFO:  Running OK\n');
    expect(owned(r.stdout)).toBe(true);
    expect(run('SendArp', ['10.78.1.70/a0', 'stop']).status).toBe(0);
    r = run('SendArp', ['10.78.1.70/a0', 'status']);
    expect(r.stdout).toBe('INFO:  Resource is stopped\n');
    expect(owned(r.stdout)).toBe(false);
    expect(run('SendArp', ['10.78.1.70/a0', 'stop']).status).toBe(0);
    inA(['addr', 'del', '10.78.1.70/24', 'dev', 'a0']);
  });
});

describe('portblock', () => {
  const rules = () => sh('ip', ['netns', 'exec', A, 'iptables', '-w', '-S', 'INPUT']);
  const RULE = '-A INPUT -p tcp -m multiport --dports 80,8000:8010 -j DROP';

  itWithTools([...NET_TOOLS, 'iptables'], 'block: start inserts the DROP rule, stop deletes it; unblock the other way round', () => {
    expect(ready).toBe(true);
    const blk = ['tcp', '80,8000:8010', 'block'];
    let r = run('portblock', [...blk, 'status']);
    expect(r.stdout).toBe('portblock DROP rule [tcp 80,8000:8010 0.0.0.0/0 in block] is inactive\nINFO:  Resource is stopped\n');
    expect(owned(r.stdout)).toBe(false);
    expect(run('portblock', [...blk, 'start']).status).toBe(0);
    expect(run('portblock', [...blk, 'start']).status).toBe(0);
    expect(rules().split('\n').filter((l) => l === RULE)).toHaveLength(1);
    r = run('portblock', [...blk, 'status']);
    expect(r.stdout).toBe('portblock DROP rule [tcp 80,8000:8010 0.0.0.0/0 in block]  is running (OK)\nINFO:  Running OK\n');
    expect(owned(r.stdout)).toBe(true);
    expect(run('portblock', [...blk, 'stop']).status).toBe(0);
    expect(rules()).not.toContain(RULE);
    expect(owned(run('portblock', [...blk, 'status']).stdout)).toBe(false);

    const unb = ['tcp', '80,8000:8010', 'unblock'];
    expect(run('portblock', [...unb, 'stop']).status).toBe(0);
    expect(rules()).toContain(RULE);
    expect(owned(run('portblock', [...unb, 'status']).stdout)).toBe(false);
    expect(run('portblock', [...unb, 'start']).status).toBe(0);
    expect(rules()).not.toContain(RULE);
    r = run('portblock', [...unb, 'status']);
    expect(r.stdout).toContain('is running (OK)');
    expect(owned(r.stdout)).toBe(true);
    expect(run('portblock', [...unb, 'stop']).status).toBe(0);
    expect(rules()).toContain(RULE);
    expect(run('portblock', [...blk, 'stop']).status).toBe(0);
    expect(rules()).not.toContain(RULE);

    r = run('portblock', ['tcp', '80', 'start']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^usage: \S*portblock \{udp\|tcp\} portno,portno \{block\|unblock\} /);
  });
  itWithTools([...NET_TOOLS, 'iptables'], 'a blocked port really drops connections from the other namespace; stop opens it again', async () => {
    expect(ready).toBe(true);
    const server = spawn(
      'ip',
      ['netns', 'exec', A, process.execPath, '-e', "require('net').createServer((s) => s.end('hi')).listen(8005, '10.78.1.1', () => console.log('ready')); setTimeout(() => process.exit(0), 60000);"],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    try {
      let out = '';
      server.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      await waitFor('the test server in namespace A', () => out.includes('ready'));
      const connect = () =>
        sh('ip', ['netns', 'exec', B, process.execPath, '-e',
          "const s = require('net').connect(8005, '10.78.1.1'); s.setTimeout(700, () => { console.log('timeout'); process.exit(0); });" +
          " s.on('data', (d) => { console.log('data:' + d); process.exit(0); }); s.on('error', (e) => { console.log('error:' + e.code); process.exit(0); });"]).trim();
      expect(connect()).toBe('data:hi');
      expect(run('portblock', ['tcp', '80,8000:8010', 'block', 'start']).status).toBe(0);
      expect(connect()).toBe('timeout');
      expect(run('portblock', ['tcp', '80,8000:8010', 'block', 'stop']).status).toBe(0);
      expect(connect()).toBe('data:hi');
    } finally {
      server.kill('SIGKILL');
    }
  });
});
