import { LdirCode } from './codes.js';
import type { ForwardMethod } from './model.js';
import { q, type LdirDiagnostics } from './values.js';

/** A `real=` line before name resolution. */
export interface RealDraft {
  readonly line: number;
  readonly host: string;
  /** Last host of an `A->B` range. */
  readonly rangeEnd?: string;
  /** Port or service name as written; undefined means port 0. */
  readonly port?: string;
  readonly forward: ForwardMethod;
  readonly weight: number;
  readonly request?: string;
  readonly receive?: string;
  readonly lowerThreshold: number;
  readonly upperThreshold: number;
}

const HOST = String.raw`\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+`;
const ADDRESS_PART = new RegExp(String.raw`^(${HOST})(?:->(${HOST}))?(?::([A-Za-z0-9_-]+))?(?=\s|$)`);
export const FORWARD_METHODS: readonly ForwardMethod[] = ['gate', 'masq', 'ipip'];

/**
 * `HOST[->HOST2][:PORT] gate|masq|ipip [WEIGHT] ["REQUEST", "RECEIVE"] [l:N] [u:N]`
 * (spec §2.4), read left to right; anything left over is an error naming it.
 */
export function parseReal(d: LdirDiagnostics, line: number, value: string): RealDraft | undefined {
  const addr = ADDRESS_PART.exec(value);
  if (!addr) {
    return d.error(line, LdirCode.BAD_REAL, `invalid address for real server ${q(value.split(/\s/)[0] ?? '')} (expected HOST[->HOST][:PORT])`, value.split(/\s/)[0]);
  }
  let rest = value.slice(addr[0].length);
  const fwd = /^\s+(\w+)/.exec(rest);
  if (!fwd) {
    const tok = rest.trim().split(/\s/)[0] ?? '';
    return d.error(line, LdirCode.BAD_FORWARD, `forward method must be gate, masq or ipip${tok ? `, not ${q(tok)}` : ' (missing)'}`, tok);
  }
  const forward = fwd[1]!;
  if (!(FORWARD_METHODS as readonly string[]).includes(forward)) {
    return d.error(line, LdirCode.BAD_FORWARD, `forward method must be gate, masq or ipip, not ${q(forward)}`, forward);
  }
  rest = rest.slice(fwd[0].length);
  let weight = 1;
  const w = /^\s+(\d+)(?=\s|$)/.exec(rest);
  if (w) {
    weight = Number(w[1]);
    rest = rest.slice(w[0].length);
  }
  let request: string | undefined;
  let receive: string | undefined;
  const rr = /^\s+"([^"]*)"(?:\s*,\s*|\s+)"([^"]*)"(?=\s|$)/.exec(rest);
  if (rr) {
    request = rr[1]!.startsWith('/') ? rr[1]! : '/' + rr[1]!;
    receive = rr[2]!;
    rest = rest.slice(rr[0].length);
  }
  let lowerThreshold = 0;
  let upperThreshold = 0;
  for (;;) {
    const t = /^\s+([lu]):(\d+)(?=\s|$)/.exec(rest);
    if (!t) break;
    if (t[1] === 'l') lowerThreshold = Number(t[2]);
    else upperThreshold = Number(t[2]);
    rest = rest.slice(t[0].length);
  }
  if (rest.trim() !== '') {
    const around = rest.trim();
    return d.error(line, LdirCode.BAD_REAL, `Invalid real server line, around ${q(around)}`, around);
  }
  return {
    line,
    host: addr[1]!,
    ...(addr[2] !== undefined ? { rangeEnd: addr[2] } : {}),
    ...(addr[3] !== undefined ? { port: addr[3] } : {}),
    forward: forward as ForwardMethod,
    weight,
    ...(request !== undefined ? { request, receive: receive! } : {}),
    lowerThreshold,
    upperThreshold,
  };
}
