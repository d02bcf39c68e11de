/**
 * Which backend holds the table (`backend=` in ldirectord.cf, ours): auto
 * takes the kernel through ipvsadm when `ipvsadm -L -n` works, otherwise the
 * built-in user-space balancer.
 */
import type { LdirectordConfig } from '../../config/ldirectord/model.js';
import type { Logger } from '../../shared/log/index.js';
import { IpvsadmBackend, ipvsadmProgram } from '../backend/ipvsadm.js';
import { MemoryBackend } from '../backend/memory.js';
import { UserspaceBalancer } from '../balancer/balancer.js';
import type { IpvsBackend } from '../backend/types.js';
import type { DirectorDaemon } from './director-daemon.js';

export interface ChosenBackend {
  readonly backend: IpvsBackend;
  /** Called once the director has started (the user-space balancer opens its listeners then). */
  readonly started?: (d: DirectorDaemon) => Promise<void>;
  readonly stopped?: () => Promise<void>;
}

export async function chooseBackend(config: LdirectordConfig, log: Logger): Promise<ChosenBackend> {
  const want = config.globals.backend;
  const program = ipvsadmProgram();
  if (want === 'ipvsadm') return { backend: new IpvsadmBackend(program) };
  const listing = want === 'auto' ? await IpvsadmBackend.available(program) : undefined;
  if (listing !== undefined) {
    const backend = new IpvsadmBackend(program);
    backend.prime(listing);
    return { backend };
  }
  log.info(`Using the user-space balancer${want === 'auto' ? ` (${program} -L -n failed: no IPVS in this kernel)` : ''}`);
  const backend = new MemoryBackend();
  const balancer = new UserspaceBalancer(backend, log);
  return {
    backend,
    started: async () => balancer.start(),
    stopped: () => balancer.stop(),
  };
}
