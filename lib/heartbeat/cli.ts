import { runCommand } from '../shared/cli.js';

export function main(_argv: string[]): number {
  process.stderr.write('heartbeat: not implemented yet\n');
  return 1;
}

export function run(): Promise<void> {
  return runCommand('heartbeat', main);
}
