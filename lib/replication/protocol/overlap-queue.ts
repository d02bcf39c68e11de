/**
 * Orders I/O on overlapping byte ranges: an operation starts only after
 * every earlier operation on an overlapping range has finished; operations
 * on disjoint ranges run concurrently. This is what keeps a resync reply
 * from overtaking a newer application write to the same block (on the
 * source and on the target alike).
 */
interface Entry {
  readonly start: number;
  readonly end: number;
  readonly done: Promise<void>;
}

export class OverlapQueue {
  private readonly active = new Set<Entry>();

  get size(): number {
    return this.active.size;
  }

  run<T>(start: number, end: number, fn: () => Promise<T>): Promise<T> {
    const deps: Promise<void>[] = [];
    for (const e of this.active) if (e.start < end && start < e.end) deps.push(e.done);
    let release!: () => void;
    const entry: Entry = { start, end, done: new Promise<void>((r) => (release = r)) };
    this.active.add(entry);
    let p: Promise<T>;
    try {
      p = deps.length === 0 ? fn() : Promise.all(deps).then(fn);
    } catch (e) {
      p = Promise.reject(e);
    }
    const finish = (): void => {
      this.active.delete(entry);
      release();
    };
    p.then(finish, finish);
    return p;
  }

  /** Resolves when everything queued so far has finished. */
  async drain(): Promise<void> {
    await Promise.all([...this.active].map((e) => e.done));
  }
}
