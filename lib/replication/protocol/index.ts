/** Our replication protocol: codec, state machine, engine and transports (docs/replication-protocol.md). */
export * from './errors.js';
export * from '../../shared/crc32c.js';
export * from './digest.js';
export * from './messages.js';
export * from './codec.js';
export * from './rle.js';
export * from './states.js';
export * from './sync-decision.js';
export * from './token-bucket.js';
export * from './ports.js';
export * from './machine.js';
export * from './overlap-queue.js';
export * from './engine.js';
export * from './memory.js';
export * from './tcp.js';
export * from './config.js';
export * from './attach.js';
