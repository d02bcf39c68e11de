/** The heartbeat daemon shell: wiring the pure cores (wire, membership, seq) to media, timers, logs and the API. */
export * from './errors.js';
export * from './paths.js';
export * from './generation.js';
export * from './settings.js';
export * from './incoming.js';
export * from './outgoing.js';
export * from './bad-packets.js';
export * from './cluster-view.js';
export * from './runtime.js';
export * from './resources.js';
export * from './control.js';
export * from './run.js';
export * from './command.js';
export * from './node-name.js';
