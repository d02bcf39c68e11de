import { LdirCode } from './codes.js';
import type { ForwardMethod } from './model.js';
import { FORWARD_METHODS } from './real.js';
import { q, type LdirDiagnostics } from './values.js';

export interface FallbackDraft {
  readonly line: number;
  /** Host as written, without IPv6 brackets. */
  readonly host: string;
  readonly port?: string;
  readonly forward: ForwardMethod;
}

/** `host[:port] [gate|masq|ipip]` (spec §2.1); IPv6 hosts in brackets. The forward method defaults to gate. */
export function parseFallback(d: LdirDiagnostics, line: number, value: string): FallbackDraft | undefined {
  const parts = value.trim().split(/\s+/).filter((s) => s !== '');
  // An empty host (`fallback=` or `fallback=:80`) is what getaddrinfo(NULL) makes of it in ldirectord: loopback.
  if (parts.length === 0) parts.push('');
  if (parts.length > 2) {
    return d.error(line, LdirCode.BAD_FALLBACK, `invalid fallback server ${q(value)}: expected HOST[:PORT] [gate|masq|ipip]`, value);
  }
  const [hostPort, fwd] = parts as [string, string | undefined];
  if (fwd !== undefined && !(FORWARD_METHODS as readonly string[]).includes(fwd)) {
    return d.error(line, LdirCode.BAD_FORWARD, `forward method must be gate, masq or ipip, not ${q(fwd)}`, fwd);
  }
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]*))(?::([A-Za-z0-9_-]+))?$/.exec(hostPort);
  if (!m) return d.error(line, LdirCode.BAD_FALLBACK, `invalid fallback server ${q(hostPort)}`, hostPort);
  return {
    line,
    host: m[1] ?? m[2]!,
    ...(m[3] !== undefined ? { port: m[3] } : {}),
    forward: (fwd ?? 'gate') as ForwardMethod,
  };
}
