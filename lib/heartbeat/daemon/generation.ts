/**
 * The node's incarnation number (`hg`) and UUID, persisted in the state
 * directory in the original's formats (heartbeat-wire.md §4.1, hb_uuid):
 * a restarted node must come back with a higher generation, or its peers
 * take its packets for replays and later for a healed partition.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DaemonError, DaemonErrorCode } from './errors.js';

export const GENERATION_FILE = 'hb_generation';
export const UUID_FILE = 'hb_uuid';

/** `"%15lu\n"`: exactly 16 bytes. */
export function formatGeneration(g: number): string {
  return `${String(g).padStart(15, ' ')}\n`;
}

/** The stored number, or undefined when the text is not one (then the original starts from time(NULL)). */
export function parseGeneration(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d{1,15}$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : undefined;
}

export type GenerationMethod = 'file' | 'time';

/**
 * IncrGeneration: read, add one, write back and sync before we send anything.
 * `time` method: the wall clock in seconds, no file. A missing or garbled
 * file starts from the wall clock, as the original does.
 */
export function raiseGeneration(stateDir: string, method: GenerationMethod, nowSeconds: number = Math.floor(Date.now() / 1000), onNoPrevious?: (start: number) => void): number {
  if (method === 'time') return nowSeconds;
  const file = path.join(stateDir, GENERATION_FILE);
  let previous: number | undefined;
  try {
    previous = parseGeneration(fs.readFileSync(file, 'latin1'));
  } catch {
    previous = undefined;
  }
  if (previous === undefined) onNoPrevious?.(nowSeconds);
  const next = (previous ?? nowSeconds) + 1;
  try {
    fs.mkdirSync(stateDir, { recursive: true });
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_SYNC, 0o644);
    try {
      fs.writeSync(fd, formatGeneration(next));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    throw new DaemonError(DaemonErrorCode.Generation, `Cannot write generation file ${file}: ${(e as Error).message}`, { cause: e });
  }
  return next;
}

/** hb_uuid: 16 raw bytes, created once; a file of another size is replaced (peers then log "changed its uuid"). */
export function loadOrCreateUuid(stateDir: string): Uint8Array {
  const file = path.join(stateDir, UUID_FILE);
  try {
    const b = fs.readFileSync(file);
    if (b.length === 16) return new Uint8Array(b);
  } catch {
    // none yet
  }
  const uuid = new Uint8Array(randomBytes(16));
  uuid[6] = (uuid[6]! & 0x0f) | 0x40; // a version 4 UUID, like uuid_generate
  uuid[8] = (uuid[8]! & 0x3f) | 0x80;
  try {
    fs.mkdirSync(stateDir, { recursive: true });
    fs.writeFileSync(file, uuid, { mode: 0o644 });
  } catch (e) {
    throw new DaemonError(DaemonErrorCode.Uuid, `Cannot write ${file}: ${(e as Error).message}`, { cause: e });
  }
  return uuid;
}
