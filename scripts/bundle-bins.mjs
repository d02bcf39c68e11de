#!/usr/bin/env node
// Bundles each bin/ command into one ESM file under dist/bin/. Loading one file
// instead of dozens of modules cuts Node's start-up by 20-30 ms, and scripts
// call commands like `drbdadm role` and `cl_status` in loops (budget: 150 ms).
// Each bin/<cmd> names its entry in a comment: `// entry: lib/.../x.ts`.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entryPoints = {};
for (const cmd of readdirSync(path.join(root, 'bin'))) {
  const text = readFileSync(path.join(root, 'bin', cmd), 'utf8');
  const m = /\/\/ entry: (\S+\.ts)/.exec(text);
  if (m) entryPoints[cmd] = path.join(root, m[1]);
}
// Chunk names carry content hashes: clear old ones so dist/bin holds one build.
rmSync(path.join(root, 'dist', 'bin'), { recursive: true, force: true });
await build({
  entryPoints,
  outdir: path.join(root, 'dist', 'bin'),
  bundle: true,
  // Code behind a dynamic import() (a daemon's whole runtime, say) goes into
  // its own chunk, so `heartbeat --check` does not parse the daemon.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // pino and commander stay external: they are loaded from node_modules
  // only by the commands that use them at run time.
  packages: 'external',
  logLevel: 'warning',
  // Let bundled CommonJS helpers use require() inside an ES module.
  banner: { js: "import { createRequire as __hbCreateRequire } from 'node:module'; const require = __hbCreateRequire(import.meta.url);" },
});
