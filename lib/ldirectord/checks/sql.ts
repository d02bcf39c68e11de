/**
 * service=mysql / pgsql / oracle negotiate checks (spec §5). login and
 * request (the SQL, without its leading `/`) are required; we connect as
 * login/passwd to `database` at RIP:port, run the query once and are up iff
 * it returns at least one row. Both wire protocols' simple paths are spoken
 * directly (no client library):
 * - MySQL/MariaDB: protocol 41 handshake with mysql_native_password or
 *   caching_sha2_password (fast path; its full path needs TLS or RSA and is
 *   reported down with that reason), COM_QUERY, rows counted to the EOF;
 * - PostgreSQL: protocol 3.0 startup with trust, cleartext, md5 or
 *   SCRAM-SHA-256 authentication, a simple Query, DataRow messages counted.
 * Oracle has no free client: the check is down with a message saying so.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type * as net from 'node:net';
import { down, up, withTimeout, type CheckContext, type CheckOutcome } from './types.js';
import { StreamReader, openStream, send } from './wire.js';

function requirements(c: CheckContext): { query: string } | CheckOutcome {
  const query = c.real.request.replace(/^\//, '');
  if (c.virtual.login === '' || query === '') {
    return down(`Error: Must specify a login and request string for MySQL, Oracle and PostgreSQL checks. Not adding ${c.real.address}.`);
  }
  return { query };
}

// ---------------------------------------------------------------- MySQL

const sha1 = (...b: Buffer[]): Buffer => b.reduce((h, x) => h.update(x), createHash('sha1')).digest();
const sha256 = (...b: Buffer[]): Buffer => b.reduce((h, x) => h.update(x), createHash('sha256')).digest();
const xor = (a: Buffer, b: Buffer): Buffer => Buffer.from(a.map((x, i) => x ^ b[i % b.length]!));

/** The auth response of a MySQL plugin for `password` and the server's nonce. */
export function mysqlScramble(plugin: string, password: string, nonce: Buffer): Buffer {
  if (password === '') return Buffer.alloc(0);
  const pw = Buffer.from(password, 'utf8');
  if (plugin === 'caching_sha2_password') return xor(sha256(pw), sha256(sha256(sha256(pw)), nonce));
  return xor(sha1(pw), sha1(nonce, sha1(sha1(pw))));
}

class MysqlConn {
  seq = 0;
  constructor(private readonly s: net.Socket, private readonly r: StreamReader) {}
  async read(): Promise<Buffer> {
    const head = await this.r.bytes(4);
    if (!head) throw new Error('connection closed');
    const len = head.readUIntLE(0, 3);
    this.seq = (head[3]! + 1) & 255;
    const body = await this.r.bytes(len);
    if (!body) throw new Error('connection closed');
    return body;
  }
  write(payload: Buffer, seq = this.seq): void {
    const head = Buffer.alloc(4);
    head.writeUIntLE(payload.length, 0, 3);
    head[3] = seq;
    this.seq = (seq + 1) & 255;
    send(this.s, Buffer.concat([head, payload]));
  }
}

const mysqlError = (p: Buffer): string => p.subarray(p[3] === 0x23 ? 9 : 3).toString('utf8');

/** A length-encoded integer at `off`. */
function lenenc(p: Buffer, off: number): number {
  const b = p[off]!;
  if (b < 0xfb) return b;
  if (b === 0xfc) return p.readUInt16LE(off + 1);
  if (b === 0xfd) return p.readUIntLE(off + 1, 3);
  return Number(p.readBigUInt64LE(off + 1));
}

const isEof = (p: Buffer): boolean => p[0] === 0xfe && p.length < 9;

async function mysqlSession(c: CheckContext, query: string, signal: AbortSignal): Promise<CheckOutcome> {
  const v = c.virtual;
  const s = await openStream(c.real.address, c.port, false, signal);
  const conn = new MysqlConn(s, new StreamReader(s));
  try {
    const hello = await conn.read();
    if (hello[0] === 0xff) return down(`server refused: ${mysqlError(hello)}`);
    if (hello[0] !== 10) return down(`unknown MySQL protocol ${hello[0]}`);
    let off = hello.indexOf(0, 1) + 1; // past the server version
    const nonce1 = hello.subarray(off + 4, off + 12);
    off += 13;
    const capsLow = hello.readUInt16LE(off);
    const capsHigh = hello.length > off + 5 ? hello.readUInt16LE(off + 5) : 0;
    const serverCaps = capsLow | (capsHigh << 16);
    const authLen = hello.length > off + 7 ? hello[off + 7]! : 0;
    off += 18;
    const nonce2 = hello.subarray(off, off + Math.max(13, authLen - 8) - 1);
    off += Math.max(13, authLen - 8);
    const end = hello.indexOf(0, off);
    const plugin = off < hello.length ? hello.subarray(off, end < 0 ? hello.length : end).toString('latin1') : 'mysql_native_password';
    let nonce: Buffer = Buffer.concat([nonce1, nonce2]);
    // LONG_PASSWORD, CONNECT_WITH_DB, PROTOCOL_41, TRANSACTIONS, SECURE_CONNECTION, PLUGIN_AUTH
    const withDb = v.database !== '';
    const caps = (0x1 | (withDb ? 0x8 : 0) | 0x200 | 0x2000 | 0x8000 | 0x80000) & (serverCaps | 0x8);
    const head = Buffer.alloc(32);
    head.writeUInt32LE(caps >>> 0, 0);
    head.writeUInt32LE(1 << 24, 4);
    head[8] = 33; // utf8
    let auth = mysqlScramble(plugin, v.passwd, nonce);
    conn.write(Buffer.concat([
      head,
      Buffer.from(`${v.login}\0`, 'utf8'),
      Buffer.from([auth.length]), auth,
      withDb ? Buffer.from(`${v.database}\0`, 'utf8') : Buffer.alloc(0),
      Buffer.from(`${plugin}\0`, 'latin1'),
    ]));
    let currentPlugin = plugin;
    for (;;) {
      const p = await conn.read();
      if (p[0] === 0x00) break;
      if (p[0] === 0xff) return down(`login failed: ${mysqlError(p)}`);
      if (p[0] === 0xfe) {
        // Auth switch: another plugin with a fresh nonce.
        const z = p.indexOf(0, 1);
        currentPlugin = p.subarray(1, z).toString('latin1');
        nonce = p.subarray(z + 1, p[p.length - 1] === 0 ? p.length - 1 : p.length);
        if (currentPlugin !== 'mysql_native_password' && currentPlugin !== 'caching_sha2_password') return down(`unsupported auth plugin ${currentPlugin}`);
        auth = mysqlScramble(currentPlugin, v.passwd, nonce);
        conn.write(auth);
        continue;
      }
      if (p[0] === 0x01 && currentPlugin === 'caching_sha2_password') {
        if (p[1] === 0x03) continue; // fast auth success: an OK follows
        return down('caching_sha2_password needs a full authentication (TLS or RSA); not supported by this check');
      }
      return down(`unexpected packet 0x${p[0]!.toString(16)} during login`);
    }
    conn.write(Buffer.concat([Buffer.from([0x03]), Buffer.from(query, 'utf8')]), 0);
    const first = await conn.read();
    if (first[0] === 0xff) return down(`Error executing statement: ${mysqlError(first)}`);
    if (first[0] === 0x00) return down('the request returned no result set');
    const columns = lenenc(first, 0);
    for (let i = 0; i < columns; i++) await conn.read();
    if (!isEof(await conn.read())) return down('unexpected packet after the column definitions');
    let rows = 0;
    for (;;) {
      const p = await conn.read();
      if (p[0] === 0xff) return down(`Error executing statement: ${mysqlError(p)}`);
      if (isEof(p)) break;
      rows++;
    }
    conn.write(Buffer.from([0x01]), 0);
    return rows > 0 ? up(`${rows} rows`) : down('the request returned no rows');
  } finally {
    s.destroy();
  }
}

export function mysqlCheck(c: CheckContext): Promise<CheckOutcome> {
  const req = requirements(c);
  if ('up' in req) return Promise.resolve(req);
  return withTimeout(c, (signal) => mysqlSession(c, req.query, signal));
}

// ---------------------------------------------------------------- PostgreSQL

function pgMessage(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

async function pgRead(r: StreamReader): Promise<{ type: string; body: Buffer }> {
  const head = await r.bytes(5);
  if (!head) throw new Error('connection closed');
  const len = head.readUInt32BE(1);
  if (len < 4 || len > 1 << 26) throw new Error('bad PostgreSQL message length');
  const body = await r.bytes(len - 4);
  if (!body) throw new Error('connection closed');
  return { type: String.fromCharCode(head[0]!), body };
}

/** The human part of an ErrorResponse: severity, SQLSTATE and message fields. */
function pgError(body: Buffer): string {
  const fields: Record<string, string> = {};
  let off = 0;
  while (off < body.length && body[off] !== 0) {
    const z = body.indexOf(0, off + 1);
    fields[String.fromCharCode(body[off]!)] = body.subarray(off + 1, z).toString('utf8');
    off = z + 1;
  }
  return `${fields.S ?? 'ERROR'}: ${fields.M ?? ''}${fields.C ? ` (${fields.C})` : ''}`;
}

const cstr = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8');
const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();

/** SCRAM-SHA-256 (RFC 5802/7677) as PostgreSQL uses it: the user name comes from the startup message. */
export function scramClientFinal(password: string, clientFirstBare: string, serverFirst: string): { message: string; serverSignature: Buffer } {
  const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
  const salted = pbkdf2Sync(password.normalize('NFKC'), Buffer.from(attrs.s ?? '', 'base64'), Number(attrs.i), 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  const withoutProof = `c=biws,r=${attrs.r}`;
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const proof = xor(clientKey, hmac(sha256(clientKey), authMessage));
  return { message: `${withoutProof},p=${proof.toString('base64')}`, serverSignature: hmac(hmac(salted, 'Server Key'), authMessage) };
}

async function pgSession(c: CheckContext, query: string, signal: AbortSignal): Promise<CheckOutcome> {
  const v = c.virtual;
  const s = await openStream(c.real.address, c.port, false, signal);
  const r = new StreamReader(s);
  try {
    const params = Buffer.concat([cstr('user'), cstr(v.login), ...(v.database !== '' ? [cstr('database'), cstr(v.database)] : []), Buffer.from([0])]);
    const startup = Buffer.alloc(8);
    startup.writeUInt32BE(params.length + 8, 0);
    startup.writeUInt32BE(196608, 4);
    send(s, Buffer.concat([startup, params]));
    let scram: { bare: string; nonce: string; signature?: Buffer } | undefined;
    for (;;) {
      const m = await pgRead(r);
      if (m.type === 'E') return down(`login failed: ${pgError(m.body)}`);
      if (m.type === 'Z') break;
      if (m.type !== 'R') continue; // ParameterStatus, BackendKeyData, notices
      const kind = m.body.readUInt32BE(0);
      if (kind === 0) continue;
      if (kind === 3) send(s, pgMessage('p', cstr(v.passwd)));
      else if (kind === 5) {
        const inner = createHash('md5').update(v.passwd + v.login).digest('hex');
        send(s, pgMessage('p', cstr(`md5${createHash('md5').update(inner).update(m.body.subarray(4, 8)).digest('hex')}`)));
      } else if (kind === 10) {
        if (!m.body.includes('SCRAM-SHA-256\0')) return down('no supported SASL mechanism');
        const nonce = randomBytes(18).toString('base64');
        scram = { bare: `n=,r=${nonce}`, nonce };
        const first = Buffer.from(`n,,${scram.bare}`);
        const len = Buffer.alloc(4);
        len.writeUInt32BE(first.length);
        send(s, pgMessage('p', Buffer.concat([cstr('SCRAM-SHA-256'), len, first])));
      } else if (kind === 11 && scram) {
        const serverFirst = m.body.subarray(4).toString('utf8');
        if (!serverFirst.includes(`r=${scram.nonce}`)) return down('SCRAM: server nonce does not extend ours');
        const fin = scramClientFinal(v.passwd, scram.bare, serverFirst);
        scram.signature = fin.serverSignature;
        send(s, pgMessage('p', Buffer.from(fin.message)));
      } else if (kind === 12 && scram?.signature) {
        const got = /v=([^,]+)/.exec(m.body.subarray(4).toString('utf8'))?.[1];
        if (got === undefined || !Buffer.from(got, 'base64').equals(scram.signature)) return down('SCRAM: wrong server signature');
      } else return down(`unsupported authentication method ${kind}`);
    }
    send(s, pgMessage('Q', cstr(query)));
    let rows = 0;
    let error: string | undefined;
    for (;;) {
      const m = await pgRead(r);
      if (m.type === 'D') rows++;
      else if (m.type === 'E') error = pgError(m.body);
      else if (m.type === 'Z') break;
    }
    send(s, pgMessage('X', Buffer.alloc(0)));
    if (error !== undefined) return down(`Error executing statement: ${error}`);
    return rows > 0 ? up(`${rows} rows`) : down('the request returned no rows');
  } finally {
    s.destroy();
  }
}

export function pgsqlCheck(c: CheckContext): Promise<CheckOutcome> {
  const req = requirements(c);
  if ('up' in req) return Promise.resolve(req);
  return withTimeout(c, (signal) => pgSession(c, req.query, signal));
}

// ---------------------------------------------------------------- Oracle

export const ORACLE_UNSUPPORTED = 'service=oracle: no free Oracle client is available to heartbeat-ts; use checktype=connect, or checktype=external with a script around sqlplus';

export function oracleCheck(c: CheckContext): Promise<CheckOutcome> {
  const req = requirements(c);
  return Promise.resolve('up' in req ? req : down(ORACLE_UNSUPPORTED));
}
