/**
 * What `heartbeat --check` (and later the daemon's start, `-r` and `-R`)
 * validates: ha.cf, authkeys and haresources of one ha.d directory, read
 * through ConfigFs, every file's problems reported together.
 */
import * as path from 'node:path';
import { describeAuthkeys, collectAuthkeys, type Authkeys } from '../config/authkeys/parse.js';
import type { HaCf } from '../config/hacf/model.js';
import { collectHaCf } from '../config/hacf/parse.js';
import { EXIT_NOT_CONFIGURED } from '../config/hacf/result.js';
import { collectHaresources, scriptLookup, type ResourceGroup } from '../config/haresources/parse.js';
import { ConfigError, HbError, type ConfigWarning, type Diagnostic } from '../shared/errors.js';
import type { ConfigFs } from '../shared/fs.js';
import { stonithWarnings } from '../stonith/check.js';

/** LSB "insufficient privilege": a config file we may not read. */
export const EXIT_NO_PERMISSION = 4;

export interface HaDirConfig {
  readonly haDir: string;
  readonly hacf: HaCf;
  readonly authkeys: Authkeys;
  /** Undefined when pacemaker manages resources (haresources is then not read). */
  readonly resourceGroups: readonly ResourceGroup[] | undefined;
}

export interface CheckOptions {
  /** This machine's node name; a missing `node` line for it is a warning. */
  readonly localNode?: string;
  /** Where init scripts are looked up (default /etc/init.d). */
  readonly initDir?: string;
}

export interface CheckResult {
  readonly config: HaDirConfig;
  readonly warnings: readonly ConfigWarning[];
}

type Read = { bytes: Uint8Array } | { missing: Diagnostic; denied: boolean };

function readOrDiagnose(fs: ConfigFs, file: string, what: string, code: string): Read {
  try {
    return { bytes: fs.readFile(file) };
  } catch (e) {
    if (!(e instanceof HbError)) throw e;
    const denied = (e.cause as NodeJS.ErrnoException | undefined)?.code === 'EACCES';
    const reason = e.code === 'ENOENT' ? 'no such file' : denied ? 'permission denied' : 'cannot be read';
    return { missing: { file, line: 0, code, message: `cannot open ${what} [${file}]: ${reason}` }, denied };
  }
}

/** Validates HA_DIR; throws one ConfigError listing the errors of all three files. */
export function checkHaDir(haDir: string, fs: ConfigFs, opts: CheckOptions = {}): CheckResult {
  const errors: Diagnostic[] = [];
  const warnings: ConfigWarning[] = [];
  let denied = false;

  const hacfFile = path.join(haDir, 'ha.cf');
  let hacf: HaCf | undefined;
  const hacfRead = readOrDiagnose(fs, hacfFile, 'config file', 'HACF_CANNOT_OPEN');
  if ('bytes' in hacfRead) {
    const r = collectHaCf(hacfRead.bytes, hacfFile, { fs, ...(opts.localNode !== undefined ? { localNode: opts.localNode } : {}) });
    errors.push(...r.errors);
    warnings.push(...r.warnings);
    hacf = r.config;
    if (hacf) warnings.push(...stonithWarnings(hacf, hacfFile, haDir, fs));
  } else {
    errors.push(hacfRead.missing);
    denied ||= hacfRead.denied;
  }

  const authFile = path.join(haDir, 'authkeys');
  let authkeys: Authkeys | undefined;
  const authRead = readOrDiagnose(fs, authFile, 'keyfile', 'AUTHKEYS_CANNOT_OPEN');
  if ('bytes' in authRead) {
    const r = collectAuthkeys(authRead.bytes, authFile, { fs });
    errors.push(...r.errors);
    warnings.push(...r.warnings);
    authkeys = r.config;
  } else {
    errors.push(authRead.missing);
    denied ||= authRead.denied;
  }

  const resFile = path.join(haDir, 'haresources');
  let resourceGroups: ResourceGroup[] | undefined;
  if (hacf && !hacf.manageResources) {
    if (fs.stat(resFile)) {
      warnings.push({ file: resFile, line: 0, code: 'HARES_UNUSED', message: `file exists but is not used because pacemaker is enabled in ${hacfFile}` });
    }
  } else if (hacf || fs.stat(resFile)) {
    // With ha.cf invalid we do not know whether haresources is needed: check it only if present.
    const resRead = readOrDiagnose(fs, resFile, 'resources file', 'HARES_CANNOT_OPEN');
    if ('bytes' in resRead) {
      // Without a valid ha.cf the node names are unknown; the file's other checks still run.
      const r = collectHaresources(resRead.bytes, resFile, {
        ...(hacf ? { nodes: hacf.nodes } : {}),
        scriptExists: scriptLookup(fs, haDir, opts.initDir),
      });
      errors.push(...r.errors);
      warnings.push(...r.warnings);
      resourceGroups = r.config ? [...r.config.groups] : undefined;
    } else {
      errors.push(resRead.missing);
      denied ||= resRead.denied;
    }
  }

  if (errors.length > 0 || !hacf || !authkeys) {
    throw new CheckFailed(errors, warnings, denied ? EXIT_NO_PERMISSION : EXIT_NOT_CONFIGURED);
  }
  return { config: { haDir, hacf, authkeys, resourceGroups }, warnings };
}

/** A failed check still carries the warnings found on the way, for printing before the errors. */
export class CheckFailed extends ConfigError {
  readonly warnings: readonly ConfigWarning[];
  constructor(errors: readonly Diagnostic[], warnings: readonly ConfigWarning[], exitCode: number) {
    super(errors, exitCode);
    this.warnings = warnings;
  }
}

/** The model `--dump-json` prints: no key material, only methods and indexes. */
export function dumpModel(c: HaDirConfig): Record<string, unknown> {
  return {
    haDir: c.haDir,
    ...c.hacf,
    auth: describeAuthkeys(c.authkeys),
    resourceGroups: c.resourceGroups ?? null,
  };
}
