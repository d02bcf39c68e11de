/**
 * A recording external STONITH plugin for the tests: a POSIX sh script with
 * cluster-glue's contract that appends every call (arguments and the
 * parameter variables it saw) to a log file, lists `$hostlist` for gethosts,
 * and fails `reset` while a `fail` counter file says so.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { StonithEnvironment, StonithLogLevel } from '../../lib/stonith/index.js';

/** The script: params `hostlist` and `tag`; `$STATE_DIR` (a fixed folder) holds calls.log, resets.log and fail. */
export function recordingPlugin(stateDir: string): string {
  return `#!/bin/sh
# A test plugin: records its calls; 'reset' fails while $STATE/fail holds a count above 0.
STATE='${stateDir}'
echo "$(date +%s.%N) $* hostlist=$hostlist tag=$tag logtag=$HA_LOGTAG" >> "$STATE/calls.log"
case "$1" in
  getconfignames) echo "hostlist tag" ;;
  gethosts) for h in $(echo "$hostlist" | tr ',' ' '); do echo "$h"; done ;;
  status) [ -e "$STATE/status-bad" ] && exit 1; exit 0 ;;
  reset|off|on)
    n=0; [ -e "$STATE/fail" ] && n=$(cat "$STATE/fail")
    if [ "$n" -gt 0 ]; then echo $((n - 1)) > "$STATE/fail"; echo "cannot reach the power switch" >&2; exit 1; fi
    [ -e "$STATE/hang" ] && sleep 30
    echo "$(date +%s.%N) $1 $2" >> "$STATE/resets.log"
    echo "reset $2 done"
    exit 0 ;;
  getinfo-devid) echo "Test power switch" ;;
  *) exit 1 ;;
esac
`;
}

/** Installs the recording plugin as `dir/name` (mode 0755) with its state folder. */
export function installPlugin(dir: string, name: string, stateDir: string): string {
  mkdirSync(dir, { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  const f = path.join(dir, name);
  writeFileSync(f, recordingPlugin(stateDir));
  chmodSync(f, 0o755);
  return f;
}

export function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
}

export interface LogLine {
  readonly level: StonithLogLevel;
  readonly text: string;
}

export function testEnv(o: Partial<StonithEnvironment> & { externalDirs: readonly string[] }): { env: StonithEnvironment; logs: LogLine[] } {
  const logs: LogLine[] = [];
  return { env: { meatwareDir: '/nonexistent', ...o, log: (level, text) => logs.push({ level, text }) }, logs };
}
