/**
 * What the built-in devices (null, ssh, meatware) share: one parameter,
 * `hostlist`, naming the hosts the device can reset; configured once it has
 * at least one.
 */
import { hostList } from './params.js';
import { S, type ResetRequest, type StonithDevice, type StonithEnvironment, type StonithRc } from './types.js';

export abstract class HostListDevice implements StonithDevice {
  abstract readonly type: string;
  abstract readonly deviceId: string;
  protected list: string[] | undefined;

  /** `emptyListRc`: what an empty host list is (cluster-glue's null says BADCONFIG, ssh and meatware OOPS). */
  constructor(protected readonly env: StonithEnvironment, private readonly emptyListRc: StonithRc = S.OOPS) {}

  get configured(): boolean {
    return this.list !== undefined;
  }
  configNames(): Promise<readonly string[]> {
    return Promise.resolve(['hostlist']);
  }
  configure(params: ReadonlyMap<string, string>): Promise<StonithRc> {
    const hosts = hostList(params.get('hostlist') ?? '');
    if (hosts.length === 0) return Promise.resolve(this.emptyListRc);
    this.list = hosts;
    return Promise.resolve(S.OK);
  }
  hosts(): Promise<readonly string[] | undefined> {
    return Promise.resolve(this.list);
  }
  status(): Promise<StonithRc> {
    return Promise.resolve(this.configured ? S.OK : S.OOPS);
  }
  abstract reset(host: string, request?: ResetRequest): Promise<StonithRc>;
}
