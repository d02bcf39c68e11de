export * from './types.js';
export * from './rsc-sets.js';
export { ResourceMachine, groupCalls } from './machine.js';
export { LOG as RESOURCE_LOG } from './log-lines.js';
