/**
 * Sends one cluster message through the local heartbeat's API as a named
 * client, as the original's hb_standby / hb_takeover mean it (their FIFO
 * message, which our daemon takes from a named API client):
 *
 *   node dist/bench/api-send.js NODE t=ask_resources rsc_hold=all info=me
 *
 * Used by the standby benchmark for our daemon until bin/hb_standby exists.
 * The socket is $HEARTBEAT_API_SOCKET or /var/run/heartbeat/register.
 */
import { ApiConnection } from '../lib/heartbeat/api/client.js';
import { HaMessage } from '../lib/heartbeat/wire/index.js';

const [node, ...pairs] = process.argv.slice(2);
if (!node || pairs.length === 0 || pairs.some((p) => !p.includes('='))) {
  process.stderr.write('usage: api-send.js NODE NAME=VALUE...\n');
  process.exit(2);
}
const c = await ApiConnection.connect(process.env.HEARTBEAT_API_SOCKET || '/var/run/heartbeat/register');
c.send(
  new HaMessage()
    .add('t', 'hbapi-req')
    .add('reqtype', 'signon')
    .add('dest', node)
    .add('pid', String(process.pid))
    .add('from_id', 'hbbench')
    .add('uid', String(process.getuid?.() ?? 0))
    .add('gid', String(process.getgid?.() ?? 0)),
);
const r = await c.next((m) => m.get('t') === 'hbapi-resp', 5000);
if (r?.get('result') !== 'OK') {
  process.stderr.write('api-send: signon failed\n');
  process.exit(1);
}
const m = new HaMessage();
for (const p of pairs) {
  const i = p.indexOf('=');
  m.add(p.slice(0, i), p.slice(i + 1));
}
c.send(m);
// Let the daemon read the message before the connection closes.
await new Promise((res) => setTimeout(res, 100));
await c.end();
