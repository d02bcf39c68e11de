/**
 * `ssh`: resets a host by logging in over ssh and rebooting it, then pings
 * it until it stops answering. FOR TESTING ONLY, as cluster-glue's own says:
 * a hung or partitioned host is exactly the one ssh cannot reach, so it does
 * not protect shared data. Parameter: hostlist.
 */
import { listsHost } from './params.js';
import { runProgram } from './run.js';
import { HostListDevice } from './host-list-device.js';
import { S, type ResetRequest, type StonithRc } from './types.js';

/** The original's login (`ssh -q -x -n -l root`). */
export const SSH_COMMAND = ['ssh', '-q', '-x', '-n', '-l', 'root'];
/** Detached from the ssh session so the login returns before the host goes down. */
export const SSH_REBOOT_COMMAND = "setsid sh -c 'sleep 2; reboot -nf' </dev/null >/dev/null 2>&1 &";
export const SSH_POWEROFF_COMMAND = "setsid sh -c 'sleep 2; poweroff -nf' </dev/null >/dev/null 2>&1 &";
const PING_TRIES = 15;

export class SshDevice extends HostListDevice {
  readonly type = 'ssh';
  readonly deviceId = 'SSH STONITH device';

  async reset(host: string, request: ResetRequest = 'reset'): Promise<StonithRc> {
    const log = this.env.log;
    if (this.list === undefined) return S.OOPS;
    if (request === 'on') {
      log('CRIT', 'SSH STONITH device not capable of power-on operation');
      return S.INVAL;
    }
    if (!listsHost(this.list, host)) {
      log('CRIT', `SSH STONITH device doesn't control host [${host}]`);
      return S.BADHOST;
    }
    log('info', `Initiating ssh-${request === 'off' ? 'poweroff' : 'reset'} on host: ${host}`);
    const [cmd, ...args] = this.env.sshCommand ?? SSH_COMMAND;
    const remote = request === 'off' ? SSH_POWEROFF_COMMAND : (this.env.sshRebootCommand ?? SSH_REBOOT_COMMAND);
    const r = await runProgram(cmd!, [...args, host, remote], { env: this.env.env, timeoutMs: this.env.timeoutMs, onStderr: (l) => log('info', `ssh: ${l}`) });
    if (r.code !== 0) {
      log('CRIT', `command ${[cmd, ...args, host].join(' ')} failed${r.timedOut ? ' (timed out)' : ''}`);
      return S.RESETFAIL;
    }
    const tries = this.env.sshPingTries ?? PING_TRIES;
    for (let i = 0; i < tries; i++) {
      const p = await runProgram('ping', ['-w1', '-c1', host], { env: this.env.env, timeoutMs: 5_000 });
      if (p.code !== 0) {
        log('debug', `unable to ping ${host} after ${i} tries, stonith did work`);
        return S.OK;
      }
      await new Promise((res) => setTimeout(res, 1000)); // the original's 1 s between pings
    }
    log('CRIT', `still able to ping ${host} after ${tries} tries, stonith did not work`);
    return S.RESETFAIL;
  }
}
