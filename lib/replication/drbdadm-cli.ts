import { runCommand } from '../shared/cli.js';

export function main(_argv: string[]): number {
  process.stderr.write('drbdadm: not implemented yet\n');
  return 1;
}

export function run(): Promise<void> {
  return runCommand('drbdadm', main);
}
