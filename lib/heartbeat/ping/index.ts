export * from './output.js';
export * from './pinger.js';
