/** The local client API (the register socket cl_status and ipfail use): codec, request handler, server, client. */
export * from './errors.js';
export * from './framing.js';
export * from './handler.js';
export * from './protocol.js';
export * from './server.js';
export * from './view.js';
export { ApiConnection } from './client.js';
export { HbClient } from './hb-client.js';
export * from './parameters.js';
