/**
 * drbdadm ↔ drbdd control messages: one JSON object per line over the Unix socket
 * `<run-dir>/control`. Pure types and a line splitter.
 */
import type { ResourceSpec } from './spec.js';
import type { ResourceSnapshot } from './status.js';

export type ControlRequest =
  | { readonly op: 'ping' }
  | { readonly op: 'snapshot' }
  | { readonly op: 'proc' }
  | { readonly op: 'attach' | 'connect' | 'up' | 'adjust'; readonly spec: ResourceSpec }
  | { readonly op: 'detach' | 'disconnect' | 'down' | 'secondary' | 'outdate' | 'invalidate' | 'invalidate-remote' | 'verify' | 'pause-sync' | 'resume-sync'; readonly res: string; readonly force?: boolean }
  | { readonly op: 'primary'; readonly res: string; readonly force: boolean };

export type ControlResponse =
  | { readonly ok: true; readonly resources?: readonly ResourceSnapshot[]; readonly text?: string; readonly messages?: readonly string[] }
  | { readonly ok: false; readonly exit: number; readonly message: string };

/** Splits a byte stream into lines (bounded: a line longer than 1 MiB is an error). */
export class LineSplitter {
  private buf = '';
  push(chunk: string): string[] {
    this.buf += chunk;
    if (this.buf.length > 1 << 20) throw new Error('control line too long');
    const parts = this.buf.split('\n');
    this.buf = parts.pop()!;
    return parts.filter((l) => l.trim() !== '');
  }
}
