import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { builtinServices, lookupService, parseEtcServices, type LdirectordResolver, type ServicesTable } from '../config/ldirectord/index.js';

/**
 * The I/O side of name lookups for the ldirectord.cf parser: host names through
 * the system's NSS (`getent`, so /etc/hosts and DNS are consulted as
 * getaddrinfo would), service names from /etc/services, or a built-in table on
 * machines that have none.
 */
export function systemResolver(servicesFile = '/etc/services'): LdirectordResolver {
  let services: ServicesTable | undefined;
  const hosts = new Map<string, string | undefined>();
  return {
    host(name, family) {
      const key = `${family} ${name}`;
      if (!hosts.has(key)) hosts.set(key, getentHost(name, family));
      return hosts.get(key);
    },
    service(name, protocol) {
      services ??= readServices(servicesFile);
      return lookupService(services, name, protocol);
    },
  };
}

function readServices(file: string): ServicesTable {
  try {
    return parseEtcServices(fs.readFileSync(file, 'latin1'));
  } catch {
    return builtinServices;
  }
}

function getentHost(name: string, family: 'ipv4' | 'ipv6'): string | undefined {
  // Names only: the parser resolves literals itself, and a leading '-' must not reach getent as an option.
  if (!/^[A-Za-z0-9._+-]+$/.test(name) || name.startsWith('-')) return undefined;
  try {
    const out = execFileSync('getent', [family === 'ipv4' ? 'ahostsv4' : 'ahostsv6', name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    });
    for (const line of out.split('\n')) {
      const addr = line.split(/\s+/)[0];
      // ahostsv6 maps IPv4-only hosts to ::ffff:a.b.c.d; getaddrinfo(AF_INET6) in ldirectord does not.
      if (addr && !(family === 'ipv6' && addr.toLowerCase().startsWith('::ffff:'))) return addr;
    }
    return undefined;
  } catch {
    return undefined;
  }
}

export function isDirectory(path: string): boolean {
  try {
    return fs.statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function isRegularFile(path: string): boolean {
  try {
    return fs.statSync(path).isFile();
  } catch {
    return false;
  }
}
