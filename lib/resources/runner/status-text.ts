/**
 * How ResourceManager judges `status` (resources-spec §1.6): stdout only, exit
 * code ignored, shell `case` patterns, first match wins. Reproduced as is,
 * pitfalls included (`BROKEN` contains OK), because admins' scripts rely on it.
 */
const NOT_RUNNING = /[Nn][Oo][Tt] .*[Rr]unning/s; // *[Nn][Oo][Tt]\ *[Rr]unning*
const RUNNING = /[Rr]unning|OK/;

export function statusSaysRunning(stdout: string): boolean {
  if (NOT_RUNNING.test(stdout)) return false;
  return RUNNING.test(stdout);
}
