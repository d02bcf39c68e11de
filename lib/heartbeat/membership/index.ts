export { MembershipMachine } from './machine.js';
export { checkMembershipConfig } from './timing.js';
export * from './types.js';
