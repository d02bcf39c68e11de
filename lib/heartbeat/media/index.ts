/** The heartbeat media layer: one Medium interface; ucast, bcast, mcast, serial and an in-memory mock. */
export * from './bcast.js';
export * from './errors.js';
export * from './interfaces.js';
export * from './limits.js';
export * from './mcast.js';
export * from './mcast6.js';
export * from './ipv6.js';
export * from './medium.js';
export * from './memory.js';
export * from './open.js';
export * from './paced-writer.js';
export * from './serial.js';
export * from './serial-frame.js';
export * from './serial-framer.js';
export * from './stty.js';
export * from './ucast.js';
export * from './ucast6.js';
export { UdpMedium } from './udp-medium.js';
