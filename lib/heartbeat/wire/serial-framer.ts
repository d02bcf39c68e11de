/**
 * Finds classic messages in the byte stream of a serial link, the way the
 * original's serial plugin reads it: line by line, skipping lines until one
 * starting with `>>>`, then collecting lines up to one starting with `<<<`.
 * Pure (zwave-js style: framing apart from port I/O): the transport pushes
 * whatever chunks the tty gives and gets whole messages back, to decode and
 * verify like any packet. Memory is bounded: a message (or a junk line)
 * growing past the limit is dropped and counted.
 */
import { concatBytes, hasAt } from './bytes.js';
import { MAX_WIRE_MESSAGE_BYTES } from './limits.js';

const NL = 0x0a;

export interface SerialFramerStats {
  /** Bytes skipped outside messages (line noise, a peer's half-sent message at our start). */
  skippedBytes: number;
  /** Messages dropped for exceeding the size limit. */
  oversized: number;
}

export class SerialFramer {
  private readonly maxBytes: number;
  /** Bytes of the line being read (not yet terminated). */
  private line: Uint8Array[] = [];
  private lineLength = 0;
  /** Complete lines of the message being collected; undefined while skipping. */
  private message: Uint8Array[] | undefined;
  private messageLength = 0;
  /** The current line is being thrown away (it overflowed). */
  private discardingLine = false;
  readonly stats: SerialFramerStats = { skippedBytes: 0, oversized: 0 };

  constructor(opts: { maxMessageBytes?: number } = {}) {
    this.maxBytes = opts.maxMessageBytes ?? MAX_WIRE_MESSAGE_BYTES;
  }

  /** Feeds received bytes; returns the messages they completed, each `>>>…\n` through `<<<…\n`. */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NL, start);
      const end = nl < 0 ? chunk.length : nl + 1;
      this.appendToLine(chunk.subarray(start, end));
      if (nl >= 0) {
        const done = this.endLine();
        if (done !== undefined) out.push(done);
      }
      start = end;
    }
    return out;
  }

  private appendToLine(part: Uint8Array): void {
    if (this.discardingLine) {
      this.stats.skippedBytes += part.length;
      return;
    }
    this.line.push(part.slice());
    this.lineLength += part.length;
    if (this.messageLength + this.lineLength > this.maxBytes) {
      if (this.message !== undefined) this.stats.oversized++;
      this.stats.skippedBytes += this.messageLength + this.lineLength;
      this.message = undefined;
      this.messageLength = 0;
      this.line = [];
      this.lineLength = 0;
      this.discardingLine = true;
    }
  }

  /** A `\n` arrived: the line is complete. Returns a finished message, if any. */
  private endLine(): Uint8Array | undefined {
    if (this.discardingLine) {
      this.discardingLine = false;
      return undefined;
    }
    const line = concatBytes(this.line);
    this.line = [];
    this.lineLength = 0;
    if (this.message === undefined) {
      if (hasAt(line, 0, '>>>')) {
        this.message = [line];
        this.messageLength = line.length;
      } else this.stats.skippedBytes += line.length;
      return undefined;
    }
    this.message.push(line);
    this.messageLength += line.length;
    if (!hasAt(line, 0, '<<<')) return undefined;
    const done = concatBytes(this.message);
    this.message = undefined;
    this.messageLength = 0;
    return done;
  }
}
