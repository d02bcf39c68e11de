/**
 * Choosing a real for a new connection, as IPVS's schedulers do (pure, no
 * I/O): rr, wrr, lc, wlc, sh (and sed, nq as wlc-like variants). A weight
 * of 0 (quiescent) takes no new connections; `undefined` means no real can.
 */
export interface Candidate {
  readonly address: string;
  readonly weight: number;
  readonly active: number;
  readonly inactive: number;
}

export interface SchedulerState {
  /** rr/wrr position and wrr's current weight, per service. */
  index: number;
  currentWeight: number;
}

export const newSchedulerState = (): SchedulerState => ({ index: -1, currentWeight: 0 });

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** IPVS's connection overhead: active connections weigh 256 times an inactive one. */
const overhead = (c: Candidate): number => c.active * 256 + c.inactive;

/** A 32-bit hash of the client address (source hashing keeps a client on one real). */
export function addressHash(address: string): number {
  let h = 2166136261;
  for (let i = 0; i < address.length; i++) {
    h ^= address.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

export function schedule(scheduler: string, dests: readonly Candidate[], state: SchedulerState, client: string): Candidate | undefined {
  const live = dests.filter((d) => d.weight > 0);
  if (live.length === 0) return undefined;
  switch (scheduler) {
    case 'rr': {
      state.index = (state.index + 1) % live.length;
      return live[state.index];
    }
    case 'wrr': {
      // The IPVS wrr walk: step through the list, lowering the bar by the gcd of the weights each lap.
      const max = Math.max(...live.map((d) => d.weight));
      const step = live.map((d) => d.weight).reduce(gcd);
      for (;;) {
        state.index = (state.index + 1) % live.length;
        if (state.index === 0) {
          state.currentWeight -= step;
          if (state.currentWeight <= 0) state.currentWeight = max;
        }
        if (state.currentWeight > max) state.currentWeight = max;
        if (live[state.index]!.weight >= state.currentWeight) return live[state.index];
      }
    }
    case 'lc':
      return live.reduce((best, d) => (overhead(d) < overhead(best) ? d : best));
    case 'sh': {
      // Weighted: each real owns `weight` slots of the ring.
      const ring = live.flatMap((d) => Array<Candidate>(Math.min(d.weight, 256)).fill(d));
      return ring[addressHash(client) % ring.length];
    }
    case 'nq':
    case 'sed':
      return live.reduce((best, d) => ((d.active + 1) * best.weight < (best.active + 1) * d.weight ? d : best));
    case 'wlc':
    default:
      // wlc, and the default for schedulers we do not model (lblc, lblcr, dh, mh, fo, ovf): least overhead per weight.
      return live.reduce((best, d) => (overhead(d) * best.weight < overhead(best) * d.weight ? d : best));
  }
}
