/**
 * haresources parser. Heartbeat 3.0.6 reads this file twice, differently
 * (resources-spec §1.1): the daemon's C validator only checks node names and
 * decides whether heartbeat starts; ResourceManager's shell pipeline decides
 * which resources run. We run both: the first gives the errors, the second
 * the groups, and the places where users get surprised become warnings.
 */
import { ConfigError, type ConfigWarning, type Diagnostic, diagnosticsFor } from '../../shared/errors.js';
import type { ConfigFs } from '../../shared/fs.js';
import { didYouMean } from '../../shared/suggest.js';
import { decodeConfigBytes } from '../../shared/text.js';
import { EXIT_NOT_CONFIGURED, type Collected, type ParseResult } from '../hacf/result.js';

export interface Resource {
  /** The token as written (the group key, when first). */
  readonly token: string;
  /** Script name looked up in resource.d then init.d. */
  readonly script: string;
  /** Arguments passed before the action (start/stop/status). */
  readonly args: readonly string[];
  /** A bare IP address, run as IPaddr::TOKEN. */
  readonly ipShorthand: boolean;
}

export interface ResourceGroup {
  /** Owner node, lowercased as ResourceManager does. */
  readonly node: string;
  /** The first resource token exactly as written; what flows in cluster messages. */
  readonly key: string;
  readonly resources: readonly Resource[];
  /** First physical line of the group. */
  readonly line: number;
}

export interface Haresources {
  readonly groups: readonly ResourceGroup[];
}

export interface HaresourcesOptions {
  /** Node names declared in ha.cf (any case); when given, each group's node must be one of them. */
  readonly nodes?: readonly string[];
  /** When given, resource scripts it does not find are warned about. */
  readonly scriptExists?: (name: string) => boolean;
}

/** `[0-9]*.[0-9]*.[0-9]*.[0-9]*` as a shell glob: ResourceManager's IP shorthand test. */
const IP_SHORTHAND = /^[0-9].*\.[0-9].*\.[0-9].*\.[0-9]/s;

/** Splits one resource token the way ResourceManager does. */
export function parseResourceToken(token: string): Resource {
  if (IP_SHORTHAND.test(token)) return { token, script: 'IPaddr', args: [token], ipShorthand: true };
  const sep = token.indexOf('::');
  if (sep < 0) return { token, script: token, args: [], ipShorthand: false };
  const args = token
    .slice(sep + 2)
    .split('::')
    .join(' ')
    .split(' ')
    .filter((a) => a !== '');
  return { token, script: token.slice(0, sep), args, ipShorthand: false };
}

const C_WHITESPACE = /[ \t\n\r\f]/;

export function collectHaresources(input: Uint8Array | string, file: string, opts: HaresourcesOptions = {}): Collected<Haresources> {
  const { errors, warnings, err, warn } = diagnosticsFor(file);

  const text = decodeConfigBytes(input);
  const raw = text.split('\n');
  /** Whether physical line i ended with a newline (fgets semantics matter for `\` at EOF). */
  const endsWithNewline = text.endsWith('\n');
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  const hasNewline = (i: number) => i < raw.length - 1 || endsWithNewline;
  const known = opts.nodes ? new Set(opts.nodes.map((n) => n.toLowerCase())) : undefined;

  const blanksAfterBackslash = new Set<number>();
  for (let i = 0; i < raw.length; i++) if (/\\[ \t]+\r?$/.test(raw[i]!)) blanksAfterBackslash.add(i);

  // Pass 1, the daemon's validator: the first word of each group must be a declared node.
  for (let i = 0; i < raw.length; i++) {
    const body = raw[i]!.replace(/^[ \t\n\r\f]+/, '');
    if (body === '' || body.startsWith('#')) continue;
    const end = body.search(C_WHITESPACE);
    const token = end < 0 ? body : body.slice(0, end);
    if (known && !known.has(token.toLowerCase())) {
      const prev = i > 0 ? raw[i - 1]! : '';
      let why = '';
      if (blanksAfterBackslash.has(i - 1)) why = `; line ${i} ends with a backslash followed by blanks, which does not continue a line`;
      else if (prev.endsWith('\\\r')) why = `; line ${i} ends with a backslash before a CR (CRLF line end), which does not continue a line`;
      else if (i > 1 && /^\s*#/.test(prev) && raw[i - 2]!.endsWith('\\')) why = `; the comment on line ${i} ended the continuation of line ${i - 1}`;
      else {
        const hint = didYouMean(token, known);
        if (hint) why = `; did you mean ${hint}?`;
      }
      err(i + 1, 'HARES_BAD_NODE', `bad node name [${token}]: not declared by a node line in ha.cf${why}`, token);
    }
    // The validator skips continuation lines while the character before the newline is a backslash.
    while (i < raw.length && hasNewline(i) && raw[i]!.endsWith('\\')) i++;
  }

  // Pass 2, ResourceManager's pipeline: cut comments, join `\` lines raw, split on blanks.
  const groups: ResourceGroup[] = [];
  let sawCr = false;
  for (let i = 0; i < raw.length; i++) {
    const start = i;
    let logical = raw[i]!;
    const hash = logical.indexOf('#');
    if (hash >= 0) logical = logical.slice(0, hash);
    while (logical.endsWith('\\') && i + 1 < raw.length) {
      i++;
      const next = raw[i]!;
      if (next.includes('#')) {
        warn(i + 1, 'HARES_COMMENT_IN_CONTINUATION', `a # on a continuation line is not a comment: its words become resources of the group of line ${start + 1}`, '#');
      }
      logical = logical.slice(0, -1) + next;
    }
    if (logical.endsWith('\\')) logical = logical.slice(0, -1);
    if (blanksAfterBackslash.has(i)) {
      warn(i + 1, 'HARES_BACKSLASH_BLANKS', 'a backslash followed by blanks does not continue the line; remove the trailing blanks', '\\');
    }
    // The shell would keep a CR inside the words (script "httpd\r" is then not found);
    // we take it as a blank, as the daemon's validator does.
    if (logical.includes('\r')) sawCr = true;
    const words = logical.split(/[ \t\r]+/).filter((w) => w !== '');
    const [nodeWord, ...tokens] = words;
    if (nodeWord === undefined) continue;
    if (tokens.length === 0) {
      warn(start + 1, 'HARES_EMPTY_GROUP', `node ${nodeWord} has no resources on this line`, nodeWord);
      continue;
    }
    const resources = tokens.map(parseResourceToken);
    groups.push({ node: nodeWord.toLowerCase(), key: tokens[0]!, resources, line: start + 1 });
  }
  if (sawCr) warn(0, 'HARES_CRLF', 'CRLF line ends: the original keeps the CR in the last resource of each line (and a backslash before CR does not continue); convert the file to LF');

  // Resource checks.
  for (const g of groups) {
    for (const r of g.resources) {
      if (r.script.includes('/') || r.script === '') {
        warn(g.line, 'HARES_BAD_SCRIPT', `resource script name [${r.script}] must be a bare file name from resource.d or init.d`, r.token);
      } else if (opts.scriptExists && !opts.scriptExists(r.script)) {
        warn(g.line, 'HARES_SCRIPT_NOT_FOUND', `cannot locate resource script ${r.script} in resource.d or /etc/init.d`, r.token);
      }
      if (/^IPv6addr$/i.test(r.script) && r.args.length > 1) {
        warn(g.line, 'HARES_IPV6_SPLIT', `[${r.token}]: "::" separates arguments, so the IPv6 address is split into ${r.args.join(' ')}; write it fully expanded`, r.token);
      }
      if (r.args.some((a) => /[*?[]/.test(a))) {
        warn(g.line, 'HARES_GLOB_IN_ARG', `[${r.token}]: the shell expands *, ? and [ in arguments against files in heartbeat's working directory`, r.token);
      }
    }
  }
  // Keys are looked up as " KEY " anywhere in the file: a key must not appear in another line.
  for (const g of groups) {
    const other = groups.find((o) => o !== g && o.resources.some((r) => r.token === g.key));
    if (other) {
      warn(g.line, 'HARES_DUPLICATE_KEY', `group key [${g.key}] also appears on line ${other.line}; takeover by key would act on both lines`, g.key);
    }
  }

  if (errors.length > 0) return { errors, warnings };
  return { config: { groups }, errors, warnings };
}

/** Parses haresources; throws ConfigError (exit status 6, as heartbeat) for undeclared node names. */
export function parseHaresources(input: Uint8Array | string, file: string, opts: HaresourcesOptions = {}): ParseResult<Haresources> {
  const r = collectHaresources(input, file, opts);
  if (!r.config) throw new ConfigError(r.errors, EXIT_NOT_CONFIGURED);
  return { config: r.config, warnings: r.warnings };
}

/**
 * ResourceManager's script lookup: `HA_DIR/resource.d/NAME`, then
 * `/etc/init.d/NAME`; the first that is a regular, executable file wins.
 */
export function scriptLookup(fs: ConfigFs, haDir: string, initDir = '/etc/init.d'): (name: string) => boolean {
  const ok = (p: string) => {
    const st = fs.stat(p);
    return st !== undefined && (st.mode & 0o170000) === 0o100000 && (st.mode & 0o111) !== 0;
  };
  return (name) => ok(`${haDir.replace(/\/+$/, '')}/resource.d/${name}`) || ok(`${initDir}/${name}`);
}
