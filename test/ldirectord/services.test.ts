/**
 * The negotiate checks against REAL servers from Debian packages, each
 * started by this file on its own 127.0.41.x address with a temporary
 * config and data folder (never a system service): dnsmasq, vsftpd, dovecot
 * (pop3/pop3s/imap/imaps), slapd (ldap/ldaps, db loaded with slapadd),
 * mariadbd (mariadb-install-db in a temp datadir), postgres (initdb;
 * SCRAM-SHA-256, md5, cleartext and trust users) and freeradius (radiusd -X with a minimal config). SIP has
 * no small Debian server: a protocol-accurate stand-in answers OPTIONS over
 * UDP and TCP. Servers start once, in parallel; each test checks up and down
 * verdicts. A silent server shows that no check hangs past its timeout or an
 * abort.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import { setMaxListeners } from 'node:events';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckService, RealServer, VirtualService } from '../../lib/config/ldirectord/model.js';
import { NEGOTIATE, runProbe } from '../../lib/ldirectord/checks/index.js';
import { ORACLE_UNSUPPORTED } from '../../lib/ldirectord/checks/sql.js';
import type { CheckContext, CheckOutcome } from '../../lib/ldirectord/checks/types.js';
import { hasTool, itWithTools } from '../helpers/env.js';

const ADDR = {
  dns: '127.0.41.1', ftp: '127.0.41.2', mail: '127.0.41.3', ldap: '127.0.41.4', mysql: '127.0.41.5', pgsql: '127.0.41.6',
  radius: '127.0.41.7', sip: '127.0.41.8', silent: '127.0.41.9', closed: '127.0.41.10', web: '127.0.41.11', smtp: '127.0.41.12',
};

const work = mkdtempSync(path.join(tmpdir(), 'ldsvc-'));
chmodSync(work, 0o755);
const children: ChildProcess[] = [];
const started = new Map<string, Promise<void>>();
const closers: (() => void)[] = [];

function run(cmd: string, args: string[], opts: { user?: string; log: string }): ChildProcess {
  const argv = opts.user ? ['runuser', '-u', opts.user, '--', cmd, ...args] : [cmd, ...args];
  const out = openSync(opts.log, 'a');
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', out, out] });
  closeSync(out);
  children.push(child);
  return child;
}

/** Polls until `ready()` holds (bounded); the server's log is in the error otherwise. */
async function waitFor(what: string, log: string, ready: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up:\n${existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : ''}`);
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function dir(name: string, owner?: string): string {
  const d = path.join(work, name);
  mkdirSync(d, { recursive: true });
  if (owner) spawnSync('chown', ['-R', owner, d]);
  return d;
}

// ------------------------------------------------------------------ servers

async function startDns(): Promise<void> {
  const log = path.join(work, 'dnsmasq.log');
  run('dnsmasq', ['-k', '--conf-file=/dev/null', '--pid-file=', `--listen-address=${ADDR.dns}`, '--bind-interfaces', '--port=5353',
    '--no-resolv', '--no-hosts', '--address=/www.example.test/10.1.2.3', '--ptr-record=3.2.1.10.in-addr.arpa,www.example.test'], { log });
  await waitFor('dnsmasq', log, () => tcpOpen(ADDR.dns, 5353));
}

async function startFtp(): Promise<void> {
  const root = dir('ftproot');
  chmodSync(root, 0o755);
  writeFileSync(path.join(root, 'welcome.msg'), 'GOOD welcome\n');
  const empty = dir('ftpempty');
  const conf = path.join(work, 'vsftpd.conf');
  writeFileSync(conf, [
    'listen=YES', `listen_address=${ADDR.ftp}`, 'listen_port=2121', 'background=NO', 'anonymous_enable=YES', 'local_enable=NO',
    `anon_root=${root}`, 'no_anon_password=YES', `secure_chroot_dir=${empty}`, 'ftp_username=daemon', 'seccomp_sandbox=NO',
    `pasv_address=${ADDR.ftp}`, 'pasv_min_port=31000', 'pasv_max_port=31100', `vsftpd_log_file=${path.join(work, 'vsftpd.xfer')}`, '',
  ].join('\n'));
  const log = path.join(work, 'vsftpd.log');
  run('vsftpd', [conf], { log });
  await waitFor('vsftpd', log, () => tcpOpen(ADDR.ftp, 2121));
}

function makeCert(): { cert: string; key: string } {
  const cert = path.join(work, 'cert.pem');
  const key = path.join(work, 'key.pem');
  if (!existsSync(cert)) {
    spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=ldsvc'], { stdio: 'ignore' });
    chmodSync(key, 0o644);
  }
  return { cert, key };
}

async function startDovecot(): Promise<void> {
  const { cert, key } = makeCert();
  const d = dir('dovecot');
  dir('dovecot/run');
  const home = dir('dovecot/home', 'dovecot');
  writeFileSync(path.join(d, 'passwd'), 'alice:{PLAIN}secret\n');
  const conf = path.join(d, 'dovecot.conf');
  writeFileSync(conf, `first_valid_uid = 1
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
base_dir = ${d}/run
state_dir = ${d}/state
protocols = imap pop3
listen = ${ADDR.mail}
ssl = yes
ssl_cert = <${cert}
ssl_key = <${key}
disable_plaintext_auth = no
auth_mechanisms = plain
log_path = ${d}/dovecot.log
passdb {
  driver = passwd-file
  args = ${d}/passwd
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=${home}/%u
}
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    port = 1143
  }
  inet_listener imaps {
    port = 1993
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 1110
  }
  inet_listener pop3s {
    port = 1995
    ssl = yes
  }
}
service anvil {
  chroot =
}
service stats {
  chroot =
}
`);
  const log = path.join(work, 'dovecot.out');
  run('dovecot', ['-F', '-c', conf], { log });
  await waitFor('dovecot', path.join(d, 'dovecot.log'), async () => (await tcpOpen(ADDR.mail, 1143)) && (await tcpOpen(ADDR.mail, 1995)));
}

async function startSlapd(): Promise<void> {
  const { cert, key } = makeCert();
  const d = dir('slapd');
  const db = dir('slapd/db');
  const conf = path.join(d, 'slapd.conf');
  writeFileSync(conf, `include /etc/ldap/schema/core.schema
pidfile ${d}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCertificateFile ${cert}
TLSCertificateKeyFile ${key}
database mdb
maxsize 10485760
suffix "dc=example,dc=test"
rootdn "cn=admin,dc=example,dc=test"
rootpw secret
directory ${db}
`);
  const ldif = path.join(d, 'data.ldif');
  writeFileSync(ldif, `dn: dc=example,dc=test
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,dc=example,dc=test
objectClass: organizationalUnit
ou: people
`);
  const add = spawnSync('slapadd', ['-f', conf, '-l', ldif], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`slapadd: ${add.stderr}`);
  const log = path.join(work, 'slapd.log');
  run('slapd', ['-f', conf, '-h', `ldap://${ADDR.ldap}:3389/ ldaps://${ADDR.ldap}:3636/`, '-d', '0'], { log });
  await waitFor('slapd', log, async () => (await tcpOpen(ADDR.ldap, 3389)) && (await tcpOpen(ADDR.ldap, 3636)));
}

async function startMariadb(): Promise<void> {
  const d = dir('mysql', 'mysql');
  const log = path.join(work, 'mariadb.log');
  const install = spawn('mariadb-install-db', ['--no-defaults', `--datadir=${d}/data`, '--user=mysql', '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'ignore' });
  children.push(install);
  await new Promise<void>((resolve, reject) => install.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mariadb-install-db exit ${code}`)))));
  const init = path.join(d, 'init.sql');
  writeFileSync(init, `CREATE DATABASE IF NOT EXISTS ldtest;
CREATE TABLE IF NOT EXISTS ldtest.alive (ok INT);
INSERT INTO ldtest.alive VALUES (1);
CREATE TABLE IF NOT EXISTS ldtest.empty (ok INT);
CREATE USER IF NOT EXISTS 'chk'@'%' IDENTIFIED BY 'pw';
GRANT SELECT ON ldtest.* TO 'chk'@'%';
`);
  run('mariadbd', ['--no-defaults', `--datadir=${d}/data`, `--socket=${d}/sock`, `--pid-file=${d}/pid`, `--bind-address=${ADDR.mysql}`, '--port=13306',
    '--user=mysql', '--skip-log-bin', `--init-file=${init}`], { log });
  await waitFor('mariadbd', log, () => readFileSync(log, 'utf8').includes('ready for connections'), 60_000);
}

const PG_BIN = ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'].find((d) => existsSync(path.join(d, 'initdb')));

async function startPostgres(): Promise<void> {
  const d = dir('pg', 'postgres');
  writeFileSync(path.join(d, 'pwfile'), 'pw\n');
  chownSync(path.join(d, 'pwfile'), Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim()), 0);
  const log = path.join(work, 'postgres.log');
  const initdb = spawn('runuser', ['-u', 'postgres', '--', path.join(PG_BIN!, 'initdb'), '-D', `${d}/data`, '-U', 'chk', `--pwfile=${d}/pwfile`,
    '--auth-local=trust', '--auth-host=scram-sha-256'], { stdio: 'ignore' });
  children.push(initdb);
  await new Promise<void>((resolve, reject) => initdb.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`initdb exit ${code}`)))));
  // One user per authentication method, ahead of initdb's scram-sha-256 lines.
  const hba = path.join(d, 'data', 'pg_hba.conf');
  writeFileSync(hba, `host all md5user 0.0.0.0/0 md5\nhost all clearuser 0.0.0.0/0 password\nhost all trustuser 0.0.0.0/0 trust\n${readFileSync(hba, 'utf8')}`);
  run(path.join(PG_BIN!, 'postgres'), ['-D', `${d}/data`, '-k', d, '-h', ADDR.pgsql, '-p', '15432'], { user: 'postgres', log });
  await waitFor('postgres', log, () => readFileSync(log, 'utf8').includes('ready to accept connections'));
  const sql = "SET password_encryption = 'md5'; CREATE USER md5user PASSWORD 'pw5'; RESET password_encryption; CREATE USER clearuser PASSWORD 'pwc'; CREATE USER trustuser;";
  const psql = spawnSync('runuser', ['-u', 'postgres', '--', path.join(PG_BIN!, 'psql'), '-h', d, '-p', '15432', '-U', 'chk', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' });
  if (psql.status !== 0) throw new Error(`psql: ${psql.stderr}`);
}

async function startRadius(): Promise<void> {
  const d = dir('radius');
  writeFileSync(path.join(d, 'dictionary'), '');
  writeFileSync(path.join(d, 'users'), 'alice Cleartext-Password := "secret"\n');
  writeFileSync(path.join(d, 'radiusd.conf'), `prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
datarootdir = /usr/share
dictdir = /usr/share/freeradius
logdir = ${d}
raddbdir = ${d}
radacctdir = ${d}
name = freeradius
confdir = ${d}
run_dir = ${d}
db_dir = ${d}
libdir = /usr/lib/freeradius
pidfile = ${d}/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no
log {
  destination = stdout
}
security {
  allow_core_dumps = no
}
client local {
  ipaddr = 127.0.0.0/8
  secret = testing123
}
modules {
  files {
    filename = ${d}/users
  }
  pap {
  }
}
server default {
  listen {
    type = auth
    ipaddr = ${ADDR.radius}
    port = 11812
  }
  authorize {
    files
    pap
  }
  authenticate {
    Auth-Type PAP {
      pap
    }
  }
}
`);
  const log = path.join(work, 'radiusd.log');
  run('freeradius', ['-X', '-d', d], { log });
  await waitFor('freeradius', log, () => readFileSync(log, 'utf8').includes('Ready to process requests'));
}

/** SIP stand-in: answers OPTIONS for sip:ok@... with 200 OK, anything else 404, over UDP and TCP; records requests. */
const sipRequests: string[] = [];
function sipAnswer(req: string): string {
  sipRequests.push(req);
  const uri = /^OPTIONS (\S+) SIP\/2\.0/.exec(req)?.[1] ?? '';
  const head = (name: string): string => new RegExp(`^${name}: .*$`, 'mi').exec(req)?.[0] ?? '';
  const status = uri.startsWith('sip:ok@') ? '200 OK' : '404 Not Found';
  return `SIP/2.0 ${status}\r\n${head('Via')}\r\n${head('From')}\r\n${head('To')};tag=standin\r\n${head('Call-ID')}\r\n${head('CSeq')}\r\nContent-Length: 0\r\n\r\n`;
}
async function startSip(): Promise<void> {
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => udp.send(sipAnswer(msg.toString('latin1')), rinfo.port, rinfo.address));
  await new Promise<void>((r) => udp.bind(5060, ADDR.sip, r));
  const tcp = net.createServer((s) => {
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n\r\n')) s.end(sipAnswer(buf));
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => tcp.listen(5060, ADDR.sip, r));
  // A TCP server that accepts and never says a word, for every service.
  const silent = net.createServer((s) => s.on('error', () => {}));
  await new Promise<void>((r) => silent.listen(7777, ADDR.silent, r));
  const sockets = new Set<net.Socket>();
  silent.on('connection', (s) => sockets.add(s));
  closers.push(() => udp.close(), () => tcp.close(), () => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
}

/** nginx: http on 8080 (a second virtual host answers for vhost.test), https on 8443, a redirect. */
async function startWeb(): Promise<void> {
  const d = dir('web');
  const root = dir('web/root');
  const vroot = dir('web/vhost');
  writeFileSync(path.join(root, 'good.html'), 'GOOD page\n');
  writeFileSync(path.join(vroot, 'good.html'), 'VHOST page\n');
  const key = path.join(d, 'key.pem');
  const cert = path.join(d, 'cert.pem');
  spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=ldsvc-web'], { stdio: 'ignore' });
  const conf = path.join(d, 'nginx.conf');
  writeFileSync(conf, `daemon off;
master_process off;
pid ${d}/nginx.pid;
error_log ${d}/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${d}/tmp; proxy_temp_path ${d}/tmp; fastcgi_temp_path ${d}/tmp; uwsgi_temp_path ${d}/tmp; scgi_temp_path ${d}/tmp;
  server { listen ${ADDR.web}:8080 default_server; root ${root}; location = /old { return 302 /good.html; } }
  server { listen ${ADDR.web}:8080; server_name vhost.test; root ${vroot}; }
  server { listen ${ADDR.web}:8443 ssl; ssl_certificate ${cert}; ssl_certificate_key ${key}; root ${root}; }
}
`);
  mkdirSync(path.join(d, 'tmp'), { recursive: true });
  const log = path.join(d, 'out.log');
  run('nginx', ['-c', conf, '-p', d], { log });
  await waitFor('nginx', path.join(d, 'error.log'), async () => (await tcpOpen(ADDR.web, 8080)) && tcpOpen(ADDR.web, 8443));
}

/** Python's own SMTP server (the smtpd module of Debian's python3): a real ESMTP dialogue. */
async function startSmtp(): Promise<void> {
  const log = path.join(dir('smtp'), 'out.log');
  run('python3', ['-W', 'ignore', '-m', 'smtpd', '-n', '-c', 'DebuggingServer', `${ADDR.smtp}:2525`], { log });
  await waitFor('smtpd', log, () => tcpOpen(ADDR.smtp, 2525));
}

const SERVERS: Record<string, { tools: string[]; start: () => Promise<void> }> = {
  web: { tools: ['nginx', 'openssl'], start: startWeb },
  smtp: { tools: ['python3'], start: startSmtp },
  dns: { tools: ['dnsmasq'], start: startDns },
  ftp: { tools: ['vsftpd'], start: startFtp },
  mail: { tools: ['dovecot', 'openssl'], start: startDovecot },
  ldap: { tools: ['slapd', 'slapadd', 'openssl'], start: startSlapd },
  mysql: { tools: ['mariadbd', 'mariadb-install-db'], start: startMariadb },
  pgsql: { tools: ['runuser'], start: startPostgres },
  radius: { tools: ['freeradius'], start: startRadius },
  sip: { tools: [], start: startSip },
};

beforeAll(() => {
  for (const [name, s] of Object.entries(SERVERS)) {
    if (!s.tools.every(hasTool) || (name === 'pgsql' && PG_BIN === undefined)) continue;
    const p = s.start();
    p.catch(() => {}); // reported by the test that needs it
    started.set(name, p);
  }
});

afterAll(async () => {
  for (const c of closers) c();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise<void>((r) => {
    const t = setTimeout(() => {
      c.kill('SIGKILL');
      r();
    }, 10_000);
    c.once('exit', () => {
      clearTimeout(t);
      r();
    });
  }))));
  rmSync(work, { recursive: true, force: true });
}, 30_000);

async function server(name: string): Promise<void> {
  const p = started.get(name);
  if (!p) throw new Error(`${name} server was not started`);
  await p;
}

// ------------------------------------------------------------------ checks

function ctx(service: CheckService, address: string, port: number, o: Partial<VirtualService> & { request?: string; receive?: string; timeoutMs?: number; signal?: AbortSignal } = {}): CheckContext {
  const real = { line: 1, address, port, forward: 'gate', weight: 1, request: o.request ?? '/', receive: o.receive ?? '', lowerThreshold: 0, upperThreshold: 0 } satisfies RealServer;
  const virtual = {
    line: 1, id: `tcp:127.0.41.100:${port}`, family: 'ipv4', protocol: 'tcp', address: '127.0.41.100', port, reals: [real], service,
    checkType: 'negotiate', checkCommand: '/bin/true', checkTimeoutMs: 5000, negotiateTimeoutMs: 5000, checkIntervalMs: 1000, failureCount: 1,
    checkCount: 1, request: '/', receive: '', httpMethod: 'GET', login: '', passwd: '', database: '', secret: '', scheduler: 'wrr', ops: false,
    quiescent: false, cleanStop: true, emailAlert: '', emailAlertFreqMs: 0, emailAlertStatus: [], ...o,
  } as VirtualService;
  return { virtual, real, port, timeoutMs: o.timeoutMs ?? 5000, signal: o.signal ?? new AbortController().signal, hostname: 'director' };
}

const check = (c: CheckContext): Promise<CheckOutcome> => runProbe('negotiate', c);

async function verdicts(cs: CheckContext[]): Promise<boolean[]> {
  return (await Promise.all(cs.map(check))).map((o) => o.up);
}

describe('negotiate checks against real servers on loopback', () => {
  itWithTools(['nginx', 'openssl'], 'http, https (nginx with TLS): status 2xx and receive; 404, a body mismatch and a closed port are down; redirects, virtualhost and HEAD', async () => {
    await server('web');
    expect(await verdicts([
      ctx('http', ADDR.web, 8080, { request: '/good.html', receive: 'GOOD' }),
      ctx('http', ADDR.web, 8080, { request: '/good.html', receive: 'BAD' }),
      ctx('http', ADDR.web, 8080, { request: '/missing.html', receive: '' }),
      ctx('http', ADDR.web, 8080, { request: '/old', receive: 'GOOD' }), // 302 -> /good.html
      ctx('http', ADDR.web, 8080, { request: '/good.html', receive: 'VHOST', virtualHost: 'vhost.test' }),
      ctx('http', ADDR.web, 8080, { request: '/good.html', receive: '', httpMethod: 'HEAD' }),
      ctx('https', ADDR.web, 8443, { request: '/good.html', receive: 'GOOD' }), // self-signed: not verified, as the original
      ctx('https', ADDR.web, 8443, { request: '/missing.html', receive: '' }),
      ctx('http', ADDR.closed, 8080, { request: '/good.html', receive: '', timeoutMs: 1000 }),
    ])).toEqual([true, false, false, true, true, true, true, false, false]);
  }, 60_000);

  itWithTools(['python3'], 'smtp, submission (python3 smtpd): greeting 220, EHLO, QUIT is up; a closed port is down', async () => {
    await server('smtp');
    expect(await verdicts([
      ctx('smtp', ADDR.smtp, 2525),
      ctx('submission', ADDR.smtp, 2525),
      ctx('smtp', ADDR.closed, 2525, { timeoutMs: 1000 }),
    ])).toEqual([true, true, false]);
  }, 60_000);

  itWithTools(['dnsmasq'], 'dns (dnsmasq): A and PTR answers matched against receive, over UDP and TCP', async () => {
    await server('dns');
    for (const protocol of ['udp', 'tcp'] as const) {
      const base = { protocol };
      expect(await verdicts([
        ctx('dns', ADDR.dns, 5353, { ...base, request: '/www.example.test', receive: '^10\\.1\\.2\\.3$' }),
        ctx('dns', ADDR.dns, 5353, { ...base, request: '/10.1.2.3', receive: 'www\\.example' }),
        ctx('dns', ADDR.dns, 5353, { ...base, request: '/www.example.test', receive: '10\\.9' }),
        ctx('dns', ADDR.dns, 5353, { ...base, request: '/missing.example.test', receive: '.' }),
        ctx('dns', ADDR.dns, 5353, { ...base, request: '/www.example.test', receive: '' }),
        ctx('dns', ADDR.closed, 5353, { ...base, request: '/www.example.test', receive: '.', timeoutMs: 1000 }),
      ]), protocol).toEqual([true, true, false, false, false, false]);
    }
  }, 60_000);

  itWithTools(['vsftpd'], 'ftp (vsftpd): anonymous login, PASV, RETR; content matched against receive', async () => {
    await server('ftp');
    const anon = { login: 'anonymous', passwd: 'ldirectord@director' };
    expect(await verdicts([
      ctx('ftp', ADDR.ftp, 2121, { ...anon, request: '/welcome.msg', receive: 'GOOD' }),
      ctx('ftp', ADDR.ftp, 2121, { request: '/welcome.msg', receive: 'GOOD' }), // login defaults to anonymous
      ctx('ftp', ADDR.ftp, 2121, { ...anon, request: '/welcome.msg', receive: 'BAD' }),
      ctx('ftp', ADDR.ftp, 2121, { ...anon, request: '/missing.msg', receive: '' }),
      ctx('ftp', ADDR.ftp, 2121, { login: 'alice', passwd: 'x', request: '/welcome.msg', receive: 'GOOD' }), // local users are off
    ])).toEqual([true, true, false, false, false]);
  }, 60_000);

  itWithTools(['dovecot', 'openssl'], 'pop, pops, imap, imaps (dovecot): greeting, login when set; an unreachable POP server is down', async () => {
    await server('mail');
    const cases: [CheckService, number][] = [['pop', 1110], ['pops', 1995], ['imap', 1143], ['imaps', 1993]];
    // Good logins first: dovecot delays logins from an address after failed ones (its auth penalty).
    const good = await verdicts(cases.flatMap(([service, port]) => [
      ctx(service, ADDR.mail, port),
      ctx(service, ADDR.mail, port, { login: 'alice', passwd: 'secret' }),
      ctx(service, ADDR.closed, port), // nothing listening: the original's POP check said up here
    ]));
    expect(good).toEqual(cases.flatMap(() => [true, true, false]));
    const bad = await verdicts(cases.map(([service, port]) => ctx(service, ADDR.mail, port, { login: 'alice', passwd: 'wrong', timeoutMs: 20_000 })));
    expect(bad).toEqual([false, false, false, false]);
    // pops is TLS: the plain port is no pops server.
    expect((await check(ctx('pops', ADDR.mail, 1110, { timeoutMs: 2000 }))).up).toBe(false);
  }, 90_000);

  itWithTools(['slapd', 'slapadd', 'openssl'], 'ldap, ldaps (slapd): bind, base search, one entry, DN matched against receive', async () => {
    await server('ldap');
    const admin = { login: 'cn=admin,dc=example,dc=test', passwd: 'secret' };
    expect(await verdicts([
      ctx('ldap', ADDR.ldap, 3389, { request: '/dc=example,dc=test', receive: 'example' }),
      ctx('ldaps', ADDR.ldap, 3636, { ...admin, request: '/ou=people,dc=example,dc=test', receive: '^ou=people' }),
      ctx('ldap', ADDR.ldap, 3389, { ...admin, passwd: 'wrong', request: '/dc=example,dc=test' }),
      ctx('ldap', ADDR.ldap, 3389, { request: '/ou=nobody,dc=example,dc=test' }),
      ctx('ldap', ADDR.ldap, 3389, { request: '/dc=example,dc=test', receive: '^ou=' }),
    ])).toEqual([true, true, false, false, false]);
  }, 60_000);

  itWithTools(['mariadbd', 'mariadb-install-db'], 'mysql (mariadb): login, database, the request must return a row', async () => {
    await server('mysql');
    const who = { login: 'chk', passwd: 'pw', database: 'ldtest' };
    const results = await Promise.all([
      ctx('mysql', ADDR.mysql, 13306, { ...who, request: '/SELECT * FROM alive' }),
      ctx('mysql', ADDR.mysql, 13306, { ...who, request: '/SELECT * FROM empty' }),
      ctx('mysql', ADDR.mysql, 13306, { ...who, passwd: 'wrong', request: '/SELECT 1' }),
      ctx('mysql', ADDR.mysql, 13306, { ...who, request: '/SELECT * FROM nosuch' }),
      ctx('mysql', ADDR.mysql, 13306, { ...who, login: '', request: '/SELECT 1' }),
    ].map(check));
    expect(results.map((r) => r.up)).toEqual([true, false, false, false, false]);
    expect(results[2]!.message).toMatch(/Access denied/);
    expect(results[4]!.message).toMatch(/Must specify a login and request/);
  }, 90_000);

  itWithTools(['runuser'], 'pgsql (postgres, SCRAM-SHA-256): login, database, the request must return a row', async () => {
    if (PG_BIN === undefined) throw new Error('postgresql is not installed (initdb not found)');
    await server('pgsql');
    const who = { login: 'chk', passwd: 'pw', database: 'postgres' };
    const results = await Promise.all([
      ctx('pgsql', ADDR.pgsql, 15432, { ...who, request: '/SELECT 1' }),
      ctx('pgsql', ADDR.pgsql, 15432, { ...who, request: '/SELECT 1 WHERE false' }),
      ctx('pgsql', ADDR.pgsql, 15432, { ...who, passwd: 'wrong', request: '/SELECT 1' }),
      ctx('pgsql', ADDR.pgsql, 15432, { ...who, request: '/SELECT * FROM nosuch' }),
      ctx('pgsql', ADDR.pgsql, 15432, { ...who, database: 'nodb', request: '/SELECT 1' }),
    ].map(check));
    expect(results.map((r) => r.up)).toEqual([true, false, false, false, false]);
    expect(results[2]!.message).toMatch(/password authentication failed/);
    // md5, cleartext and trust authentication (pg_hba lines per user).
    const methods = await Promise.all([
      ctx('pgsql', ADDR.pgsql, 15432, { login: 'md5user', passwd: 'pw5', database: 'postgres', request: '/SELECT 1' }),
      ctx('pgsql', ADDR.pgsql, 15432, { login: 'md5user', passwd: 'bad', database: 'postgres', request: '/SELECT 1' }),
      ctx('pgsql', ADDR.pgsql, 15432, { login: 'clearuser', passwd: 'pwc', database: 'postgres', request: '/SELECT 1' }),
      ctx('pgsql', ADDR.pgsql, 15432, { login: 'clearuser', passwd: 'bad', database: 'postgres', request: '/SELECT 1' }),
      ctx('pgsql', ADDR.pgsql, 15432, { login: 'trustuser', database: 'postgres', request: '/SELECT 1' }),
    ].map(check));
    expect(methods.map((r) => r.up)).toEqual([true, false, true, false, true]);
  }, 90_000);

  itWithTools(['freeradius'], 'radius (freeradius): accept and reject are both up; a wrong secret or no server is down', async () => {
    await server('radius');
    const base = { protocol: 'udp' as const, secret: 'testing123', login: 'alice' };
    const results = await Promise.all([
      ctx('radius', ADDR.radius, 11812, { ...base, passwd: 'secret' }),
      ctx('radius', ADDR.radius, 11812, { ...base, passwd: 'a wrong password longer than sixteen bytes' }),
      ctx('radius', ADDR.radius, 11812, { ...base, passwd: 'secret', secret: 'other', timeoutMs: 1500 }),
      ctx('radius', ADDR.closed, 11812, { ...base, passwd: 'secret', timeoutMs: 1500 }),
    ].map(check));
    expect(results.map((r) => r.up)).toEqual([true, true, false, false]);
    // The accept proves the User-Password hiding: the server could read the password.
    expect(results[0]!.message).toBe('Access-Accept');
    expect(results[1]!.message).toBe('Access-Reject');
  }, 60_000);

  it('sip (stand-in): OPTIONS over UDP and TCP with the original\'s headers; 200 OK is up, 404 down', async () => {
    await server('sip');
    sipRequests.length = 0;
    for (const protocol of ['udp', 'tcp'] as const) {
      expect(await verdicts([
        ctx('sip', ADDR.sip, 5060, { protocol, login: 'ok@director' }),
        ctx('sip', ADDR.sip, 5060, { protocol, login: 'nobody@director' }),
      ]), protocol).toEqual([true, false]);
    }
    const req = sipRequests[0]!;
    expect(req).toMatch(/^OPTIONS sip:ok@director SIP\/2\.0\r\nVia: SIP\/2\.0\/UDP 127\.0\.0\.1:\d+;branch=z9hG4bKhjhs8ass877\r\nMax-Forwards: 70\r\n/);
    expect(req).toMatch(/\r\nCSeq: 63104 OPTIONS\r\n/);
    expect(req.endsWith('Content-Length: 0\r\n\r\n')).toBe(true);
  });

  it('oracle: down with a clear message (no free client)', async () => {
    expect(await check(ctx('oracle', ADDR.closed, 1521, { login: 'scott', passwd: 'tiger', request: '/SELECT 1 FROM DUAL' }))).toEqual({ up: false, message: ORACLE_UNSUPPORTED });
  });

  it('a server that accepts and never answers: every TCP check ends down at its timeout, and at once on abort', async () => {
    await server('sip');
    const services = Object.keys(NEGOTIATE).filter((s) => !['none', 'oracle', 'radius', 'http_proxy'].includes(s)) as CheckService[];
    const opts = { login: 'u', passwd: 'p', database: 'd', request: '/x', receive: 'x', checkTimeoutMs: 400 };
    const t0 = Date.now();
    const timed = await Promise.all(services.map((s) => check(ctx(s, ADDR.silent, 7777, { ...opts, timeoutMs: 400 }))));
    expect(timed.filter((o) => o.up)).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(3000);
    const ac = new AbortController();
    setMaxListeners(0, ac.signal);
    const t1 = Date.now();
    const pending = Promise.all(services.map((s) => check(ctx(s, ADDR.silent, 7777, { ...opts, checkTimeoutMs: 60_000, timeoutMs: 60_000, signal: ac.signal }))));
    setTimeout(() => ac.abort(), 200);
    expect((await pending).filter((o) => o.up)).toEqual([]);
    expect(Date.now() - t1).toBeLessThan(3000);
  });
});
