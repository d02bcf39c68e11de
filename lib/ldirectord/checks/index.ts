/**
 * Runs one check of a real: which probe a checktype and service mean (spec
 * §4, §5). `combined` (checktype=N) alternates connect and negotiate: the
 * scheduler tracks the rounds and passes the kind for this one.
 */
import type { CheckService } from '../../config/ldirectord/model.js';
import { serviceToPort } from '../../config/ldirectord/index.js';
import { connectCheck } from './connect.js';
import { externalCheck } from './external.js';
import { dnsCheck } from './dns.js';
import { ftpCheck } from './ftp.js';
import { httpCheck } from './http.js';
import { ldapCheck } from './ldap.js';
import { nntpCheck, simpleTcpCheck, smtpCheck } from './line-services.js';
import { imapCheck, popCheck } from './mail.js';
import { pingCheck } from './ping.js';
import { radiusCheck } from './radius.js';
import { sipCheck } from './sip.js';
import { mysqlCheck, oracleCheck, pgsqlCheck } from './sql.js';
import { down, up, type CheckContext, type CheckFn, type CheckOutcome } from './types.js';

export type ProbeKind = 'connect' | 'negotiate' | 'ping' | 'external' | 'external-perl';

/** Negotiate checks by service (every service of the original; oracle reports down, see sql.ts). */
export const NEGOTIATE: Partial<Record<CheckService, CheckFn>> = {
  http: httpCheck,
  https: httpCheck,
  http_proxy: httpCheck,
  simpletcp: simpleTcpCheck,
  nntp: nntpCheck,
  smtp: smtpCheck,
  submission: smtpCheck,
  ftp: ftpCheck,
  pop: popCheck,
  pops: popCheck,
  imap: imapCheck,
  imaps: imapCheck,
  ldap: ldapCheck,
  ldaps: ldapCheck,
  dns: dnsCheck,
  mysql: mysqlCheck,
  pgsql: pgsqlCheck,
  oracle: oracleCheck,
  radius: radiusCheck,
  sip: sipCheck,
  none: () => Promise.resolve(up('service none')),
};

export function runProbe(kind: ProbeKind, c: CheckContext): Promise<CheckOutcome> {
  switch (kind) {
    case 'connect':
      // A connect check on a UDP service is a ping (spec §4.3).
      return c.virtual.protocol === 'udp' ? pingCheck(c) : connectCheck(c);
    case 'ping':
      return pingCheck(c);
    case 'external':
      return externalCheck(c);
    case 'external-perl':
      return externalCheck(c, true);
    case 'negotiate': {
      const fn = NEGOTIATE[c.virtual.service];
      return fn ? fn(c) : Promise.resolve(down(`service=${c.virtual.service}: negotiate check not available`));
    }
  }
}

/** checkport=, else the real's port, else the service's well-known port (spec §5). */
export function checkPort(c: Pick<CheckContext, 'virtual' | 'real'>): number {
  if (c.virtual.checkPort !== undefined) return c.virtual.checkPort;
  if (c.real.port !== 0) return c.real.port;
  return serviceToPort(c.virtual.service) ?? 0;
}

export type { CheckContext, CheckOutcome } from './types.js';
