export * from './types.js';
export * from './params.js';
export { createDevice, listTypes, configurePositional, cancelDevice } from './devices.js';
export { Fencer, type FenceOutcome, type FencerOptions } from './fencer.js';
export { meatwareFifo } from './meatware.js';
export { stonithEnvironment, externalDirs, meatwareDir, DEFAULT_STONITH_TIMEOUT_MS } from './environment.js';
