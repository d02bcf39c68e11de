/**
 * Cuts the byte stream of a serial link into classic frames, as serial.c
 * reads it: lines ending in `\n`; everything up to a `>>>` line is skipped;
 * the frame is the `>>>` line through the next `<<<` line. A frame (or a line
 * outside one) longer than the bound is thrown away and the reader waits for
 * the next `>>>`, so a peer sending garbage cannot make us buffer without end.
 */
import { MAX_WIRE_MESSAGE_BYTES } from '../wire/index.js';

const NL = 0x0a;
const START = Buffer.from('>>>\n', 'latin1');
const END = Buffer.from('<<<\n', 'latin1');

export interface FramerCounters {
  /** Bytes outside any frame, and of frames thrown away. */
  discardedBytes: number;
  /** Frames longer than the bound. */
  oversizedFrames: number;
}

export class ClassicFrameReader {
  readonly maxFrameBytes: number;
  readonly counters: FramerCounters = { discardedBytes: 0, oversizedFrames: 0 };
  /** Bytes of the current (unfinished) line. */
  #line: Buffer[] = [];
  #lineBytes = 0;
  /** Completed lines of the current frame; undefined while looking for `>>>`. */
  #frame: Buffer[] | undefined;
  #frameBytes = 0;
  /** The current line is too long: skip to its end. */
  #skippingLine = false;

  constructor(maxFrameBytes = MAX_WIRE_MESSAGE_BYTES) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Feeds bytes; returns the frames they complete, each from `>>>\n` through `<<<\n`. */
  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    let pos = 0;
    while (pos < buf.length) {
      const nl = buf.indexOf(NL, pos);
      const end = nl < 0 ? buf.length : nl + 1;
      const piece = buf.subarray(pos, end);
      pos = end;
      if (this.#skippingLine) {
        this.counters.discardedBytes += piece.length;
        if (nl >= 0) this.#skippingLine = false;
        continue;
      }
      // Copy: the caller's chunk may be reused.
      this.#line.push(Buffer.from(piece));
      this.#lineBytes += piece.length;
      if (this.#frameBytes + this.#lineBytes > this.maxFrameBytes) {
        this.#overflow(nl >= 0);
        continue;
      }
      if (nl < 0) break;
      const line = this.#line.length === 1 ? this.#line[0]! : Buffer.concat(this.#line);
      this.#line = [];
      this.#lineBytes = 0;
      const frame = this.#takeLine(line);
      if (frame !== undefined) frames.push(frame);
    }
    return frames;
  }

  #takeLine(line: Buffer): Uint8Array | undefined {
    if (this.#frame === undefined) {
      if (line.equals(START)) {
        this.#frame = [line];
        this.#frameBytes = line.length;
      } else this.counters.discardedBytes += line.length;
      return undefined;
    }
    if (line.equals(START)) {
      // A new start inside a frame: the old one was cut off (the peer restarted mid-frame).
      this.counters.discardedBytes += this.#frameBytes;
      this.#frame = [line];
      this.#frameBytes = line.length;
      return undefined;
    }
    this.#frame.push(line);
    this.#frameBytes += line.length;
    if (!line.equals(END)) return undefined;
    const frame = new Uint8Array(Buffer.concat(this.#frame));
    this.#frame = undefined;
    this.#frameBytes = 0;
    return frame;
  }

  #overflow(lineEnded: boolean): void {
    if (this.#frame !== undefined) this.counters.oversizedFrames++;
    this.counters.discardedBytes += this.#frameBytes + this.#lineBytes;
    this.#frame = undefined;
    this.#frameBytes = 0;
    this.#line = [];
    this.#lineBytes = 0;
    this.#skippingLine = !lineEnded;
  }
}
