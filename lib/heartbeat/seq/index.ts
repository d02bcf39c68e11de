/** Retransmission and ACK bookkeeping around the sequence rules: pure, time injected. */
export * from './ack-policy.js';
export * from './messages.js';
export * from './rexmit-requests.js';
export * from './xmit-history.js';
