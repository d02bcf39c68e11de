/**
 * monitorfile lines (spec §6.10): `[<localtime>] [<pid>] <real id with ':'
 * as spaces> [up|down] <message>`; `%`, `|`, CR and LF in the message are
 * %-escaped so one event stays one line.
 */
import type { RealServer, VirtualService } from '../../config/ldirectord/model.js';
import { perlLocaltime } from '../../shared/log/clock.js';
import { checkId } from '../director/targets.js';

function escape(text: string): string {
  return text.replace(/[%|\r\n]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function monitorLine(time: Date, pid: number, v: VirtualService, r: RealServer, up: boolean, message: string): string {
  const id = checkId(v, r).replaceAll(':', ' ').replaceAll('\\', '');
  return `[${perlLocaltime(time.getTime())}] [${pid}] ${id} ${up ? 'up' : 'down'} ${escape(message === '' ? '-' : message)}`;
}
