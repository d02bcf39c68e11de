/**
 * service=ftp negotiate check (spec §5): greeting, USER/PASS (login
 * defaults to anonymous), CWD /, TYPE I, PASV, RETR <request> (its leading
 * `/` kept), and the downloaded content must match `receive`. The data
 * connection goes to the real's own address on the port PASV names (the
 * address in the reply is ignored: it may be a private or NATed one).
 */
import { receiveMatcher } from './regex.js';
import { down, up, withTimeout, type CheckContext, type CheckOutcome } from './types.js';
import { StreamReader, openStream, send } from './wire.js';

/** One FTP reply: `NNN text`, multi-line `NNN-...` up to `NNN text`. */
export async function ftpReply(r: StreamReader): Promise<{ code: number; text: string } | undefined> {
  const first = await r.line();
  if (first === undefined) return undefined;
  const m = /^(\d{3})([ -])(.*)$/.exec(first);
  if (!m) return { code: 0, text: first };
  if (m[2] === '-') {
    for (let l = await r.line(); l !== undefined; l = await r.line()) if (l.startsWith(`${m[1]} `)) break;
  }
  return { code: Number(m[1]), text: first };
}

export function ftpCheck(c: CheckContext): Promise<CheckOutcome> {
  const matches = receiveMatcher(c.real.receive);
  return withTimeout(c, async (signal) => {
    const s = await openStream(c.real.address, c.port, false, signal);
    const r = new StreamReader(s);
    let data: import('node:net').Socket | undefined;
    const command = async (line: string): Promise<{ code: number; text: string }> => {
      send(s, `${line}\r\n`);
      const reply = await ftpReply(r);
      if (reply === undefined) throw new Error(`connection closed after ${line.split(' ')[0]}`);
      return reply;
    };
    try {
      const greeting = await ftpReply(r);
      if (greeting === undefined) return down('connection closed before the greeting');
      if (greeting.code < 200 || greeting.code >= 300) return down(`greeting ${JSON.stringify(greeting.text)}`);
      const login = c.virtual.login || 'anonymous';
      let reply = await command(`USER ${login}`);
      if (reply.code >= 300 && reply.code < 400) reply = await command(`PASS ${c.virtual.passwd || `ldirectord@${c.hostname}`}`);
      if (reply.code < 200 || reply.code >= 300) return down(`login failed: ${reply.text}`);
      await command('CWD /');
      await command('TYPE I');
      reply = await command('PASV');
      const pasv = /(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/.exec(reply.text);
      if (reply.code !== 227 || !pasv) return down(`PASV refused: ${reply.text}`);
      data = await openStream(c.real.address, Number(pasv[5]) * 256 + Number(pasv[6]), false, signal);
      const content = new StreamReader(data).rest();
      reply = await command(`RETR ${c.real.request}`);
      if (reply.code !== 125 && reply.code !== 150) return down(`RETR ${c.real.request}: ${reply.text}`);
      const body = (await content).toString('latin1');
      const done = await ftpReply(r);
      if (done === undefined || done.code < 200 || done.code >= 300) return down(`transfer failed: ${done?.text ?? 'connection closed'}`);
      send(s, 'QUIT\r\n');
      return matches(body) ? up(`retrieved ${body.length} bytes`) : down('content does not match receive');
    } finally {
      data?.destroy();
      s.destroy();
    }
  });
}
