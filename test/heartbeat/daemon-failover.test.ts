/**
 * End-to-end failover with real resources (issue 4, "Tests"): hbnet clusters
 * (network, mount and PID namespaces) whose group is
 *
 *   node1 IPaddr::10.77.0.100/24/eth0 Filesystem::/dev/loopN::<mnt>::ext4 hbtsvc
 *
 * a service address on eth0, an ext4 filesystem on a loop device both nodes
 * see (the shared disk), and an LSB init script in /etc/init.d that starts a
 * small process (see failover-harness.ts). What is checked is what an admin
 * would check: `ip addr` in the node's network namespace, the node's mount
 * table, the init script's own `status`, and a file written through node1's
 * mount read back on node2 with the same checksum.
 *
 * The scenarios use separate clusters and run concurrently.
 */
import { afterAll, describe, expect } from 'vitest';
import { itWithTools } from '../helpers/env.js';
import { DEADTIME_MS, HBNET_TOOLS, KEEPALIVE_MS, ORIGINAL } from './daemon-harness.js';
import { DISK_TOOLS, FailoverCluster, SERVICE, type FailoverOptions, type Holding } from './failover-harness.js';

const TOOLS = [...HBNET_TOOLS, ...DISK_TOOLS];
const ORIGINAL_TOOLS = [...TOOLS, ORIGINAL, 'cl_status'];
/** The issue's bound for our node taking over: deadtime + 1 s from the crash to the whole group running. */
const TAKEOVER_BOUND_MS = DEADTIME_MS + 1000;
const STARTUP_MS = 30_000;

const clusters: FailoverCluster[] = [];
afterAll(async () => {
  const errors: unknown[] = [];
  for (const f of clusters.splice(0)) await f.down().catch((e: unknown) => errors.push(e));
  if (errors.length > 0) throw errors[0];
});

async function cluster(o: FailoverOptions): Promise<FailoverCluster> {
  const f = new FailoverCluster(o);
  clusters.push(f);
  await f.up();
  return f;
}

/** Runs a scenario and always takes its cluster down (unmount, hbnet down, loop detach), even when it fails. */
async function withCluster(o: FailoverOptions, body: (f: FailoverCluster) => Promise<void>): Promise<void> {
  const f = await cluster(o);
  try {
    await body(f);
  } finally {
    clusters.splice(clusters.indexOf(f), 1);
    await f.down();
  }
}

/** node1 holds the whole group, node2 nothing; returns the payload's checksum written through node1's mount. */
async function expectNode1HoldsAndWritePayload(f: FailoverCluster): Promise<string> {
  expect(await f.holdsAll('node1')).toBe(true);
  expect(await f.holdsNothing('node2')).toBe(true);
  expect(f.serviceCalls('node2').filter((x) => x.op === 'start')).toEqual([]);
  return f.writePayload('node1');
}

/**
 * node1 crashes; the whole group runs on node2 within `boundMs` of the kill
 * (the LSB script is last in the group: its start means the address and the
 * filesystem are up), with node1's data.
 */
async function crashNode1AndExpectTakeover(f: FailoverCluster, sum: string, boundMs: number): Promise<number> {
  const from = f.serviceCalls('node2').length;
  const [killedAt, started] = await f.timed(async () => {
    const at = await f.crash('node1');
    return [at, await f.waitForService('node2', 'start', DEADTIME_MS + 20_000, from)] as const;
  });
  const took = started.at - killedAt;
  console.log(`takeover by node2 (${f.o.node2}) ${took} ms after node1 (${f.o.node1}) was killed`);
  expect(took, f.report()).toBeLessThanOrEqual(boundMs);
  expect(await f.vip('node2')).toBe(true);
  expect(f.mounted('node2')).toBe(true);
  expect(await f.checksum('node2')).toBe(sum);
  expect(await f.serviceRuns('node2')).toBe(true);
  expect(await f.holdsNothing('node1')).toBe(true);
  return took;
}

/** node1 comes back after its crash (already reset): node2 releases everything, node1 runs the group with the same data. */
async function restartNode1AndExpectFailback(f: FailoverCluster, sum: string): Promise<number> {
  const n1 = f.serviceCalls('node1').length;
  const n2 = f.serviceCalls('node2').length;
  const n2log = f.c.log('node2').length;
  const startedAt = await f.start('node1');
  const released = await f.waitForService('node2', 'stop', 60_000, n2);
  const back = await f.waitForService('node1', 'start', 60_000, n1);
  expect(back.at).toBeGreaterThanOrEqual(released.at);
  expect(f.scriptRuns('node2', n2log).filter(([, a]) => a === 'stop')).toEqual([
    [SERVICE, 'stop'],
    ['Filesystem', 'stop'],
    ['IPaddr', 'stop'],
  ]);
  expect(await f.holdsNothing('node2')).toBe(true);
  expect(await f.holdsAll('node1')).toBe(true);
  expect(await f.checksum('node1')).toBe(sum);
  return startedAt;
}

/** Samples both nodes' address and mount every `everyMs` until stopped (the taker is read first, see handover). */
function sampler(f: FailoverCluster, first: string, second: string, everyMs: number) {
  const samples: { at: number; [node: string]: Holding | number }[] = [];
  let stop = false;
  const done = (async () => {
    while (!stop) {
      const at = Date.now();
      const a = await f.holding(first);
      const b = await f.holding(second);
      samples.push({ at, [first]: a, [second]: b });
      await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (Date.now() - at)))); // sampling period
    }
  })();
  return {
    samples,
    async end() {
      stop = true;
      await done;
      return samples as { at: number; node1: Holding; node2: Holding }[];
    },
  };
}

/**
 * Graceful stop (`heartbeat -k`) of `giver`, which holds the group: it stops
 * the group right to left, then `taker` starts it left to right, the address
 * and the filesystem never held by both at once, without any dead-node
 * handling on the taker (no STONITH, no takeover of a dead node's groups).
 */
async function gracefulStopHandsOver(f: FailoverCluster, giver: string, taker: string, sum: string): Promise<void> {
  const gLog = f.c.log(giver).length;
  const tLog = f.c.log(taker).length;
  const g = f.serviceCalls(giver).length;
  const t = f.serviceCalls(taker).length;
  const [stopAt, taken, samples] = await f.timed(async () => {
    // The taker is read before the giver: a sample with both holding is a real overlap.
    const watch = sampler(f, taker, giver, 20);
    await f.stop(giver);
    const at = f.eventAt(new RegExp(`^stop ${giver} `));
    const started = await f.waitForService(taker, 'start', 20_000, t);
    return [at, started, await watch.end()] as const;
  });
  const released = f.serviceCalls(giver).slice(g).find((x) => x.op === 'stop' && x.rc === '0');
  expect(released, f.report()).toBeDefined();
  expect(taken.at).toBeGreaterThanOrEqual(released!.at);
  console.log(`graceful stop of ${giver}: ${SERVICE} stopped after ${released!.at - stopAt} ms, running on ${taker} after ${taken.at - stopAt} ms`);
  expect(f.scriptRuns(giver, gLog).filter(([, a]) => a === 'stop')).toEqual([
    [SERVICE, 'stop'],
    ['Filesystem', 'stop'],
    ['IPaddr', 'stop'],
  ]);
  expect(f.scriptRuns(taker, tLog).filter(([, a]) => a === 'start')).toEqual([
    ['IPaddr', 'start'],
    ['Filesystem', 'start'],
    [SERVICE, 'start'],
  ]);
  const g2 = giver as 'node1' | 'node2';
  const t2 = taker as 'node1' | 'node2';
  expect(samples.filter((s) => s[g2].vip && s[t2].vip)).toEqual([]);
  expect(samples.filter((s) => s[g2].mounted && s[t2].mounted)).toEqual([]);
  expect(await f.holdsAll(taker)).toBe(true);
  expect(await f.checksum(taker)).toBe(sum);
  expect(f.mounted(giver)).toBe(false);
  expect(await f.vip(giver)).toBe(false);
  // A shutdown notice, not a death: no fencing, no "is dead" before the group runs (heartbeat-live.md §3.6).
  const afterStop = f.c.log(taker).slice(tLog);
  const takerLog = afterStop.slice(0, afterStop.indexOf(`info: Running /etc/init.d/${SERVICE}  start`));
  expect(takerLog).toContain(`info: Received shutdown notice from '${giver}'.`);
  expect(takerLog.match(/Received shutdown notice/g)).toHaveLength(1);
  for (const line of ['No STONITH device configured', 'Shared disks are not protected', 'Resetting node', `node ${giver}: is dead`]) {
    expect(takerLog).not.toContain(line);
  }
}

describe.concurrent('failover of IPaddr + Filesystem (shared loop disk) + an LSB script, our heartbeat on both nodes', () => {
  itWithTools(TOOLS, 'auto_failback on: node1 crashes -> node2 runs the group with node1 data within deadtime + 1 s; node1 back -> failback; heartbeat -k on node1 hands over in order', async () => {
    await withCluster({ autoFailback: 'on', node1: 'ours', node2: 'ours' }, async (f) => {
      const [s1] = await Promise.all([f.start('node1'), f.start('node2')]);
      await f.waitForService('node1', 'start', STARTUP_MS);
      await f.waitForRscstatus('node1', 'local', 10_000);
      await f.waitForRscstatus('node2', 'local', 10_000);
      expect(f.scriptRuns('node1')).toEqual([
        ['IPaddr', 'start'],
        ['Filesystem', 'start'],
        [SERVICE, 'start'],
      ]);
      const sum = await expectNode1HoldsAndWritePayload(f);

      await f.pastStartupDeadtime(s1, KEEPALIVE_MS);
      await crashNode1AndExpectTakeover(f, sum, TAKEOVER_BOUND_MS);
      await f.waitForRscstatus('node2', 'all', 10_000);

      const restarted = await restartNode1AndExpectFailback(f, sum);
      await f.waitForRscstatus('node1', 'local', 10_000);
      await f.waitForRscstatus('node2', 'local', 10_000);

      // Graceful stop of the holder hands the group to node2.
      await f.pastStartupDeadtime(restarted, KEEPALIVE_MS);
      await gracefulStopHandsOver(f, 'node1', 'node2', sum);
      await f.waitForRscstatus('node2', 'all', 10_000);
    });
  }, 150_000);

  itWithTools(TOOLS, 'auto_failback off: after node1 crashes and comes back the group stays on node2; heartbeat -k on node2 gives it back to node1', async () => {
    await withCluster({ autoFailback: 'off', node1: 'ours', node2: 'ours' }, async (f) => {
      const [s1] = await Promise.all([f.start('node1'), f.start('node2')]);
      await f.waitForService('node1', 'start', STARTUP_MS);
      await f.waitForRscstatus('node1', 'local', 10_000);
      const sum = await expectNode1HoldsAndWritePayload(f);

      await f.pastStartupDeadtime(s1, KEEPALIVE_MS);
      await crashNode1AndExpectTakeover(f, sum, TAKEOVER_BOUND_MS);

      const n1 = f.serviceCalls('node1').length;
      const n2 = f.serviceCalls('node2').length;
      const s1b = await f.start('node1');
      await f.waitForRscstatus('node1', 'none', 20_000);
      await f.waitForRscstatus('node2', 'all', 10_000);
      expect(await f.holdsAll('node2')).toBe(true);
      expect(await f.holdsNothing('node1')).toBe(true);
      expect(f.serviceCalls('node2').slice(n2).filter((x) => x.op !== 'status')).toEqual([]);
      expect(f.serviceCalls('node1').slice(n1).filter((x) => x.op !== 'status')).toEqual([]);

      await f.pastStartupDeadtime(s1b, KEEPALIVE_MS);
      await gracefulStopHandsOver(f, 'node2', 'node1', sum);
      await f.waitForRscstatus('node1', 'all', 10_000);
    });
  }, 150_000);

  itWithTools(TOOLS, 'partition and heal: both run the group while cut; after the heal node1 keeps it, node2 releases, and the address is never gone', async () => {
    await withCluster({ autoFailback: 'on', node1: 'ours', node2: 'ours' }, async (f) => {
      const [s1] = await Promise.all([f.start('node1'), f.start('node2')]);
      await f.waitForService('node1', 'start', STARTUP_MS);
      await f.waitForRscstatus('node1', 'local', 10_000);
      await f.waitForRscstatus('node2', 'local', 10_000);
      const sum = await expectNode1HoldsAndWritePayload(f);
      await f.pastStartupDeadtime(s1, KEEPALIVE_MS);

      const n1 = f.serviceCalls('node1').length;
      const n2 = f.serviceCalls('node2').length;
      const n1log = f.c.log('node1').length;
      await f.hbnet(['cut', 'node1', 'both']);
      await f.waitForService('node2', 'start', DEADTIME_MS + 10_000, n2);
      // Split brain: both run it (each declared the other dead).
      await f.c.waitForLog('node1', 'WARN: node node2: is dead', 10_000, n1log);
      expect(await f.holdsAll('node2')).toBe(true);
      expect(await f.holdsAll('node1')).toBe(true);

      const healedAt = Date.now();
      const samples = await f.timed(async () => {
        const watch = sampler(f, 'node1', 'node2', 100);
        await f.hbnet(['heal', 'node1']);
        await waitForSettled(f, 30_000);
        // Settled: it stays that way for a while.
        await new Promise((r) => setTimeout(r, 2000)); // observation window after settling
        return watch.end();
      });
      expect(samples.length).toBeGreaterThan(10);
      const gaps = samples.filter((s) => !s.node1.vip && !s.node2.vip);
      expect(gaps, `address on neither node after the heal at ${healedAt}`).toEqual([]);
      expect(samples.filter((s) => !s.node1.mounted && !s.node2.mounted)).toEqual([]);
      const last = samples.at(-1)!;
      expect(last.node1).toEqual({ vip: true, mounted: true });
      expect(last.node2).toEqual({ vip: false, mounted: false });
      // A heal settled by the resource managers, not the original's restart of both nodes (heartbeat-live.md §3.7).
      for (const [n, peer] of [['node1', 'node2'], ['node2', 'node1']] as const) {
        const after = f.c.log(n).slice(n === 'node1' ? n1log : 0);
        expect(after.match(new RegExp(`CRIT: Cluster node ${peer} returning after partition\\.`, 'g'))).toHaveLength(1);
        expect(after.match(/Split_Brain/g)).toHaveLength(1);
        expect(after).toContain(`info: Partition healed: keeping the groups this node owns, releasing those ${peer} owns.`);
        expect(after).not.toContain('Heartbeat restart triggered.');
        expect(after).not.toContain('Giving up all HA resources.');
      }
      // node1 never stopped its copy; node2 stopped its copy once.
      expect(f.serviceCalls('node1').slice(n1).filter((x) => x.op === 'stop')).toEqual([]);
      expect(f.serviceCalls('node2').slice(n2).filter((x) => x.op === 'stop')).toHaveLength(1);
      expect(await f.holdsAll('node1')).toBe(true);
      expect(await f.holdsNothing('node2')).toBe(true);
      expect(await f.checksum('node1')).toBe(sum);
      await f.waitForRscstatus('node1', 'local', 10_000);
      await f.waitForRscstatus('node2', 'local', 10_000);
    });
  }, 120_000);
});

/** The longest stretch (ms) of consecutive samples in which neither node had the address. */
function longestGap(samples: readonly { at: number; node1: Holding; node2: Holding }[]): number {
  let longest = 0;
  let since: number | undefined;
  for (const x of samples) {
    if (!x.node1.vip && !x.node2.vip) {
      since ??= x.at;
      longest = Math.max(longest, x.at - since);
    } else since = undefined;
  }
  return longest;
}

/** Bounded wait until node1 runs the whole group and node2 nothing. */
async function waitForSettled(f: FailoverCluster, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await f.holdsAll('node1')) && (await f.holdsNothing('node2'))) return;
    if (Date.now() > deadline) throw new Error(`not settled after ${timeoutMs} ms\n${f.report()}`);
    await new Promise((r) => setTimeout(r, 100)); // poll interval of a bounded condition wait
  }
}

describe.concurrent('the same failover in a mixed cluster with the original heartbeat 3.0.6 (its stock IPaddr and Filesystem)', () => {
  itWithTools(ORIGINAL_TOOLS, 'original node1 crashes -> our node2 runs the group with its data within deadtime + 1 s; the original back -> we give it back; heartbeat -k on the original hands it to us', async () => {
    await withCluster({ autoFailback: 'on', node1: 'original', node2: 'ours' }, async (f) => {
      // Our node2 joins within the original's initdead (see daemon-resources.test.ts).
      const [s1] = await Promise.all([f.start('node1'), f.start('node2')]);
      await f.waitForService('node1', 'start', 60_000);
      await f.waitForRscstatus('node2', 'local', 20_000);
      const sum = await expectNode1HoldsAndWritePayload(f);

      await f.pastStartupDeadtime(s1, KEEPALIVE_MS);
      await crashNode1AndExpectTakeover(f, sum, TAKEOVER_BOUND_MS);
      await f.waitForRscstatus('node2', 'all', 10_000);

      const restarted = await restartNode1AndExpectFailback(f, sum);
      // Graceful stop of the original holder: our node2 takes the group over in order.
      await f.pastStartupDeadtime(restarted, KEEPALIVE_MS);
      await gracefulStopHandsOver(f, 'node1', 'node2', sum);
      await f.waitForRscstatus('node2', 'all', 10_000);
    });
  }, 180_000);

  itWithTools(ORIGINAL_TOOLS, 'partition and heal with the original as node1: it restarts as 3.0.6 does, our node2 keeps the group meanwhile (no outage), then the usual failback', async () => {
    await withCluster({ autoFailback: 'on', node1: 'original', node2: 'ours' }, async (f) => {
      const [s1] = await Promise.all([f.start('node1'), f.start('node2')]);
      await f.waitForService('node1', 'start', 60_000);
      await f.waitForRscstatus('node2', 'local', 20_000);
      const sum = await expectNode1HoldsAndWritePayload(f);
      await f.pastStartupDeadtime(s1, KEEPALIVE_MS);

      const n1 = f.serviceCalls('node1').length;
      const n2 = f.serviceCalls('node2').length;
      const n2log = f.c.log('node2').length;
      await f.hbnet(['cut', 'node1', 'both']);
      await f.waitForService('node2', 'start', DEADTIME_MS + 10_000, n2);
      expect(await f.holdsAll('node2')).toBe(true);
      expect(await f.holdsAll('node1')).toBe(true);

      const samples = await f.timed(async () => {
        const watch = sampler(f, 'node1', 'node2', 100);
        await f.hbnet(['heal', 'node1']);
        // The original gives everything up and restarts (heartbeat-live.md §3.7), then fails back.
        await f.waitForService('node1', 'stop', 30_000, n1);
        await f.waitForService('node1', 'start', 60_000, n1);
        await waitForSettled(f, 30_000);
        return watch.end();
      });
      // Until our node2 releases the group for the failback, the address and the mount never leave both nodes.
      const release = f.serviceCalls('node2').slice(n2).find((x) => x.op === 'stop' && x.rc === '0');
      expect(release, f.report()).toBeDefined();
      const beforeRelease = samples.filter((x) => x.at < release!.at);
      const shown = `${samples.map((x) => `${x.at - release!.at} ${x.node1.vip ? 'V' : '-'}${x.node1.mounted ? 'M' : '-'} ${x.node2.vip ? 'V' : '-'}${x.node2.mounted ? 'M' : '-'}`).join('\n')}\n${f.report()}`;
      expect(beforeRelease.length, shown).toBeGreaterThan(10);
      expect(beforeRelease.filter((x) => !x.node1.vip && !x.node2.vip), shown).toEqual([]);
      expect(beforeRelease.filter((x) => !x.node1.mounted && !x.node2.mounted)).toEqual([]);
      // After that only the failback's own hand-over (stop right to left, then start): a short gap, not a restart's outage.
      expect(longestGap(samples), shown).toBeLessThan(3000);
      // The original's copy went away in that time: only node2 held the group for a while.
      expect(beforeRelease.some((x) => !x.node1.vip && x.node2.vip)).toBe(true);
      expect(f.serviceCalls('node2').slice(n2).filter((x) => x.op === 'stop')).toHaveLength(1);
      const ours = f.c.log('node2').slice(n2log);
      expect(ours).toContain("CRIT: Cluster node node1 returning after partition.");
      expect(ours).not.toContain('Giving up all HA resources.');
      expect(await f.holdsAll('node1')).toBe(true);
      expect(await f.holdsNothing('node2')).toBe(true);
      expect(await f.checksum('node1')).toBe(sum);
    });
  }, 180_000);

  itWithTools(ORIGINAL_TOOLS, 'our node1 crashes -> the original node2 runs the group with its data; our node1 back -> the original gives it back; heartbeat -k on ours hands it to the original', async () => {
    await withCluster({ autoFailback: 'on', node1: 'ours', node2: 'original' }, async (f) => {
      const [, s1] = await Promise.all([f.start('node2'), f.start('node1')]);
      await f.waitForService('node1', 'start', 60_000);
      await f.waitForRscstatus('node1', 'local', 20_000);
      const sum = await expectNode1HoldsAndWritePayload(f);

      await f.pastStartupDeadtime(s1, KEEPALIVE_MS);
      // The original checks for dead nodes once a second and runs its stock
      // OCF-wrapped scripts: its own timing, not ours (heartbeat-live.md §3.4).
      const took = await crashNode1AndExpectTakeover(f, sum, DEADTIME_MS + 5000);
      expect(took).toBeGreaterThanOrEqual(DEADTIME_MS);

      const restarted = await restartNode1AndExpectFailback(f, sum);
      await f.waitForRscstatus('node1', 'local', 10_000);
      // Graceful stop of our holder: the original takes the group over in order.
      await f.pastStartupDeadtime(restarted, KEEPALIVE_MS);
      await gracefulStopHandsOver(f, 'node1', 'node2', sum);
    });
  }, 180_000);
});
