/**
 * Puts a tty into the mode serial.c sets with termios: the speed, 8N1,
 * CLOCAL, CREAD, RTS/CTS flow control, raw, and on input ISTRIP (the 8th bit
 * is stripped) and IGNCR. We run stty(1) rather than bind termios natively:
 * it is in coreutils on every Debian system, runs once per device at start,
 * and keeps the daemon free of a compiled dependency.
 */
import { execFile } from 'node:child_process';
import { MediaError, MediaErrorCode } from './errors.js';

/** `raw` first: it clears istrip, so the input flags of the original come after it. */
export const sttyArgs = (device: string, baud: number): string[] => [
  '-F',
  device,
  String(baud),
  'raw',
  '-echo',
  'cs8',
  '-parenb',
  '-cstopb',
  'clocal',
  'cread',
  'crtscts',
  'istrip',
  'igncr',
];

const STTY_TIMEOUT_MS = 5000;

export function configureTty(device: string, baud: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('stty', sttyArgs(device, baud), { timeout: STTY_TIMEOUT_MS }, (e, _stdout, stderr) => {
      if (e === null) resolve();
      else reject(new MediaError(MediaErrorCode.OpenFailed, `stty failed: ${String(stderr).trim() || e.message}`, { medium: device, cause: e }));
    });
  });
}
