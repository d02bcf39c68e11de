/**
 * The demo's client: fetches http://ADDRESS:PORT/ every INTERVAL ms (each
 * request bounded by TIMEOUT ms) and prints one JSON line per change of
 * answer: `{"at":EPOCH_MS,"node":"node1","okBefore":EPOCH_MS}` when a node
 * answers, `{"at":EPOCH_MS,"error":"...","okBefore":EPOCH_MS}` when none
 * does; `okBefore` is when the last answer before this line came (absent
 * before the first), so an outage is `at - okBefore` of the line that ends it.
 * It exits when its parent does. In the netns mode it runs
 * inside the client namespace (`ip netns exec`), so it reaches the service IP
 * over the demo's bridge like any client on that network.
 *
 *   node dist/lib/demo/probe.js ADDRESS PORT [INTERVAL_MS] [TIMEOUT_MS]
 */
import { request } from 'node:http';

const [address, portText, intervalText, timeoutText] = process.argv.slice(2);
const port = Number(portText);
const intervalMs = Number(intervalText ?? 50);
const timeoutMs = Number(timeoutText ?? 300);
if (!address || !Number.isInteger(port) || !(intervalMs > 0) || !(timeoutMs > 0)) {
  process.stderr.write('usage: probe.js ADDRESS PORT [INTERVAL_MS] [TIMEOUT_MS]\n');
  process.exit(2);
}

function fetchOnce(): Promise<{ node?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: address, port, path: '/', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        const m = /^hello from (\S+)/.exec(body);
        resolve(m ? { node: m[1]! } : { error: `unexpected answer ${JSON.stringify(body.slice(0, 60))}` });
      });
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end();
  });
}

const parent = process.ppid;
let last = '';
let okBefore: number | undefined;
for (;;) {
  const r = await fetchOnce();
  const at = Date.now();
  const key = r.node !== undefined ? `node:${r.node}` : `error:${r.error}`;
  if (key !== last) {
    last = key;
    process.stdout.write(JSON.stringify({ at, ...r, ...(okBefore !== undefined ? { okBefore } : {}) }) + '\n');
  }
  if (r.node !== undefined) okBefore = at;
  if (process.ppid !== parent) process.exit(0);
  await new Promise((res) => setTimeout(res, intervalMs));
}
