import { createRequire } from 'node:module';
import type pinoModule from 'pino';

type Pino = typeof pinoModule;

let loaded: Pino | undefined;

/**
 * pino, loaded on first use: short commands (cl_status, drbdadm role) that
 * only import formatters or pid-file helpers must not pay for it at start-up.
 */
export function loadPino(): Pino {
  loaded ??= createRequire(import.meta.url)('pino') as Pino;
  return loaded;
}

export type SonicBoom = ReturnType<Pino['destination']>;
