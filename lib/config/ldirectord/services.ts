import type { CheckService } from './model.js';

/** ld_port_to_service: the check service a virtual's port implies (spec §3). */
const BY_PORT: ReadonlyMap<number, CheckService> = new Map<number, CheckService>([
  [21, 'ftp'], [25, 'smtp'], [53, 'dns'], [80, 'http'], [110, 'pop'], [119, 'nntp'], [143, 'imap'],
  [389, 'ldap'], [443, 'https'], [587, 'submission'], [636, 'ldaps'], [993, 'imaps'], [995, 'pops'],
  [1521, 'oracle'], [1812, 'radius'], [3128, 'http_proxy'], [3306, 'mysql'], [5060, 'sip'], [5432, 'pgsql'],
]);

export function portToService(port: number): CheckService {
  return BY_PORT.get(port) ?? 'none';
}

/** ld_service_to_port: the well-known port a check uses when the real has port 0 and no checkport. */
export function serviceToPort(service: CheckService): number | undefined {
  for (const [port, s] of BY_PORT) if (s === service) return port;
  return undefined;
}
