import { runCommand } from '../../shared/cli.js';

const USAGE = `usage: drbdd [-f] [--run-dir DIR]
The DRBD work-alike's daemon. drbdadm starts it when needed and hands it each
resource's configuration over <run-dir>/control (default /var/run/drbd-ts).
  -f, --foreground   stay in the foreground, log to stderr too
      --run-dir DIR  control socket, NBD sockets, pid file and proc-drbd here
`;

export function run(): Promise<void> {
  return runCommand('drbdd', async (argv) => {
    if (argv.includes('-h') || argv.includes('--help')) {
      process.stdout.write(USAGE);
      return 0;
    }
    const { spawnDaemon } = await import('../../shared/daemon/daemonize.js');
    if (!argv.includes('-f') && !argv.includes('--foreground') && process.env.HBTS_DAEMON_CHILD !== '1') {
      // Go to the background: start our copy and wait for its verdict.
      const r = await spawnDaemon();
      if (!r.ok) process.stderr.write(`drbdd: ${r.message}\n`);
      return r.ok ? 0 : r.exitCode;
    }
    const { runDaemon } = await import('./run.js');
    return runDaemon(argv);
  });
}
