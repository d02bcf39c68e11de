import { ConfigError, HbError } from './errors.js';

/** Exit status for a bug of ours (EX_SOFTWARE), kept apart from every tool's own codes. */
export const EXIT_INTERNAL = 70;

/**
 * Runs a command's main and turns what it throws into the original tool's
 * exit status: ConfigError carries its own, other HbErrors exit 1.
 */
export async function runCommand(
  name: string,
  main: (argv: string[]) => number | Promise<number>,
  argv: string[] = process.argv.slice(2),
): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(e.message + '\n');
      process.exitCode = e.exitCode;
    } else if (e instanceof HbError) {
      process.stderr.write(`${name}: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`${name}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = EXIT_INTERNAL;
    }
  }
}
