/**
 * `null`: a device that resets nothing and always succeeds, for testing
 * (cluster-glue's "Dummy (do-nothing) STONITH device FOR TESTING ONLY!").
 * Parameter: hostlist.
 */
import { hostList } from './params.js';
import { S, type StonithDevice, type StonithEnvironment, type StonithRc } from './types.js';

export class NullDevice implements StonithDevice {
  readonly type = 'null';
  readonly deviceId = 'NULL STONITH device';
  private list: string[] | undefined;
  constructor(private readonly env: StonithEnvironment) {}

  get configured(): boolean {
    return this.list !== undefined;
  }
  configNames(): Promise<readonly string[]> {
    return Promise.resolve(['hostlist']);
  }
  configure(params: ReadonlyMap<string, string>): Promise<StonithRc> {
    const hosts = hostList(params.get('hostlist') ?? '');
    if (hosts.length === 0) return Promise.resolve(S.BADCONFIG);
    this.list = hosts;
    return Promise.resolve(S.OK);
  }
  hosts(): Promise<readonly string[] | undefined> {
    return Promise.resolve(this.list);
  }
  status(): Promise<StonithRc> {
    return Promise.resolve(this.configured ? S.OK : S.OOPS);
  }
  reset(host: string): Promise<StonithRc> {
    if (!this.configured) return Promise.resolve(S.OOPS);
    this.env.log('info', `Host null-reset: ${host}`);
    return Promise.resolve(S.OK);
  }
}
