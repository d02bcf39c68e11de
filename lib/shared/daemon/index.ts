export * from './pidfile.js';
export * from './daemonize.js';
export * from './signals.js';
export * from './control.js';
