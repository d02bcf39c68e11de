/**
 * glibc getopt(3) as cl_status calls it: `getopt(argc-1, argv+1, optstr)`, so
 * the sub-command is argv[0] and names the diagnostics. Default (permuting)
 * mode: options may follow operands; `--` ends options; clusters like `-mv`
 * and `-pNAME` work. Parsing is done up front; each `?` carries the message
 * glibc would print when getopt returned it, so a caller that stops at the
 * first `?` prints exactly what cl_status prints.
 */

export type GetoptEvent = { readonly opt: string; readonly arg?: string } | { readonly opt: '?'; readonly message: string };

export interface GetoptResult {
  readonly events: readonly GetoptEvent[];
  /** Operands in order (what argv[optind...] holds after permutation). */
  readonly operands: readonly string[];
}

export function getopt(prog: string, args: readonly string[], optstr: string): GetoptResult {
  const events: GetoptEvent[] = [];
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a.length === 1) {
      operands.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      const at = c === ':' ? -1 : optstr.indexOf(c);
      if (at < 0) {
        events.push({ opt: '?', message: `${prog}: invalid option -- '${c}'\n` });
        continue;
      }
      if (optstr[at + 1] !== ':') {
        events.push({ opt: c });
        continue;
      }
      if (j + 1 < a.length) events.push({ opt: c, arg: a.slice(j + 1) });
      else if (i + 1 < args.length) events.push({ opt: c, arg: args[++i]! });
      else events.push({ opt: '?', message: `${prog}: option requires an argument -- '${c}'\n` });
      break;
    }
  }
  return { events, operands };
}
