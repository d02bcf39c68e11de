export { MembershipMachine } from './machine.js';
export { MAX_TIME_MS, checkMembershipConfig } from './timing.js';
export * from './types.js';
