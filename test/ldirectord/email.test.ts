/**
 * emailalert: our daemon (backend=userspace, -d) against a small SMTP sink
 * on loopback: a mail per real state change with the original's subject and
 * body, "Inaccessible real server" reminders every emailalertfreq while the
 * real is down and none after it is back, Daemon-Status for starting,
 * running and stopping. The status filter and the sendmail path are checked
 * on EmailAlerts itself with a fake clock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EmailAlertStatus, LdirectordConfig, VirtualService } from '../../lib/config/ldirectord/model.js';
import { EmailAlerts, smtpSend, type DaemonStatus } from '../../lib/ldirectord/daemon/email.js';
import { Logger } from '../../lib/shared/log/index.js';
import { REPO_ROOT } from '../helpers/env.js';

const work = mkdtempSync(path.join(tmpdir(), 'ldmail-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Received {
  from: string;
  to: string[];
  data: string;
}

/** An SMTP server that accepts everything and keeps the messages. */
async function smtpSink(host: string, port: number): Promise<{ mails: Received[]; close: () => Promise<void> }> {
  const mails: Received[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = '';
    let cur: Received = { from: '', to: [], data: '' };
    let inData = false;
    s.write('220 sink ESMTP\r\n');
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            mails.push(cur);
            cur = { from: '', to: [], data: '' };
            s.write('250 queued\r\n');
          } else cur.data += `${line.startsWith('..') ? line.slice(1) : line}\n`;
          continue;
        }
        const cmd = line.slice(0, 4).toUpperCase();
        if (cmd === 'EHLO') s.write('250-sink\r\n250 8BITMIME\r\n');
        else if (cmd === 'MAIL') {
          cur.from = /<(.*)>/.exec(line)?.[1] ?? '';
          s.write('250 ok\r\n');
        } else if (cmd === 'RCPT') {
          cur.to.push(/<(.*)>/.exec(line)?.[1] ?? '');
          s.write('250 ok\r\n');
        } else if (cmd === 'DATA') {
          inData = true;
          s.write('354 go ahead\r\n');
        } else if (cmd === 'QUIT') s.end('221 bye\r\n');
        else s.write('250 ok\r\n');
      }
    });
  });
  await new Promise<void>((r) => server.listen(port, host, r));
  return {
    mails,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

async function waitFor<T>(what: string, fn: () => T | undefined, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const subject = (m: Received): string => /^Subject: (.*)$/m.exec(m.data)?.[1] ?? '';

describe('emailalert', () => {
  it('mails every real state change through smtp=, reminds while down, and says what the daemon was doing', async () => {
    const sink = await smtpSink('127.0.42.1', 25);
    const real = net.createServer((s) => s.end());
    await new Promise<void>((r) => real.listen(8080, '127.0.42.2', r));
    const cf = path.join(work, 'mail.cf');
    writeFileSync(cf, `backend=userspace
checkinterval=1
emailalert="ops@example.test, oncall@example.test"
emailalertfreq=2
emailalertfrom=LVS <lvs@example.test>
smtp=127.0.42.1
virtual=127.0.42.10:8080
	real=127.0.42.2:8080 gate 1
	checktype=connect
	servicename=web
	comment=front page
`);
    const proc: ChildProcess = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'ldirectord'), '-d', cf, 'start'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    try {
      const label = '127.0.42.2:8080 (127.0.42.10:8080)';
      const added = await waitFor('the first mail', () => sink.mails[0], 15_000);
      expect(added.from).toBe('lvs@example.test');
      expect(added.to).toEqual(['ops@example.test', 'oncall@example.test']);
      expect(subject(added)).toBe(`[web] Added real server: ${label} (Weight set to 1)`);
      expect(added.data).toContain('From: LVS <lvs@example.test>\nTo: ops@example.test, oncall@example.test\n');
      expect(added.data).toContain(`\nldirectord host: `);
      expect(added.data).toContain(`\nLog-Message: [web] Added real server: ${label} (Weight set to 1)\nDaemon-Status: starting\n`);
      expect(added.data).toContain('\nService name: web\nComment: front page\n');

      await new Promise<void>((r) => real.close(() => r()));
      const deleted = await waitFor('the Deleted mail', () => sink.mails.find((m) => subject(m).includes('Deleted real server')), 10_000);
      expect(subject(deleted)).toBe(`[web] Deleted real server: ${label}`);
      expect(deleted.data).toContain('Daemon-Status: running\n');
      const reminders = await waitFor('two reminders', () => {
        const r = sink.mails.filter((m) => subject(m) === `[web] Inaccessible real server: ${label}`);
        return r.length >= 2 ? r : undefined;
      }, 12_000);
      expect(reminders.length).toBeGreaterThanOrEqual(2);

      await new Promise<void>((r) => real.listen(8080, '127.0.42.2', r));
      await waitFor('the Added mail after recovery', () => (sink.mails.filter((m) => subject(m).startsWith('[web] Added real server')).length === 2 ? true : undefined), 10_000);
      const count = sink.mails.length;
      await new Promise((r) => setTimeout(r, 3000));
      expect(sink.mails.slice(count).map(subject).filter((s) => s.includes('Inaccessible'))).toEqual([]);

      proc.kill('SIGTERM');
      await new Promise<void>((r) => proc.once('exit', () => r()));
      const purged = sink.mails.find((m) => subject(m).includes('Purged real server (stop)'));
      expect(purged?.data).toContain('Daemon-Status: stopping\n');
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- daemon output ---\n${out.slice(-3000)}\n--- mails ---\n${sink.mails.map(subject).join('\n')}`);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      real.close();
      await sink.close();
    }
  }, 60_000);

  it('smtpSend dot-stuffs lines and reports a refusal', async () => {
    const sink = await smtpSink('127.0.42.3', 2525);
    try {
      await smtpSend('127.0.42.3:2525', { from: 'a@x', to: 'b@y', subject: 's', body: 'one\n.two\n' }, 'director');
      expect(sink.mails[0]!.data).toBe('From: a@x\nTo: b@y\nSubject: s\n\none\n.two\n');
      await expect(smtpSend('127.0.42.3:2526', { from: 'a@x', to: 'b@y', subject: 's', body: '' }, 'director')).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await sink.close();
    }
  });

  it('emailalertstatus filters by what the daemon is doing; without smtp= mail goes to sendmail -oi -t', async () => {
    const spool = path.join(work, 'spool');
    const sendmail = path.join(work, 'sendmail');
    writeFileSync(sendmail, `#!/bin/sh\necho "ARGS $*" >> ${spool}\ncat >> ${spool}\necho "--" >> ${spool}\n`);
    chmodSync(sendmail, 0o755);
    writeFileSync(spool, '');
    let status: DaemonStatus = 'starting';
    let now = 1_000_000;
    const v = (statuses: EmailAlertStatus[]): VirtualService => ({ id: 'tcp:127.0.42.20:80', protocol: 'tcp', family: 'ipv4', address: '127.0.42.20', port: 80, emailAlert: 'ops@example.test', emailAlertFreqMs: 5000, emailAlertStatus: statuses } as VirtualService);
    const config = { globals: {} } as LdirectordConfig;
    const log = new Logger({ destinations: [], debugLevel: 0 });
    const alerts = new EmailAlerts({ log, hostname: 'director', config: () => config, status: () => status, now: () => now, sendmail });
    const onlyRunning = v(['running']);
    alerts.alert('Deleted real server: 127.0.42.21:80 (127.0.42.20:80)', { virtual: onlyRunning, server: '127.0.42.21:80', down: true });
    status = 'running';
    now += 4000;
    alerts.resend(); // 4 s < emailalertfreq: nothing
    now += 1000;
    alerts.resend(); // 5 s: a reminder, now while running
    alerts.alert('Added real server: 127.0.42.21:80 (127.0.42.20:80) (Weight set to 1)', { virtual: onlyRunning, server: '127.0.42.21:80', down: false });
    now += 10_000;
    alerts.resend(); // back up: no more reminders
    status = 'stopping';
    alerts.alert('Purged real server (stop): 127.0.42.21:80 (127.0.42.20:80)', { virtual: onlyRunning, server: '127.0.42.21:80', down: false });
    await alerts.idle();
    const sent = readFileSync(spool, 'utf8').split('--\n').filter(Boolean);
    expect(sent.map((m) => /^Subject: (.*)$/m.exec(m)?.[1])).toEqual([
      'Inaccessible real server: 127.0.42.21:80 (127.0.42.20:80)',
      'Added real server: 127.0.42.21:80 (127.0.42.20:80) (Weight set to 1)',
    ]);
    expect(sent[0]).toMatch(/^ARGS -oi -t\nFrom: \S+@director\nTo: ops@example.test\n/);
    expect(sent[0]).toContain('Daemon-Status: running\n');
  });
});
