/**
 * service=pop/pops and imap/imaps negotiate checks (spec §5), spoken
 * directly: greeting, then with login= the login must succeed, then a
 * polite QUIT/LOGOUT. Up iff the greeting is positive (and the login worked
 * when one is configured). pops/imaps run over TLS without certificate
 * checks, as the original. Fix: the original reports an unreachable POP
 * server as up when no login is set; here a connection failure is down.
 */
import { down, up, withTimeout, type CheckContext, type CheckOutcome } from './types.js';
import { StreamReader, openStream, send } from './wire.js';

export function popCheck(c: CheckContext): Promise<CheckOutcome> {
  const secure = c.virtual.service === 'pops';
  return withTimeout(c, async (signal) => {
    const s = await openStream(c.real.address, c.port, secure, signal);
    const r = new StreamReader(s);
    try {
      const greeting = await r.line();
      if (greeting === undefined) return down('connection closed before the greeting');
      if (!greeting.startsWith('+OK')) return down(`greeting ${JSON.stringify(greeting)}`);
      const login = c.virtual.login;
      if (login !== '') {
        send(s, `USER ${login}\r\n`);
        const u = await r.line();
        if (!u?.startsWith('+OK')) return down(`USER refused: ${JSON.stringify(u ?? '')}`);
        send(s, `PASS ${c.virtual.passwd}\r\n`);
        const p = await r.line();
        if (!p?.startsWith('+OK')) return down(`login failed: ${JSON.stringify(p ?? '')}`);
        send(s, 'STAT\r\n');
        await r.line();
      }
      send(s, 'QUIT\r\n');
      return up(login !== '' ? 'logged in' : greeting);
    } finally {
      s.destroy();
    }
  });
}

/** An IMAP quoted string (RFC 3501): backslash and double quote escaped. */
function imapQuote(text: string): string {
  return `"${text.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`;
}

/** The tagged completion of `tag`, skipping untagged lines; undefined at end of stream. */
async function tagged(r: StreamReader, tag: string): Promise<string | undefined> {
  for (let l = await r.line(); l !== undefined; l = await r.line()) if (l.startsWith(`${tag} `)) return l.slice(tag.length + 1);
  return undefined;
}

export function imapCheck(c: CheckContext): Promise<CheckOutcome> {
  const secure = c.virtual.service === 'imaps';
  return withTimeout(c, async (signal) => {
    const s = await openStream(c.real.address, c.port, secure, signal);
    const r = new StreamReader(s);
    try {
      const greeting = await r.line();
      if (greeting === undefined) return down('connection closed before the greeting');
      if (!/^\* (OK|PREAUTH)\b/i.test(greeting)) return down(`greeting ${JSON.stringify(greeting)}`);
      const login = c.virtual.login;
      if (login !== '') {
        send(s, `a1 LOGIN ${imapQuote(login)} ${imapQuote(c.virtual.passwd)}\r\n`);
        const res = await tagged(r, 'a1');
        if (!res || !/^OK\b/i.test(res)) return down(`login failed: ${JSON.stringify(res ?? '')}`);
      }
      send(s, 'a2 LOGOUT\r\n');
      return up(login !== '' ? 'logged in' : greeting);
    } finally {
      s.destroy();
    }
  });
}
