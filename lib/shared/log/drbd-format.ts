/**
 * Kernel-style DRBD messages, for our drbd daemon's own log, so that
 * `grep 'block drbd0: conn('` keeps working (drbd-spec §3.4).
 */

/** 8.x device messages: `block drbd0: `. */
export function drbdDevicePrefix(minor: number): string {
  return `block drbd${minor}: `;
}

/** 8.4 connection-wide messages: `d-con r0: `. */
export function drbdConnectionPrefix(resource: string): string {
  return `d-con ${resource}: `;
}

/** 9 connection messages: `drbd r0 hadb02: `; device messages: `drbd r0/0 drbd1 hadb02: `. */
export function drbd9Prefix(resource: string, peer?: string, device?: { volume: number; minor: number }): string {
  const dev = device === undefined ? resource : `${resource}/${device.volume} drbd${device.minor}`;
  return peer === undefined ? `drbd ${dev}: ` : `drbd ${dev} ${peer}: `;
}

export type DrbdStateField = 'role' | 'peer' | 'conn' | 'disk' | 'pdsk' | 'susp' | 'aftr_isp' | 'peer_isp' | 'user_isp' | 'repl';

/** 8.x prints a state change's fields in this order. */
export const DRBD8_STATE_ORDER: readonly DrbdStateField[] = ['role', 'peer', 'conn', 'disk', 'pdsk', 'susp', 'aftr_isp', 'peer_isp', 'user_isp'];
/** 9 splits state per connection (`conn`, `peer`) and per peer device (`pdsk`, `repl`), conn before peer. */
export const DRBD9_STATE_ORDER: readonly DrbdStateField[] = ['role', 'susp', 'disk', 'conn', 'peer', 'pdsk', 'repl'];

export type DrbdStateChange = Partial<Record<DrbdStateField, readonly [from: string, to: string]>>;

/** `peer( Unknown -> Secondary ) conn( WFReportParams -> Connected )`; unchanged fields are left out. */
export function drbdStateChangeText(change: DrbdStateChange, order: readonly DrbdStateField[] = DRBD8_STATE_ORDER): string {
  const parts: string[] = [];
  for (const f of order) {
    const c = change[f];
    if (c !== undefined && c[0] !== c[1]) parts.push(`${f}( ${c[0]} -> ${c[1]} )`);
  }
  return parts.join(' ');
}
