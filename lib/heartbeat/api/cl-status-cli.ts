/**
 * cl_status: Heartbeat 3.0.6's status tool (tools/cl_status.c), same
 * sub-commands, options, output and exit codes, talking to our daemon (or the
 * original) over the register socket. The socket is `/var/run/heartbeat/
 * register` unless HEARTBEAT_API_SOCKET names another. Imports stay light:
 * scripts call this in loops.
 */
import { COMMANDS } from './cl-status-commands.js';
import { EXIT, Output } from './cl-status-output.js';
import { HbClient } from './hb-client.js';
import { DEFAULT_RUN_DIR, REGISTER_SOCKET_ENV, REGISTER_SOCKET_SUBPATH } from './protocol.js';

export { EXIT } from './cl-status-output.js';

/** cl_status gives up after this long, whatever it is doing (its alarm(5)). */
const ALARM_MS = 5000;

const HELP = `Usage: cl_status <sub-command> [<options>] [<parameters>]

Sub-commands:
clientstatus <node-name> <client-id> [<timeout>]
\tShow the status of heartbeat clients.
hblinkstatus <node-name> <link-name>
\tShow the status of a heartbeat link
hbstatus
\tIndicate if heartbeat is running on the local system.
\tOptions:
\t\t-v\tverbose: also add "listnodes -v" output
listnodes [<option>]
\tList the nodes in the cluster.
\tOptions:
\t\t-p\tlist only 'ping' type nodes
\t\t-n\tlist only 'normal' type nodes
\t\t-v\tverbose: also list type and status,
\t\t\tthen add "listhblinks -v" output
listhblinks <node-name>
\tList the network interfaces used as hearbeat links.
\tOptions:
\t\t-v\tverbose: list link status as well
nodestatus <node-name>
\tList the node status.
nodeweight <node-name>
\tList the node weight.
nodesite <node-name>
\tList the node site.
nodetype <node-name>
\tList the nodes of a given type.
rscstatus
\tShow the status of cluster resources.
hbparameter -p <parameter-name>
\tRetrieve the value of a cluster parameter.
\tAs for the valid parameter names, please refer to the man page.
`;

/** The socket our cl_status talks to. */
export function clStatusSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const p = env[REGISTER_SOCKET_ENV];
  return p !== undefined && p !== '' ? p : `${DEFAULT_RUN_DIR}/${REGISTER_SOCKET_SUBPATH}`;
}

/** Runs one cl_status invocation and returns its exit status (stdout already written). */
export async function main(argv: readonly string[], socketPath = clStatusSocketPath()): Promise<number> {
  const o = new Output();
  if (argv.length === 0 || (argv.length === 1 && argv[0] === '-h')) {
    o.print(HELP);
    o.flush();
    return EXIT.ok;
  }
  const sub = argv[0]!;
  // strncmp(argv[1], name, 16): equal up to 16 bytes.
  const entry = COMMANDS.find(([name]) => sub.slice(0, 16) === name);
  if (entry === undefined) {
    o.logError(`${sub}: invalid sub-command.`);
    return EXIT.parameterError;
  }
  const [, command, needsSignon] = entry;
  const hb = new HbClient(socketPath);
  const alarm = setTimeout(() => {
    o.flush();
    process.exit(EXIT.timeout);
  }, ALARM_MS);
  try {
    const signedOn = await hb.signon();
    let rc: number;
    if (!signedOn && needsSignon) {
      o.logError('Cannot signon with heartbeat');
      o.logError(`REASON: ${hb.errmsg()}`);
      rc = EXIT.normalFail;
    } else {
      rc = await command({ hb, o, signedOn, sub, args: argv.slice(1), human: false });
    }
    await hb.signoff();
    return rc;
  } finally {
    clearTimeout(alarm);
    o.flush();
  }
}

/** bin/cl_status entry. */
export function run(): void {
  main(process.argv.slice(2)).then(
    (rc) => {
      process.exitCode = rc;
    },
    (e: unknown) => {
      process.stderr.write(`cl_status: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
