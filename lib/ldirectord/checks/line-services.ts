/**
 * Negotiate checks of line-based services that need no library: simpletcp,
 * nntp and smtp/submission (spec §5).
 */
import type * as net from 'node:net';
import { tcpConnect } from './connect.js';
import { receiveMatcher } from './regex.js';
import { down, up, withTimeout, type CheckContext, type CheckOutcome } from './types.js';

/** Collects what the server sends; `until` decides when enough has arrived. */
function readUntil(s: net.Socket, until: (text: string) => boolean): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const done = (): void => {
      s.off('data', onData);
      resolve(text);
    };
    const onData = (d: Buffer): void => {
      text += d.toString('latin1');
      if (until(text) || text.length > 65536) done();
    };
    s.on('data', onData);
    s.once('end', done);
    s.once('close', done);
    s.once('error', done);
  });
}

export function simpleTcpCheck(c: CheckContext): Promise<CheckOutcome> {
  const matches = receiveMatcher(c.real.receive);
  return withTimeout(c, async (signal) => {
    const s = await tcpConnect(c.real.address, c.port, signal);
    try {
      s.end(c.real.request.replace(/^\//, '').replaceAll('\\n', '\n'));
      const text = await readUntil(s, (t) => t.split('\n').some((l) => matches(l)));
      return text.split('\n').some((l) => matches(l)) ? up('receive matched') : down('no line matched receive');
    } finally {
      s.destroy();
    }
  });
}

export function nntpCheck(c: CheckContext): Promise<CheckOutcome> {
  return withTimeout(c, async (signal) => {
    const s = await tcpConnect(c.real.address, c.port, signal);
    try {
      const text = (await readUntil(s, (t) => t.length > 0)).slice(0, 64);
      return text.startsWith('2') ? up(text.trim()) : down(`greeting ${JSON.stringify(text.trim())}`);
    } finally {
      s.destroy();
    }
  });
}

/** Reads one complete SMTP reply (last line `NNN ` rather than `NNN-`). */
function smtpReply(s: net.Socket): Promise<string> {
  return readUntil(s, (t) => /(^|\n)\d{3}( [^\n]*)?\r?\n/.test(t));
}

export function smtpCheck(c: CheckContext): Promise<CheckOutcome> {
  return withTimeout(c, async (signal) => {
    const s = await tcpConnect(c.real.address, c.port, signal);
    try {
      const banner = await smtpReply(s);
      if (!banner.startsWith('2')) return down(`banner ${JSON.stringify(banner.trim())}`);
      s.write(`EHLO ${c.hostname}\r\n`);
      await smtpReply(s);
      s.write('QUIT\r\n');
      return up(banner.trim());
    } finally {
      s.destroy();
    }
  });
}
