/**
 * The demo's web service: answers every request with `hello from NODE` (and
 * the node in an `X-Served-By` header). Started by demo/resource.d/hbdemo-web:
 *
 *   node dist/lib/demo/web-server.js NODE ADDRESS PORT PIDFILE
 *
 * The pid file is written once the socket listens (so the script's start can
 * wait for it) and removed on SIGTERM/SIGINT.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [node, address, portText, pidFile] = process.argv.slice(2);
const port = Number(portText);
if (!node || !address || !pidFile || !Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write('usage: web-server.js NODE ADDRESS PORT PIDFILE\n');
  process.exit(2);
}

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'x-served-by': node, connection: 'close' });
  res.end(`hello from ${node}\n`);
});
server.on('error', (e) => {
  process.stderr.write(`web-server: ${address}:${port}: ${e.message}\n`);
  process.exit(1);
});
server.listen({ host: address, port }, () => {
  writeFileSync(pidFile, `${process.pid}\n`);
});
const stop = (): void => {
  rmSync(pidFile, { force: true });
  server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
