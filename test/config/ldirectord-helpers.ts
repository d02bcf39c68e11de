import { parseLdirectordConfig, staticResolver, type LdirectordParseResult } from '../../lib/config/ldirectord/index.js';
import { ConfigError } from '../../lib/shared/errors.js';

/** Fixed lookups for tests: no DNS, no getent, no /etc/services of this machine. */
export const testResolver = staticResolver({
  localhost: { ipv4: '127.0.0.1', ipv6: '::1' },
  'web1.example': { ipv4: '192.0.2.11' },
  'web2.example': { ipv4: '192.0.2.19' },
  'v6only.example': { ipv6: '2001:db8::10' },
});

export function parse(text: string | Uint8Array, file = 'test.cf', extra: { isDirectory?: (p: string) => boolean; hostname?: string } = {}): LdirectordParseResult {
  return parseLdirectordConfig(text, { file, resolver: testResolver, hostname: 'director', ...extra });
}

/** Parses and returns the ConfigError; fails the test when the text is accepted or something else is thrown. */
export function parseError(text: string | Uint8Array, file = 'test.cf'): ConfigError {
  try {
    parse(text, file);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`expected a ConfigError for:\n${String(text)}`);
}

/** A minimal valid virtual block to hang a directive on. */
export const vblock = (...lines: string[]): string => ['virtual=192.0.2.1:80', '\treal=192.0.2.2:80 gate', ...lines.map((l) => `\t${l}`)].join('\n') + '\n';
