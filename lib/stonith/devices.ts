/**
 * Device types by name, the type listing (`stonith -L`), and configuring a
 * device from Heartbeat-1 positional parameters or name=value pairs.
 */
import { ExternalDevice, listExternalPlugins } from './external.js';
import { MeatwareDevice } from './meatware.js';
import { NullDevice } from './null.js';
import { BUILTIN_TYPES, externalName, positionalParams } from './params.js';
import { SshDevice } from './ssh.js';
import { S, type StonithDevice, type StonithEnvironment, type StonithRc } from './types.js';

/** A new, unconfigured device of `type`; undefined for a type we do not have. */
export function createDevice(type: string, env: StonithEnvironment): StonithDevice | undefined {
  switch (type) {
    case 'null':
      return new NullDevice(env);
    case 'ssh':
      return new SshDevice(env);
    case 'meatware':
      return new MeatwareDevice(env);
  }
  const name = externalName(type);
  return name !== undefined ? new ExternalDevice(name, env) : undefined;
}

/** Every type this installation offers: the built-ins and `external/NAME` for each plugin program. */
export function listTypes(env: Pick<StonithEnvironment, 'externalDirs'>): string[] {
  return [...listExternalPlugins(env.externalDirs).map((n) => `external/${n}`), ...BUILTIN_TYPES].sort();
}

/** Configures from positional values (a `stonith_host` tail, a config file's line, `stonith -p`). */
export async function configurePositional(d: StonithDevice, text: string): Promise<StonithRc> {
  const names = await d.configNames();
  if (names === undefined) return S.BADCONFIG;
  const params = positionalParams(names, text);
  if (params === undefined) return S.BADCONFIG;
  return d.configure(params);
}

/** Stops whatever the device is waiting for (meatware's operator). */
export function cancelDevice(d: StonithDevice): void {
  if (d instanceof MeatwareDevice) d.cancel();
}
