export * from './policy.js';
export * from './supervisor.js';
