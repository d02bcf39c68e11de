/**
 * Keeps secrets out of every log line: authkeys keys, ldirectord passwd/secret,
 * drbd shared-secret. Known secret values (registered when a config is read)
 * are blanked wherever they appear; patterns catch the usual `name=value`
 * spellings even for values we were never told about.
 */
export const REDACTED = '********';

const PATTERNS: readonly RegExp[] = [
  // ldirectord.cf and friends: passwd="x", secret=x, password=x, key=x
  /\b(passwd|password|secret|key)(\s*=\s*)("[^"]*"|'[^']*'|[^\s,;]+)/gi,
  // drbd.conf: shared-secret "x"; / shared-secret x;
  /\b(shared-secret)(\s+)("[^"]*"|[^\s;]+)/gi,
  // authkeys: `1 sha1 key` / `2 md5 key`
  /(\b\d+\s+(?:sha1|md5))(\s+)(\S+)/gi,
];

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers a value that must never be printed (ignored when empty). */
  addSecret(value: string): void {
    if (value.length > 0) this.secrets.add(value);
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret containing another is blanked whole.
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join(REDACTED);
    for (const re of PATTERNS) out = out.replace(re, (_m, name: string, sep: string) => `${name}${sep}${REDACTED}`);
    return out;
  }
}
