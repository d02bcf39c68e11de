/**
 * Polls `cond` every 10 ms until it holds, failing after `ms`: a bounded wait
 * on an observable condition (a file appears, a process is gone), never a
 * fixed sleep standing in for synchronisation.
 */
export async function waitFor(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
