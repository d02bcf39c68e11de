import type { IpvsCommand } from '../ipvs/command.js';
import type { IpvsTable } from '../ipvs/model.js';

/** Where the director's table lives: the kernel through ipvsadm, or our own user-space balancer. */
export interface IpvsBackend {
  readonly name: 'ipvsadm' | 'userspace';
  read(): Promise<IpvsTable>;
  /** Performs one command; a refusal is returned as its message (the original logs it and goes on). */
  apply(command: IpvsCommand): Promise<string | undefined>;
  close(): Promise<void>;
}
