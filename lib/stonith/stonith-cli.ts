/**
 * stonith: cluster-glue's command-line front end to the STONITH devices, for
 * the types we have (external/NAME, ssh, meatware, null):
 *   stonith -L                                      list device types
 *   stonith -t TYPE -n                              parameter names, in -p order
 *   stonith -t TYPE {-p PARAMS|-F FILE|-E|name=value...} [-c N] -l | -S | -T reset|on|off NODE
 * Exit status: the S_* code of the last operation (0 success).
 */
import * as fs from 'node:fs';
import { getopt } from '../heartbeat/api/getopt.js';
import { createDevice, listTypes } from './devices.js';
import { externalDirs, meatwareDir } from './environment.js';
import { configFileLine, namedParams, positionalParams } from './params.js';
import { S, type ResetRequest, type StonithLogLevel } from './types.js';

export interface StonithCliIo {
  readonly env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
}

const USAGE = `usage:
\t stonith [-svh] -L
\t stonith [-svh] -t stonith-device-type -n
\t stonith [-svh] -t stonith-device-type {-p stonith-device-parameters | -F stonith-device-parameters-file | -E | name=value...} [-c count] -lS
\t stonith [-svh] -t stonith-device-type {-p stonith-device-parameters | -F stonith-device-parameters-file | -E | name=value...} [-c count] -T {reset|on|off} nodename

where:
\t-L\tlist supported stonith device types
\t-l\tlist hosts controlled by this stonith device
\t-S\treport stonith device status
\t-s\tsilent
\t-v\tverbose
\t-n\toutput the config names of stonith-device-parameters
\t-h\tdisplay this help
`;

export async function stonithCli(argv: readonly string[], io: StonithCliIo): Promise<number> {
  const g = getopt('stonith', argv, 'c:F:p:t:T:EsnSlLmvhVd');
  let type: string | undefined;
  let params: string | undefined;
  let file: string | undefined;
  let fromEnv = false;
  let silent = false;
  let verbose = false;
  let listNames = false;
  let status = false;
  let listHosts = false;
  let listAll = false;
  let request: ResetRequest = 'reset';
  let count = 1;
  let errors = 0;
  for (const e of g.events) {
    const arg = (e as { arg?: string }).arg ?? '';
    switch (e.opt) {
      case '?':
        io.err((e as { message: string }).message);
        errors++;
        break;
      case 't':
        type = arg;
        break;
      case 'p':
        params = arg;
        break;
      case 'F':
        file = arg;
        break;
      case 'E':
        fromEnv = true;
        break;
      case 's':
        silent = true;
        break;
      case 'v':
      case 'd':
        verbose = true;
        break;
      case 'n':
        listNames = true;
        break;
      case 'S':
        status = true;
        break;
      case 'l':
        listHosts = true;
        break;
      case 'L':
        listAll = true;
        break;
      case 'h':
        io.out(USAGE);
        return 0;
      case 'V':
        io.out('stonith: heartbeat-ts\n');
        return 0;
      case 'c':
        if (!/^[0-9]+$/.test(arg) || Number(arg) < 1) {
          io.err(`bad count [${arg}]\n`);
          errors++;
        } else count = Number(arg);
        break;
      case 'T':
        if (arg === 'reset' || arg === 'on' || arg === 'off') request = arg;
        else {
          io.err(`bad reset type [${arg}]\n`);
          errors++;
        }
        break;
      case 'm':
        io.err('stonith: -m (meta-data) is not supported\n');
        return S.INVAL;
    }
  }
  // name=value words come first among the operands; the node name is what is left.
  const nv = g.operands.filter((w) => w.includes('='));
  const rest = g.operands.filter((w) => !w.includes('='));
  if (!(rest.length === 1 || (rest.length === 0 && (status || listHosts || listAll || listNames)))) errors++;
  if (errors > 0) {
    io.err(USAGE);
    return 1;
  }
  const log = (level: StonithLogLevel, text: string): void => {
    if (silent || (level === 'debug' && !verbose)) return;
    io.err(`${level === 'CRIT' ? 'CRIT' : level === 'ERROR' ? 'ERROR' : level === 'WARN' ? 'WARN' : level}: ${text}\n`);
  };
  const dirs = externalDirs(io.env);
  if (listAll) {
    for (const t of listTypes({ externalDirs: dirs })) io.out(`${t}\n`);
    return 0;
  }
  if (type === undefined) {
    log('ERROR', 'Must specify device type (-t option)');
    io.err(USAGE);
    return 1;
  }
  const dev = createDevice(type, { externalDirs: dirs, meatwareDir: meatwareDir(io.env), env: io.env, log });
  if (dev === undefined) {
    log('ERROR', `Invalid device type: '${type}'`);
    return S.OOPS;
  }
  const names = await dev.configNames();
  if (listNames) {
    if (names === undefined) return S.OOPS;
    io.out(names.join('  ') + '\n');
    return 0;
  }
  const sources = [params !== undefined, file !== undefined, fromEnv, nv.length > 0].filter(Boolean).length;
  if (sources > 1) {
    io.err('Please use just one of -F, -p, -E and name=value arguments\n');
    return 1;
  }
  if (sources === 0 && (names === undefined || names.length > 0)) {
    io.err('Must specify either -p option, -F option, -E option, or name=value style arguments\n');
    io.err(USAGE);
    return 1;
  }
  let config: Map<string, string> | undefined;
  if (file !== undefined) {
    let line: string | undefined;
    try {
      line = configFileLine(fs.readFileSync(file, 'latin1'));
    } catch {
      log('CRIT', `Cannot open ${file}`);
    }
    config = line !== undefined && names !== undefined ? positionalParams(names, line) : undefined;
    if (config === undefined) {
      log('ERROR', `Invalid config file for ${type} device.`);
      return S.BADCONFIG;
    }
  } else if (params !== undefined) {
    config = names !== undefined ? positionalParams(names, params) : undefined;
    if (config === undefined) {
      io.err(`Invalid STONITH -p parameter [${params}]\n`);
      return 1;
    }
  } else if (fromEnv) {
    config = new Map();
    for (const n of names ?? []) {
      const v = io.env[n];
      if (v !== undefined) config.set(n, v);
    }
  } else {
    config = namedParams(nv) ?? new Map();
  }
  const rc0 = await dev.configure(config);
  if (rc0 !== S.OK) {
    io.err(`Invalid config info for ${type} device\n`);
    if (names !== undefined && names.length > 0) io.err(`Valid config names are:\n${names.map((n) => `\t${n}\n`).join('')}`);
    return rc0;
  }
  let rc: number = S.OK;
  for (let i = 0; i < count; i++) {
    rc = S.OK;
    if (status) {
      rc = await dev.status();
      if (rc === S.OK) log('info', `${type} device OK.`);
      else log('ERROR', `${type} device not accessible.`);
    }
    if (listHosts) {
      const hosts = await dev.hosts();
      if (hosts === undefined) {
        log('ERROR', `Could not list hosts for ${type}.`);
        rc = S.OOPS;
      } else for (const h of hosts) io.out(`${h}\n`);
    }
    if (rest.length === 1) rc = await dev.reset(rest[0]!.toLowerCase(), request);
  }
  return rc;
}

export async function run(): Promise<void> {
  process.exitCode = await stonithCli(process.argv.slice(2), {
    env: process.env,
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  });
}
