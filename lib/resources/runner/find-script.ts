/** Where ResourceManager finds a resource script: resource.d first, then the init.d directory. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Default search path for an HA_DIR (`/etc/ha.d`). */
export function scriptDirs(haDir: string, initDir = '/etc/init.d'): string[] {
  return [path.join(haDir, 'resource.d'), initDir];
}

function isExecutableFile(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `dir/name`, or undefined. A name with a slash is never looked up. */
export function findScript(name: string, dirs: readonly string[], isExecutable: (p: string) => boolean = isExecutableFile): string | undefined {
  if (name === '' || name.includes('/')) return undefined;
  for (const d of dirs) {
    const p = path.join(d, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}
