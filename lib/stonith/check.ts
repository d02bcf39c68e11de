/**
 * `heartbeat --check` for the STONITH lines of ha.cf, without running any
 * plugin: unknown device types, external plugins that are missing or that
 * cluster-glue would refuse (group/others may write them), and `stonith`
 * parameter files that cannot be read. Warnings, not errors: the daemon
 * starts anyway and a takeover then waits for a fence that keeps failing
 * (docs/stonith.md).
 */
import * as path from 'node:path';
import type { HaCf } from '../config/hacf/model.js';
import type { ConfigWarning } from '../shared/errors.js';
import type { ConfigFs } from '../shared/fs.js';
import { externalDirs } from './environment.js';
import { externalName, isKnownType } from './params.js';

export function stonithWarnings(hacf: Pick<HaCf, 'stonith' | 'stonithHost' | 'env'>, hacfFile: string, haDir: string, fs: ConfigFs, env: NodeJS.ProcessEnv = process.env): ConfigWarning[] {
  const out: ConfigWarning[] = [];
  const dirs = externalDirs(env, hacf.env.find((e) => e.name === 'STONITH_EXTERNAL_DIR')?.value);
  const lines = [...hacf.stonith.map((s) => ({ line: s.line, type: s.type, file: s.configFile as string | undefined })), ...hacf.stonithHost.map((h) => ({ line: h.line, type: h.type, file: undefined }))];
  for (const l of lines.sort((a, b) => a.line - b.line)) {
    const at = { file: hacfFile, line: l.line, token: l.type };
    if (!isKnownType(l.type)) {
      out.push({ ...at, code: 'STONITH_UNKNOWN_TYPE', message: `unknown STONITH device type [${l.type}] (we have external/NAME, ssh, meatware and null): fencing with it will fail` });
      continue;
    }
    const name = externalName(l.type);
    if (name !== undefined) {
      const found = dirs.map((d) => ({ f: path.join(d, name), st: fs.stat(path.join(d, name)) })).find((x) => x.st !== undefined);
      if (found === undefined) out.push({ ...at, code: 'STONITH_PLUGIN_NOT_FOUND', message: `STONITH plugin ${l.type} not found in ${dirs.join(':')}: fencing with it will fail` });
      else if ((found.st!.mode & 0o022) !== 0) out.push({ ...at, code: 'STONITH_PLUGIN_UNSAFE', message: `STONITH plugin ${found.f} is writable by group/others and will not be run` });
      else if ((found.st!.mode & 0o111) === 0) out.push({ ...at, code: 'STONITH_PLUGIN_UNSAFE', message: `STONITH plugin ${found.f} is not executable` });
    }
    if (l.file !== undefined && fs.stat(path.resolve(haDir, l.file)) === undefined) {
      out.push({ ...at, token: l.file, code: 'STONITH_FILE_MISSING', message: `cannot open STONITH configuration file [${l.file}]: fencing with it will fail` });
    }
  }
  return out;
}
