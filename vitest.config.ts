import { defineConfig } from 'vitest/config';

/**
 * Two groups. `unit`: parsers, codecs, state machines and short real-process
 * tests, in parallel. `cluster`: the tests that time real daemons in network
 * namespaces (deadtime + 0.3 s, takeover within deadtime + 1 s, replayed
 * scenarios with timed steps); they run after `unit`, two at a time, so the
 * machine's load does not eat into their bounds.
 */
const CLUSTER = [
  'test/heartbeat/daemon-*.test.ts',
  'test/heartbeat/media-interop.test.ts',
  'test/demo/**/*.test.ts',
  'test/ldirectord/golden-replay.test.ts',
  'test/ldirectord/userspace.test.ts',
  'test/replication/drbd-*.test.ts',
  'test/replication/protocol/netns.test.ts',
  'test/install/**/*.test.ts',
];

export default defineConfig({
  test: {
    // The JSON report is what .ci/run reads for its closing `tests:` line.
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: CLUSTER, maxWorkers: 2, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'cluster', include: CLUSTER, maxWorkers: 2, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
