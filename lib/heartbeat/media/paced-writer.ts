/**
 * serial.c writes long frames in 512-byte chunks with a pause of
 * 512 / (baud / 8) seconds between them, so a slow line is never handed more
 * than it can carry; we keep that pacing. The queue is bounded: a link whose
 * other end stopped reading drops new packets instead of growing memory.
 */
import { MAX_SERIAL_BACKLOG_BYTES, SERIAL_CHUNK_BYTES } from './limits.js';

export interface ChunkSink {
  write(chunk: Uint8Array): void;
  /** Bytes written but not yet taken by the device. */
  readonly pendingBytes: number;
}

export class PacedWriter {
  readonly #sink: ChunkSink;
  readonly #pauseMs: number;
  readonly #maxBacklog: number;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(sink: ChunkSink, baud: number, maxBacklog = MAX_SERIAL_BACKLOG_BYTES) {
    this.#sink = sink;
    this.#pauseMs = (SERIAL_CHUNK_BYTES * 1000) / (baud / 8);
    this.#maxBacklog = maxBacklog;
  }

  get backlogBytes(): number {
    return this.#queuedBytes + this.#sink.pendingBytes;
  }

  /** Queues a frame; false (nothing queued) when the backlog is full. */
  write(frame: Uint8Array): boolean {
    if (this.#stopped) return false;
    if (this.backlogBytes + frame.length > this.#maxBacklog) return false;
    for (let i = 0; i < frame.length; i += SERIAL_CHUNK_BYTES) this.#queue.push(frame.subarray(i, i + SERIAL_CHUNK_BYTES));
    this.#queuedBytes += frame.length;
    if (this.#timer === undefined) this.#pump();
    return true;
  }

  #pump(): void {
    this.#timer = undefined;
    while (!this.#stopped) {
      const chunk = this.#queue.shift();
      if (chunk === undefined) return;
      this.#queuedBytes -= chunk.length;
      this.#sink.write(chunk);
      // Only a full chunk is followed by a pause: a short one ends a frame, and the next frame may follow at once.
      if (chunk.length === SERIAL_CHUNK_BYTES && this.#queue.length > 0) {
        this.#timer = setTimeout(() => this.#pump(), this.#pauseMs);
        return;
      }
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
    this.#queuedBytes = 0;
  }
}
