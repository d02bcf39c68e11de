/** One entry point for the daemon: a medium from its ha.cf description. */
import type { AuthKey } from '../wire/index.js';
import { openBcast } from './bcast.js';
import { openMcast } from './mcast.js';
import { openMcast6 } from './mcast6.js';
import { openUcast6 } from './ucast6.js';
import type { Medium } from './medium.js';
import { openSerial } from './serial.js';
import { openUcast } from './ucast.js';

export type MediumSpec =
  | { readonly kind: 'ucast'; readonly interface: string; readonly peer: string }
  | { readonly kind: 'bcast'; readonly interface: string }
  | { readonly kind: 'mcast'; readonly interface: string; readonly group: string; readonly port: number; readonly ttl: number; readonly loop: boolean }
  | { readonly kind: 'ucast6'; readonly interface: string; readonly peer: string }
  | { readonly kind: 'mcast6'; readonly interface: string; readonly group: string; readonly port: number; readonly hops: number; readonly loop: boolean }
  | { readonly kind: 'serial'; readonly device: string };

export interface MediaSettings {
  /** ha.cf `udpport` (ucast, bcast). */
  readonly udpPort?: number;
  /** ha.cf `baud` (serial). */
  readonly baud?: number;
  /** The active authkeys key, for re-signing serial frames. */
  readonly key?: AuthKey;
  /** Serial: reopen a lost device (see SerialOptions.reopen). */
  readonly serialReopen?: { readonly firstMs?: number; readonly maxMs?: number };
}

export function openMedium(spec: MediumSpec, settings: MediaSettings = {}): Promise<Medium> {
  switch (spec.kind) {
    case 'ucast':
      return openUcast({ interface: spec.interface, peer: spec.peer, port: settings.udpPort });
    case 'bcast':
      return openBcast({ interface: spec.interface, port: settings.udpPort });
    case 'mcast':
      return openMcast(spec);
    case 'ucast6':
      return openUcast6({ interface: spec.interface, peer: spec.peer, port: settings.udpPort });
    case 'mcast6':
      return openMcast6(spec);
    case 'serial':
      return openSerial({ device: spec.device, baud: settings.baud, key: settings.key, ...(settings.serialReopen !== undefined ? { reopen: settings.serialReopen } : {}) });
  }
}

/** Opens every medium, or none: if one fails, those already open are closed and the error is thrown. */
export async function openMedia(specs: readonly MediumSpec[], settings: MediaSettings = {}): Promise<Medium[]> {
  const open: Medium[] = [];
  try {
    for (const spec of specs) open.push(await openMedium(spec, settings));
  } catch (e) {
    await Promise.all(open.map((m) => m.close()));
    throw e;
  }
  return open;
}
