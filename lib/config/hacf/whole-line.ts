/**
 * The whole-line directives of config.c's WLdirectives[] (respawn, failfast,
 * apiauth, stonith, stonith_host): the rest of the line is one argument, split
 * on blanks only. Pure functions; the caller adds line numbers and duplicates checks.
 */

export interface LineProblem {
  readonly code: string;
  readonly message: string;
  readonly token: string;
}
export type Parsed<T> = { readonly value: T } | { readonly error: LineProblem };

const problem = (code: string, message: string, token: string): { error: LineProblem } => ({ error: { code, message, token } });

/** Text of `rest` from the first occurrence of `word` on, trimmed. */
function fromWord(rest: string, word: string): string {
  return rest.slice(rest.indexOf(word)).trim();
}

/** `respawn|failfast USER /abs/program [args]`. */
export function parseClientChild(directive: string, rest: string, words: readonly string[]): Parsed<{ user: string; command: string; path: string }> {
  const [user, cmd] = words;
  if (user === undefined || cmd === undefined) {
    return problem('HACF_BAD_CLIENT', `${directive} needs a user and an absolute command path`, user ?? directive);
  }
  if (!cmd.startsWith('/')) return problem('HACF_BAD_CLIENT', `client child command [${cmd}] is not a full pathname`, cmd);
  const afterUser = rest.slice(rest.indexOf(user) + user.length);
  return { value: { user, command: fromWord(afterUser, cmd), path: cmd } };
}

/** `apiauth CLIENT [uid=a,b] [gid=c,d]`: at least one list, each at most once. */
export function parseApiAuth(words: readonly string[]): Parsed<{ client: string; uids: string[]; gids: string[] }> {
  const [client, ...specs] = words;
  if (client === undefined) return problem('HACF_BAD_APIAUTH', 'apiauth needs a client name and uid=LIST and/or gid=LIST', 'apiauth');
  let uids: string[] | undefined;
  let gids: string[] | undefined;
  for (const s of specs) {
    const kind = s.startsWith('uid=') ? 'uid' : s.startsWith('gid=') ? 'gid' : undefined;
    if (kind === undefined) return problem('HACF_BAD_APIAUTH', `missing uid= or gid= in apiauth ${client}: [${s}]`, s);
    if ((kind === 'uid' ? uids : gids) !== undefined) return problem('HACF_BAD_APIAUTH', `duplicate ${kind} list in apiauth ${client}`, s);
    const list = s.slice(4).split(',').filter((x) => x !== '');
    if (list.length === 0) return problem('HACF_BAD_APIAUTH', `empty ${kind} list in apiauth ${client}`, s);
    if (kind === 'uid') uids = list;
    else gids = list;
  }
  if (!uids && !gids) return problem('HACF_BAD_APIAUTH', `apiauth ${client} needs uid=LIST and/or gid=LIST`, client);
  return { value: { client, uids: uids ?? [], gids: gids ?? [] } };
}

/** `stonith TYPE CONFIG-FILE`. */
export function parseStonith(rest: string, words: readonly string[]): Parsed<{ type: string; configFile: string }> {
  const [type, file] = words;
  if (type === undefined) return problem('HACF_BAD_STONITH', 'no STONITH type given', 'stonith');
  if (file === undefined) return problem('HACF_BAD_STONITH', `stonith ${type} needs a configuration file`, type);
  return { value: { type, configFile: fromWord(rest.slice(rest.indexOf(type) + type.length), file) } };
}

/** `stonith_host HOST|* TYPE PARAMS...`; the host is lowercased. */
export function parseStonithHost(rest: string, words: readonly string[]): Parsed<{ host: string; type: string; params: string }> {
  const [host, type] = words;
  if (host === undefined) return problem('HACF_BAD_STONITH', 'no STONITH hostname given', 'stonith_host');
  if (type === undefined) return problem('HACF_BAD_STONITH', `stonith_host ${host}: no STONITH type given`, host);
  const afterHost = rest.slice(rest.indexOf(host) + host.length);
  const params = afterHost.slice(afterHost.indexOf(type) + type.length).trim();
  return { value: { host: host === '*' ? '*' : host.toLowerCase(), type, params } };
}
