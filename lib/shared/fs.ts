import * as fs from 'node:fs';
import * as path from 'node:path';
import { HbError } from './errors.js';

/**
 * What a config parser may ask of the file system. Parsers take this instead of
 * touching `fs`, so they stay pure and tests can hand them an in-memory tree.
 */
export interface ConfigFs {
  /** The file's bytes; throws HbError code `ENOENT` or `EIO`. */
  readFile(file: string): Uint8Array;
  /** Paths matching a shell glob (`*`, `?`, `[...]` per path segment), sorted. */
  glob(pattern: string): string[];
  /** Permission bits and owner, for files that must not be world-readable. */
  stat(file: string): { mode: number; uid: number } | undefined;
}

/** Translates one glob segment to an anchored RegExp. */
export function globSegmentToRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += '[' + body.replace(/\\/g, '\\\\') + ']';
      i = close;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp('^' + re + '$');
}

const hasMagic = (s: string): boolean => /[*?[]/.test(s);

export function globWith(
  pattern: string,
  readdir: (dir: string) => string[] | undefined,
  exists: (p: string) => boolean,
): string[] {
  const abs = pattern.startsWith('/');
  const segments = pattern.split('/').filter((s) => s !== '');
  let current: string[] = [abs ? '/' : '.'];
  for (const seg of segments) {
    const next: string[] = [];
    for (const dir of current) {
      if (!hasMagic(seg)) {
        next.push(path.join(dir, seg));
        continue;
      }
      const re = globSegmentToRegExp(seg);
      for (const name of readdir(dir) ?? []) {
        if (name.startsWith('.') && !seg.startsWith('.')) continue;
        if (re.test(name)) next.push(path.join(dir, name));
      }
    }
    current = next;
  }
  const out = current.filter(exists).map((p) => (abs ? p : pattern.startsWith('./') ? './' + path.normalize(p) : path.normalize(p)));
  return [...new Set(out)].sort();
}

export const nodeConfigFs: ConfigFs = {
  readFile(file) {
    try {
      return fs.readFileSync(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'ENOENT' : 'EIO';
      throw new HbError(code, `cannot read ${file}: ${(e as Error).message}`, { cause: e });
    }
  },
  glob(pattern) {
    return globWith(
      pattern,
      (dir) => {
        try {
          return fs.readdirSync(dir);
        } catch {
          return undefined;
        }
      },
      (p) => fs.existsSync(p),
    );
  },
  stat(file) {
    try {
      const st = fs.statSync(file);
      return { mode: st.mode, uid: st.uid };
    } catch {
      return undefined;
    }
  },
};

/** An in-memory ConfigFs for tests and for parsing text that came from elsewhere. */
export function memoryConfigFs(files: Record<string, string | Uint8Array>, modes: Record<string, number> = {}): ConfigFs {
  const norm = (p: string) => path.normalize(p);
  const table = new Map(Object.entries(files).map(([k, v]) => [norm(k), v]));
  return {
    readFile(file) {
      const v = table.get(norm(file));
      if (v === undefined) throw new HbError('ENOENT', `cannot read ${file}: no such file`);
      return typeof v === 'string' ? new TextEncoder().encode(v) : v;
    },
    glob(pattern) {
      return globWith(
        pattern,
        (dir) => {
          const d = norm(dir);
          const prefix = d === '/' ? '/' : d + '/';
          const names = new Set<string>();
          for (const k of table.keys()) if (k.startsWith(prefix)) names.add(k.slice(prefix.length).split('/')[0]!);
          return [...names];
        },
        (p) => {
          const n = norm(p);
          return table.has(n) || [...table.keys()].some((k) => k.startsWith(n + '/'));
        },
      ).filter((p) => table.has(norm(p)));
    },
    stat(file) {
      return table.has(norm(file)) ? { mode: 0o100000 | (modes[norm(file)] ?? 0o600), uid: 0 } : undefined;
    },
  };
}
