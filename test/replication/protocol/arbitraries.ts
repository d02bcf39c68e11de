import fc from 'fast-check';
import type { Message } from '../../../lib/replication/protocol/messages.js';
import { AFTER_SB_0PRI, AFTER_SB_1PRI, AFTER_SB_2PRI, DISK_STATES, ROLES } from '../../../lib/replication/protocol/states.js';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const sectorOff = fc.nat(1 << 30).map((n) => n * 512);
const payload = fc.integer({ min: 1, max: 4 }).chain((n) => fc.uint8Array({ minLength: n * 512, maxLength: n * 512 }));
const shortBytes = (max: number) => fc.uint8Array({ maxLength: max });
const name = fc.string({ maxLength: 40 });
const uuids = fc.record({ current: u64, bitmap: u64, history1: u64, history2: u64 });

export const arbMessage: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant('hello' as const), versionMin: fc.integer({ min: 1, max: 5 }), versionMax: fc.integer({ min: 5, max: 9 }), node: name, authAlg: name }),
  fc.record({ type: fc.constant('authChallenge' as const), challenge: fc.uint8Array({ minLength: 64, maxLength: 64 }) }),
  fc.record({ type: fc.constant('authResponse' as const), response: shortBytes(64) }),
  fc.record({
    type: fc.constant('reportParams' as const),
    protocol: fc.constantFrom('A' as const, 'B' as const, 'C' as const),
    afterSb0: fc.constantFrom(...AFTER_SB_0PRI),
    afterSb1: fc.constantFrom(...AFTER_SB_1PRI),
    afterSb2: fc.constantFrom(...AFTER_SB_2PRI),
    allowTwoPrimaries: fc.boolean(),
    dataIntegrityAlg: name,
    verifyAlg: name,
    sizeBytes: sectorOff,
    uuids,
    uuidFlags: fc.nat(0xffffffff),
    bitsSet: fc.nat(),
    role: fc.constantFrom(...ROLES),
    disk: fc.constantFrom(...DISK_STATES),
  }),
  fc.record({ type: fc.constant('state' as const), role: fc.constantFrom(...ROLES), disk: fc.constantFrom(...DISK_STATES), userPause: fc.boolean(), uuids, uuidFlags: fc.nat(0xffffffff) }),
  fc.record({ type: fc.constant('syncUuid' as const), uuids }),
  fc.record({ type: fc.constant('bitmap' as const), startBit: fc.nat(), bits: fc.nat(0xffffffff), last: fc.boolean(), rle: shortBytes(200) }),
  fc.record({ type: fc.constant('data' as const), seq: fc.nat(), offset: sectorOff, fua: fc.boolean(), digest: shortBytes(64), payload }),
  fc.record({ type: fc.constantFrom('recvAck' as const, 'writeAck' as const, 'negAck' as const), seq: fc.nat() }),
  fc.record({ type: fc.constantFrom('barrier' as const, 'barrierAck' as const), nr: fc.nat(0xffffffff) }),
  fc.record({ type: fc.constantFrom('ping' as const, 'pingAck' as const, 'resyncDone' as const, 'verifyDone' as const) }),
  fc.record({ type: fc.constantFrom('rsRequest' as const, 'rsWriteAck' as const, 'rsNegAck' as const, 'ovRequest' as const), id: fc.nat(0xffffffff), offset: sectorOff, length: fc.integer({ min: 1, max: 2048 }).map((n) => n * 512) }),
  fc.record({ type: fc.constant('rsReply' as const), id: fc.nat(0xffffffff), offset: sectorOff, digest: shortBytes(64), payload }),
  fc.record({ type: fc.constant('ovReply' as const), id: fc.nat(0xffffffff), offset: sectorOff, length: fc.integer({ min: 1, max: 2048 }).map((n) => n * 512), digest: shortBytes(64) }),
  fc.record({ type: fc.constant('startSync' as const), senderIsSource: fc.boolean(), full: fc.boolean() }),
  fc.record({ type: fc.constant('verifyStart' as const), start: fc.nat(), stop: fc.nat() }),
  fc.record({ type: fc.constant('disconnect' as const), reason: name }),
) as fc.Arbitrary<Message>;

