/**
 * The resource scripts' tmp directory (HA_RSCTMP: pseudo-resource state files,
 * ARP sender pid files). Heartbeat wipes and recreates it at every start, so
 * pseudo resources (MailTo, Delay, SendArp, portblock) read as stopped after a
 * heartbeat (re)start (resources-spec §1.5). `RUN_DIR/heartbeat/rsctmp`,
 * mode 1777 like the original's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const RSCTMP_MODE = 0o1777;

export function rscTmpDir(runDir: string): string {
  return path.join(runDir, 'heartbeat', 'rsctmp');
}

/**
 * Removes and recreates the directory. Returns what went wrong (the original
 * logs `Removing DIR failed, recreating.` and goes on), or undefined.
 */
export function resetRscTmp(dir: string): string | undefined {
  let problem: string | undefined;
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch (e) {
    problem = `Removing ${dir} failed, recreating.`;
    void e;
  }
  try {
    fs.mkdirSync(dir, { recursive: true });
    // mkdir's mode goes through the umask; the sticky world-writable mode must not.
    fs.chmodSync(dir, RSCTMP_MODE);
  } catch (e) {
    return `Cannot create ${dir}: ${(e as Error).message}`;
  }
  return problem;
}
