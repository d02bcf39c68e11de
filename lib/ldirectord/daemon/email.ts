/**
 * emailalert (spec §6.10): a mail for every change a real or fallback
 * server's entry goes through (added, restored, quiesced, deleted, purged),
 * with the original's subject and body, filtered by emailalertstatus
 * against what the daemon is doing (starting, running, stopping,
 * reloading); while a real stays quiesced or deleted, "Inaccessible real
 * server: <ip:port> (<virtual>)" again every emailalertfreq seconds (0: no
 * reminders). Sent through `smtp=` (host or host:port) with a minimal SMTP
 * client, else handed to /usr/sbin/sendmail -oi -t, as Mail::Send does.
 * Sending never blocks the daemon: mails go out one after the other in the
 * background, each bounded in time.
 */
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import type { EmailAlertStatus, LdirectordConfig, VirtualService } from '../../config/ldirectord/model.js';
import type { Logger } from '../../shared/log/index.js';
import type { Alert } from '../director/director.js';
import { virtualLabel } from '../director/targets.js';
import { tcpConnect } from '../checks/connect.js';
import { StreamReader } from '../checks/wire.js';

export type DaemonStatus = EmailAlertStatus;

export interface Mail {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly body: string;
}

const SEND_TIMEOUT_MS = 30_000;

function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'root';
  }
}

/** The message as sent: headers, blank line, body with LF line ends. */
export function formatMail(m: Mail): string {
  return `From: ${m.from}\nTo: ${m.to}\nSubject: ${m.subject}\n\n${m.body}`;
}

/** One SMTP reply (multi-line `NNN-` up to `NNN `), or undefined when the connection ends. */
async function reply(r: StreamReader): Promise<{ code: number; text: string } | undefined> {
  for (;;) {
    const l = await r.line();
    if (l === undefined) return undefined;
    if (/^\d{3}-/.test(l)) continue;
    return { code: Number(l.slice(0, 3)) || 0, text: l };
  }
}

/** Sends one mail to `server` (`host` or `host:port`, default port 25). Throws with the server's answer on refusal. */
export async function smtpSend(server: string, m: Mail, helo: string, timeoutMs = SEND_TIMEOUT_MS): Promise<void> {
  const match = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(server.includes(':') && !server.startsWith('[') && server.split(':').length > 2 ? `[${server}]` : server);
  const host = match?.[1] ?? server;
  const port = Number(match?.[2] ?? 25);
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  let s: import('node:net').Socket | undefined;
  try {
    s = await tcpConnect(host, port, ac.signal);
    const sock = s;
    const r = new StreamReader(sock);
    const expect = async (line: string | undefined, ok: (code: number) => boolean): Promise<void> => {
      if (line !== undefined) sock.write(`${line}\r\n`);
      const res = await reply(r);
      if (res === undefined) throw new Error(`SMTP ${server}: connection closed${line ? ` after ${line.split(' ')[0]}` : ''}`);
      if (!ok(res.code)) throw new Error(`SMTP ${server}: ${res.text}`);
    };
    const is2 = (c: number): boolean => c >= 200 && c < 300;
    await expect(undefined, is2);
    await expect(`EHLO ${helo}`, is2).catch(() => expect(`HELO ${helo}`, is2));
    await expect(`MAIL FROM:<${m.from.replace(/^.*<|>.*$/g, '')}>`, is2);
    for (const rcpt of m.to.split(',').map((a) => a.trim()).filter(Boolean)) await expect(`RCPT TO:<${rcpt}>`, is2);
    await expect('DATA', (c) => c === 354);
    const text = formatMail(m).replace(/\n$/, '').split('\n').map((l) => (l.startsWith('.') ? `.${l}` : l)).join('\r\n');
    await expect(`${text}\r\n.`, is2);
    sock.write('QUIT\r\n');
  } finally {
    clearTimeout(timer);
    s?.destroy();
  }
}

/** Hands one mail to sendmail (-t: recipients from the headers). */
export function sendmailSend(m: Mail, sendmail = '/usr/sbin/sendmail', timeoutMs = SEND_TIMEOUT_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(sendmail, ['-oi', '-t'], { stdio: ['pipe', 'ignore', 'pipe'], timeout: timeoutMs });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${sendmail} exited ${code}${err ? `: ${err.trim()}` : ''}`))));
    child.stdin.on('error', () => {});
    child.stdin.end(formatMail(m));
  });
}

export interface EmailAlertsOptions {
  readonly log: Logger;
  readonly hostname: string;
  readonly config: () => LdirectordConfig;
  readonly status: () => DaemonStatus;
  /** Replaceable for tests. */
  readonly now?: () => number;
  readonly sendmail?: string;
}

export class EmailAlerts {
  /** Reals that are down, by `ip:port (virtual)`: when their last alert went out. */
  private readonly downSince = new Map<string, { virtual: VirtualService; server: string; sentAt: number }>();
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: EmailAlertsOptions) {}

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  /** Starts the reminder clock (checked every second). */
  start(): void {
    this.timer ??= setInterval(() => this.resend(), 1000);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reload: the original forgets which reals were down (their reminders stop until they change again). */
  forget(): void {
    this.downSince.clear();
  }

  /** A log line that changed a server's entry. */
  alert(subject: string, a: Alert): void {
    const id = `${a.server} (${virtualLabel(a.virtual)})`;
    if (a.down && a.virtual.emailAlertFreqMs > 0) this.downSince.set(id, { virtual: a.virtual, server: a.server, sentAt: this.now() });
    else this.downSince.delete(id);
    this.send(subject, a.virtual);
  }

  /** "Inaccessible real server" for reals down for emailalertfreq since their last mail. */
  resend(): void {
    const now = this.now();
    for (const [id, d] of this.downSince) {
      if (now - d.sentAt < d.virtual.emailAlertFreqMs) continue;
      d.sentAt = now;
      this.send(`Inaccessible real server: ${id}`, d.virtual);
    }
  }

  /** Settles when every mail queued so far has been sent or has failed. */
  idle(): Promise<void> {
    return this.queue;
  }

  private send(subject: string, v: VirtualService): void {
    if (v.emailAlert === '' || !v.emailAlertStatus.includes(this.o.status())) return;
    const g = this.o.config().globals;
    this.o.log.info(`emailalert: ${subject}`);
    const full = v.serviceName ? `[${v.serviceName}] ${subject}` : subject;
    const extra = `${v.serviceName ? `Service name: ${v.serviceName}\n` : ''}${v.comment ? `Comment: ${v.comment}\n` : ''}`;
    const user = `${userName()}@${this.o.hostname}`;
    const mail: Mail = {
      from: g.emailAlertFrom ?? user,
      to: v.emailAlert,
      subject: full,
      body: `ldirectord host: ${this.o.hostname}\nLog-Message: ${full}\nDaemon-Status: ${this.o.status()}\n${extra ? `\n${extra}\n` : ''}`,
    };
    const smtp = v.smtp;
    this.queue = this.queue.then(() => (smtp !== undefined ? smtpSend(smtp, mail, this.o.hostname) : sendmailSend(mail, this.o.sendmail)).catch((e: unknown) => {
      this.o.log.info(`failed to send ${smtp !== undefined ? 'SMTP ' : ''}email message: ${(e as Error).message}`);
    }));
  }
}
