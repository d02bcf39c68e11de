import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Local node name as heartbeat picks it: first line of ha.d/nodeinfo, else `uname -n`; lowercased. */
export function localNodeName(haDir: string): string {
  try {
    const first = fs.readFileSync(path.join(haDir, 'nodeinfo'), 'utf8').split('\n')[0]?.trim();
    if (first) return first.toLowerCase();
  } catch {
    // no nodeinfo: the host name
  }
  return os.hostname().toLowerCase();
}
