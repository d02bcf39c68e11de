/** Errors of the heartbeat daemon shell; stable codes for tests and exit-status mapping. */
import { HbError } from '../../shared/errors.js';

export const DaemonErrorCode = {
  /** The hb_generation file cannot be written (the original refuses to start then). */
  Generation: 'HB_GENERATION',
  /** The hb_uuid file cannot be read or created. */
  Uuid: 'HB_UUID',
  /** The configuration asks for something this daemon cannot do (kept for such cases; every ha.cf medium is supported). */
  Unsupported: 'HB_UNSUPPORTED',
  /** The media could not be opened. */
  Media: 'HB_MEDIA',
} as const;
export type DaemonErrorCode = (typeof DaemonErrorCode)[keyof typeof DaemonErrorCode];

export class DaemonError extends HbError {
  constructor(code: DaemonErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'DaemonError';
  }
}
