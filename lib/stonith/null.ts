/**
 * `null`: a device that resets nothing and always succeeds, for testing
 * (cluster-glue's "Dummy (do-nothing) STONITH device FOR TESTING ONLY!").
 * Parameter: hostlist.
 */
import { HostListDevice } from './host-list-device.js';
import { S, type StonithEnvironment, type StonithRc } from './types.js';

export class NullDevice extends HostListDevice {
  readonly type = 'null';
  readonly deviceId = 'NULL STONITH device';
  constructor(env: StonithEnvironment) {
    super(env, S.BADCONFIG);
  }
  reset(host: string): Promise<StonithRc> {
    if (!this.configured) return Promise.resolve(S.OOPS);
    this.env.log('info', `Host null-reset: ${host}`);
    return Promise.resolve(S.OK);
  }
}
