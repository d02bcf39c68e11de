import { describe, expect, it } from 'vitest';
import { parseDrbdConfig } from '../../../lib/config/drbd/index.js';
import { memoryConfigFs } from '../../../lib/shared/fs.js';
import { machineConfigFromDrbd } from '../../../lib/replication/protocol/config.js';
import { ReplError } from '../../../lib/replication/protocol/errors.js';
import { checkMachineConfig } from '../../../lib/replication/protocol/machine.js';
import { testConfig } from './harness.js';

const conf = (body: string): string => `resource r0 {
  ${body}
  on alpha { device /dev/drbd0; disk /tmp/a.img; address 10.0.0.1:7789; meta-disk internal; }
  on bravo { device /dev/drbd0; disk /tmp/b.img; address 10.0.0.2:7789; meta-disk internal; }
}
`;

function fromConf(body: string, node = 'alpha') {
  const c = parseDrbdConfig(memoryConfigFs({ '/etc/drbd.conf': conf(body) }), '/etc/drbd.conf');
  return machineConfigFromDrbd(c, c.resources[0]!, { node, minor: 0, sizeBytes: 1 << 20 });
}

describe('machine configuration from drbd.conf', () => {
  it('takes the 8.4 defaults', () => {
    const m = fromConf('');
    expect(m).toMatchObject({
      protocol: 'C',
      timeoutMs: 6000,
      connectIntMs: 10_000,
      pingIntMs: 10_000,
      pingTimeoutMs: 500,
      koCount: 7,
      maxBuffers: 2048,
      resyncRateBytesPerSec: 250 * 1024,
      afterSb0: 'disconnect',
      logPrefix: 'block drbd0: ',
    });
    expect(m.cramHmacAlg).toBeUndefined();
  });
  it('reads net and disk options in their units, 8.3 syncer rate included', () => {
    const m = fromConf(`protocol A;
  net { timeout 30; ping-timeout 10; ko-count 3; cram-hmac-alg sha1; shared-secret "s3cret"; data-integrity-alg crc32c; after-sb-0pri discard-node-bravo; after-sb-1pri discard-secondary; }
  syncer { rate 30M; verify-alg md5; }`);
    expect(m).toMatchObject({
      protocol: 'A',
      timeoutMs: 3000,
      pingTimeoutMs: 1000,
      koCount: 3,
      cramHmacAlg: 'sha1',
      sharedSecret: 's3cret',
      dataIntegrityAlg: 'crc32c',
      verifyAlg: 'md5',
      resyncRateBytesPerSec: 30 * 1024 * 1024,
      afterSb0: 'discard-remote',
      afterSb1: 'discard-secondary',
    });
    expect(fromConf('net { after-sb-0pri discard-node-bravo; }', 'bravo').afterSb0).toBe('discard-local');
  });
  it('refuses algorithms we do not have, with a typed error', () => {
    expect(() => fromConf('net { data-integrity-alg whirlpool; }')).toThrow(ReplError);
    expect(() => fromConf('net { cram-hmac-alg crc32c; shared-secret x; }')).toThrow(ReplError);
  });
  it('refuses a configuration the machine cannot run with, at construction', () => {
    expect(() => checkMachineConfig(testConfig('a', { resyncRateBytesPerSec: 0 }))).toThrow(/resyncRateBytesPerSec/);
    expect(() => checkMachineConfig(testConfig('a', { sizeBytes: 1000 }))).toThrow(ReplError);
    expect(() => checkMachineConfig(testConfig('a', { cramHmacAlg: 'sha1', sharedSecret: 'x'.repeat(65) }))).toThrow(/64 bytes/);
    expect(() => checkMachineConfig(testConfig('a'))).not.toThrow();
  });
});
