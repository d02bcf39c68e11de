/**
 * service=http/https/http_proxy negotiate checks (spec §5): `<method>
 * http(s)://RIP:port/<request>` with Host = virtualhost or the real's
 * address, redirects followed (GET/HEAD, at most 7 like LWP), the whole
 * exchange bounded by negotiatetimeout. Up iff the final status is 2xx and
 * the body matches `receive`. HTTPS verifies no certificate, as the original.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { receiveMatcher } from './regex.js';
import { down, up, withTimeout, type CheckContext, type CheckOutcome } from './types.js';

const MAX_REDIRECTS = 7;
const MAX_BODY = 1 << 20;

interface Response {
  status: number;
  location?: string;
  body: string;
}

function fetchOnce(url: URL, method: string, hostHeader: string | undefined, signal: AbortSignal, proxy?: { host: string; port: number }): Promise<Response> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const lib = secure && !proxy ? https : http;
    const headers: Record<string, string> = { 'User-Agent': 'libwww-perl/6.68 (ldirectord heartbeat-ts)', Connection: 'close' };
    if (hostHeader !== undefined) headers.Host = hostHeader;
    const req = lib.request(
      proxy
        ? { host: proxy.host, port: proxy.port, method, path: url.href, headers, signal }
        : { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, method, path: url.pathname + url.search, headers, signal, ...(secure ? { rejectUnauthorized: false } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          size += d.length;
          if (size <= MAX_BODY) chunks.push(d);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: res.headers.location } : {}), body: Buffer.concat(chunks).toString('latin1') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export function httpUrl(c: CheckContext): URL {
  const scheme = c.virtual.service === 'https' ? 'https' : 'http';
  const request = c.real.request;
  // A per-real request that is a full URL is used as it is (spec §2.4).
  if (/^[a-z]+:\/\//i.test(request.slice(1))) return new URL(request.slice(1));
  const host = c.real.address.includes(':') ? `[${c.real.address}]` : c.real.address;
  return new URL(`${scheme}://${host}:${c.port}/${request.replace(/^\//, '')}`);
}

export function httpCheck(c: CheckContext): Promise<CheckOutcome> {
  const v = c.virtual;
  const matches = receiveMatcher(c.real.receive);
  return withTimeout(c, async (signal) => {
    if (v.service === 'http_proxy') {
      const target = new URL(c.real.request.replace(/^\//, ''));
      const r = await fetchOnce(target, v.httpMethod, undefined, signal, { host: c.real.address, port: c.port });
      return r.status >= 200 && r.status < 300 && matches(r.body) ? up(`${r.status}`) : down(`${r.status} from proxy`);
    }
    let url = httpUrl(c);
    let hostHeader: string | undefined = v.virtualHost ?? (c.real.address.includes(':') ? `[${c.real.address}]` : c.real.address);
    for (let hop = 0; ; hop++) {
      const r = await fetchOnce(url, v.httpMethod, hostHeader, signal);
      if (r.status >= 300 && r.status < 400 && r.location !== undefined && hop < MAX_REDIRECTS) {
        const next = new URL(r.location, url);
        if (next.host !== url.host) hostHeader = undefined;
        url = next;
        continue;
      }
      if (r.status < 200 || r.status >= 300) return down(`${r.status}`);
      return matches(r.body) ? up(`${r.status}`) : down(`${r.status}, body does not match receive`);
    }
  }, '500 Timeout Alarm');
}
