export * from './types.js';
export * from './rsc-sets.js';
export { ResourceMachine, groupCalls } from './machine.js';
export { LOG as RESOURCE_LOG } from './log-lines.js';
// The I/O side (scripts, timers) lives in './shell.js' and './runner/index.js', imported apart.
export * from './config.js';
