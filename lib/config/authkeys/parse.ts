/**
 * authkeys parser: Heartbeat 3.0.6's parse_authfile as a pure function.
 * Keys never appear in a message, a warning, a dump or JSON: see AuthKey.
 */
import { ConfigError, type ConfigWarning, type Diagnostic, diagnosticsFor } from '../../shared/errors.js';
import type { ConfigFs } from '../../shared/fs.js';
import { didYouMean } from '../../shared/suggest.js';
import { decodeConfigBytes } from '../../shared/text.js';
import { EXIT_NOT_CONFIGURED, type Collected, type ParseResult } from '../hacf/result.js';

export type AuthMethod = 'crc' | 'md5' | 'sha1';
export const AUTH_METHODS: readonly AuthMethod[] = ['crc', 'md5', 'sha1'];
/** MAXAUTH: key indexes are 0-15. */
export const MAX_AUTH = 16;

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * A shared secret that does not print itself: JSON, console.log and string
 * conversion all show `(hidden)`. Only `reveal()` gives the bytes, for signing.
 */
export class AuthKey {
  readonly #text: string;
  constructor(text: string) {
    this.#text = text;
  }
  /** The key as the original uses it: the token's bytes (strlen), no decoding. */
  reveal(): string {
    return this.#text;
  }
  get length(): number {
    return this.#text.length;
  }
  toJSON(): string {
    return '(hidden)';
  }
  toString(): string {
    return '(hidden)';
  }
  [INSPECT](): string {
    return 'AuthKey (hidden)';
  }
}

export interface AuthEntry {
  readonly index: number;
  readonly method: AuthMethod;
  /** Undefined for crc, which takes no key. */
  readonly key: AuthKey | undefined;
  readonly line: number;
}

export interface Authkeys {
  /** The `auth N` index used to sign outgoing messages. */
  readonly activeIndex: number;
  readonly active: AuthEntry;
  /** Every configured index; incoming messages may use any of them. */
  readonly entries: readonly AuthEntry[];
}

export interface AuthkeysOptions {
  /** When given, the file's mode is checked (the original refuses a group- or world-readable file). */
  readonly fs?: ConfigFs;
  /** The path to stat, when it differs from the name used in messages. */
  readonly path?: string;
}

const LEADING_INT = /^[+-]?\d+/;

export function collectAuthkeys(input: Uint8Array | string, file: string, opts: AuthkeysOptions = {}): Collected<Authkeys> {
  const { errors, warnings, err, warn } = diagnosticsFor(file);

  if (opts.fs) {
    const st = opts.fs.stat(opts.path ?? file);
    if (st && (st.mode & 0o044) !== 0) {
      err(0, 'AUTHKEYS_BAD_PERMISSIONS', `Bad permissions on keyfile [${file}], 600 recommended.`, (st.mode & 0o777).toString(8));
    }
  }

  const entries = new Map<number, AuthEntry>();
  let authIndex: number | undefined;
  let authLine = 0;
  let active: AuthEntry | undefined;
  const lines = decodeConfigBytes(input).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const text = lines[i]!.replace(/^[ \t\n\r\f]+/, '');
    if (text === '' || text.startsWith('#')) continue;
    const words = text.split(/[ \t\r\f\v]+/).filter((w) => w !== '');
    if (text.startsWith('a')) {
      // The original reads any line starting with `a` as `auth %d`, ignoring what follows the number.
      const m = /^auth[ \t\r\f\v]*([+-]?\d+)/.exec(text);
      if (!m) {
        err(lineNo, 'AUTHKEYS_BAD_AUTH_LINE', `invalid auth line: expected "auth N" with N a key index`, words[0]);
        continue;
      }
      authIndex = Number(m[1]);
      authLine = lineNo;
      if (words.length > 2 && !words[2]!.startsWith('#')) warn(lineNo, 'AUTHKEYS_IGNORED', `words after "auth ${m[1]}" are ignored`, words[2]);
      continue;
    }
    const num = LEADING_INT.exec(text);
    // sscanf("%d%s%s"): the method may follow the digits without a blank.
    const after = num ? text.slice(num[0].length).split(/[ \t\r\f\v]+/).filter((w) => w !== '') : [];
    const method = after[0];
    if (!num || method === undefined) {
      // No token here: a stray word on its own line is often a key.
      err(lineNo, 'AUTHKEYS_BAD_LINE', 'invalid line: expected "auth N" or "N crc|md5|sha1 [key]"');
      continue;
    }
    const index = Number(num[0]);
    if (!Number.isSafeInteger(index) || index < 0 || index >= MAX_AUTH) {
      err(lineNo, 'AUTHKEYS_BAD_INDEX', `invalid key index [${num[0]}]: 0 to ${MAX_AUTH - 1} expected`, num[0]);
      continue;
    }
    if (!(AUTH_METHODS as readonly string[]).includes(method)) {
      const hint = didYouMean(method, AUTH_METHODS);
      err(lineNo, 'AUTHKEYS_BAD_METHOD', `invalid auth method [${method}]${hint ? `; did you mean ${hint}?` : ' (crc, md5 or sha1)'}`, method);
      continue;
    }
    const keyText = after[1];
    if (method === 'crc' && keyText !== undefined) {
      // Also what a comment after `N crc` turns into: the original reads `#` as the key.
      err(lineNo, 'AUTHKEYS_UNEXPECTED_KEY', `auth method [crc] doesn't use a key`, method);
      continue;
    }
    if (method !== 'crc' && keyText === undefined) {
      err(lineNo, 'AUTHKEYS_MISSING_KEY', `auth method [${method}] requires a key`, method);
      continue;
    }
    if (after.length > 2 && !after[2]!.startsWith('#')) {
      warn(lineNo, 'AUTHKEYS_KEY_TRUNCATED', `the key is one word: text after it is ignored (quotes are part of the key)`, method);
    } else if (keyText !== undefined && /^["']/.test(keyText)) {
      warn(lineNo, 'AUTHKEYS_KEY_QUOTED', 'the quote character is part of the key', method);
    }
    const prev = entries.get(index);
    if (prev) warn(lineNo, 'AUTHKEYS_DUPLICATE_INDEX', `key index ${index} is redefined (first on line ${prev.line})`, num[0]);
    const entry: AuthEntry = { index, method: method as AuthMethod, key: keyText === undefined ? undefined : new AuthKey(keyText), line: lineNo };
    entries.set(index, entry);
    // As the original: the outbound key is chosen when its line is read, so `auth N` must come first.
    if (index === authIndex) active = entry;
  }

  if (!active) {
    if (authIndex === undefined) err(0, 'AUTHKEYS_NO_AUTH', 'missing auth directive in keyfile');
    else if (entries.has(authIndex)) {
      err(authLine, 'AUTHKEYS_AUTH_AFTER_KEY', `auth ${authIndex} comes after the line of key ${authIndex} (line ${entries.get(authIndex)!.line}); the original only selects a key listed after the auth line`, String(authIndex));
    } else err(authLine, 'AUTHKEYS_KEY_NOT_FOUND', `auth key [${authIndex}] not found in keyfile`, String(authIndex));
  }
  if (errors.length > 0 || !active) return { errors, warnings };
  return { config: { activeIndex: active.index, active, entries: [...entries.values()].sort((a, b) => a.index - b.index) }, errors, warnings };
}

/** Parses authkeys; throws ConfigError (exit status 6, as heartbeat) listing every problem. */
export function parseAuthkeys(input: Uint8Array | string, file: string, opts: AuthkeysOptions = {}): ParseResult<Authkeys> {
  const r = collectAuthkeys(input, file, opts);
  if (!r.config) throw new ConfigError(r.errors, EXIT_NOT_CONFIGURED);
  return { config: r.config, warnings: r.warnings };
}

/** The authkeys model without secrets, for dumps: method and index only. */
export function describeAuthkeys(a: Authkeys): { activeIndex: number; method: AuthMethod; indexes: { index: number; method: AuthMethod }[] } {
  return { activeIndex: a.activeIndex, method: a.active.method, indexes: a.entries.map((e) => ({ index: e.index, method: e.method })) };
}
