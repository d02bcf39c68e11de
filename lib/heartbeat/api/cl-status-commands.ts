/**
 * cl_status's sub-commands (tools/cl_status.c), each a function of the
 * signed-on client and the arguments after the sub-command name, returning
 * the exit status. Wording, option handling and exit codes are the
 * original's, quirks included ("No enough parameter.", "returnedcharacter").
 */
import { getopt, type GetoptEvent } from './getopt.js';
import type { HbClient } from './hb-client.js';
import { EXIT, type Output } from './cl-status-output.js';

/** cl_str_to_boolean (glue cl_misc.c): undefined when not a boolean word. */
function strToBoolean(s: string | undefined): boolean | undefined {
  if (s === undefined) return undefined;
  const v = s.toLowerCase();
  if (['true', 'on', 'yes', 'y', '1'].includes(v)) return true;
  if (['false', 'off', 'no', 'n', '0'].includes(v)) return false;
  return undefined;
}

const cstr = (s: string | undefined): string => s ?? '(null)';

/** C atoi. */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m ? parseInt(m[1]!, 10) | 0 : 0;
}

export interface Ctx {
  readonly hb: HbClient;
  readonly o: Output;
  readonly signedOn: boolean;
  readonly sub: string;
  readonly args: readonly string[];
  human: boolean;
}

export type Command = (c: Ctx) => Promise<number>;

/** general_simple_opt_deal: only -m; anything else is a parameter error. */
function simpleOpts(c: Ctx): readonly string[] | undefined {
  const { events, operands } = getopt(c.sub, c.args, 'm');
  for (const e of events) {
    if (e.opt === 'm') c.human = true;
    else return optionError(c, e, 'Error: getopt returnedcharacter ?.');
  }
  return operands;
}

function optionError(c: Ctx, e: GetoptEvent, logLine: string): undefined {
  if ('message' in e) c.o.stderr(e.message);
  c.o.logError(logLine);
  return undefined;
}

async function isPacemakerEnabled(hb: HbClient): Promise<{ enabled: boolean; value: string | undefined }> {
  let value = await hb.parameter('pacemaker');
  if (value === undefined) value = await hb.parameter('crm');
  return { enabled: strToBoolean(value) ?? true, value };
}

async function listHbLinks(c: Ctx, host: string, verbose: boolean): Promise<number> {
  const { hb, o } = c;
  if (!(await hb.initIfwalk(host))) {
    o.logError('Cannot start heartbeat link interface walk.');
    o.logError(`REASON: ${hb.errmsg()}`);
    return EXIT.unknownError;
  }
  if (c.human) o.print('\tthis node has the following heartbeat links:\n');
  for (let intf = hb.nextIf(); intf !== undefined; intf = hb.nextIf()) {
    if (verbose) o.print(`\t${intf}\t${cstr(await hb.ifStatus(host, intf))}\n`);
    else o.print(`\t${intf}\n`);
  }
  hb.endIfwalk();
  return EXIT.ok;
}

async function listNodes(c: Ctx, normalOnly: boolean, pingOnly: boolean, verbose: boolean): Promise<number> {
  const { hb, o } = c;
  if (!(await hb.initNodewalk())) {
    o.logError('Cannot start node walk.');
    o.logError(`REASON: ${hb.errmsg()}`);
    return EXIT.unknownError;
  }
  if (normalOnly && pingOnly) normalOnly = pingOnly = false;
  if (c.human) o.print('The nodes are as follow:\n');
  for (let node = hb.nextNode(); node !== undefined; node = hb.nextNode()) {
    if (normalOnly || pingOnly) {
      const type = await hb.nodeType(node);
      if (normalOnly && type !== 'normal') continue;
      if (pingOnly && type !== 'ping') continue;
    }
    if (verbose) {
      const status = await hb.nodeStatus(node);
      const type = await hb.nodeType(node);
      o.print(`\n${node}\t${cstr(status)}\t(nodetype: ${cstr(type)})\n`);
      await listHbLinks(c, node, true);
    } else o.print(`${node}\n`);
  }
  hb.endNodewalk();
  return EXIT.ok;
}

const hbstatus: Command = async (c) => {
  const { hb, o } = c;
  let verbose = false;
  // hbstatus ignores options it does not know (getopt still complains).
  for (const e of getopt(c.sub, c.args, 'mv').events) {
    if (e.opt === 'm') c.human = true;
    else if (e.opt === 'v') verbose = true;
    else if ('message' in e) o.stderr(e.message);
  }
  if (!c.signedOn) {
    const reason = hb.errmsg();
    let rc: number;
    if (hb.deadtimeMs === 0) {
      o.print('Heartbeat is stopped on this machine.\n');
      rc = EXIT.normalFail;
    } else {
      o.print('Heartbeat is apparently running on this machine, but refuses my connection\n');
      rc = EXIT.ok;
    }
    if (verbose && reason !== '') o.print(`(${reason})\n`);
    return rc;
  }
  if (!verbose) {
    o.print('Heartbeat is running on this machine.\n');
    return EXIT.ok;
  }
  const version = await hb.parameter('hbversion');
  const pcmk = await isPacemakerEnabled(hb);
  if (c.human) {
    o.print(version !== undefined ? `Heartbeat version ${version}\n` : 'Heartbeat is running on this machine.\n');
    o.print(pcmk.enabled ? 'Resources controlled by Pacemaker.\n' : 'Resources controlled by "haresources"\n');
  } else {
    o.print(`version:\t${version ?? 'unknown'}\n`);
    o.print(pcmk.enabled ? `managed by:\tpacemaker\t(${cstr(pcmk.value)})\n` : 'managed by:\t"haresources"\n');
  }
  // The original also asks CCM for its membership here; we run no CCM, and
  // the original prints nothing when CCM is not there either.
  await listNodes(c, false, false, true);
  return EXIT.ok;
};

const listnodes: Command = async (c) => {
  let verbose = false;
  let ping = false;
  let normal = false;
  for (const e of getopt(c.sub, c.args, 'mpnv').events) {
    if (e.opt === 'm') c.human = true;
    else if (e.opt === 'v') verbose = true;
    else if (e.opt === 'p') ping = true;
    else if (e.opt === 'n') normal = true;
    else {
      optionError(c, e, 'Error: getopt returnedcharacter code ?.');
      return EXIT.parameterError;
    }
  }
  return listNodes(c, normal, ping, verbose);
};

/**
 * The one-node queries (nodestatus, nodeweight, nodesite, nodetype) share a
 * shape; only their texts differ, each kept as the original spells it.
 */
function nodeQuery<T>(spec: {
  missing: string;
  lookup: (c: Parameters<Command>[0], node: string) => Promise<T | undefined>;
  unknown: string;
  human: (node: string, value: T) => string;
  exit?: (value: T) => number;
}): Command {
  return async (c) => {
    const ops = simpleOpts(c);
    if (ops === undefined) return EXIT.parameterError;
    const node = ops[0];
    if (node === undefined) {
      c.o.stderr(spec.missing);
      return EXIT.parameterError;
    }
    const value = await spec.lookup(c, node);
    if (value === undefined) {
      c.o.stderr(spec.unknown);
      return EXIT.parameterError;
    }
    c.o.print(c.human ? spec.human(node, value) : `${String(value)}\n`);
    return spec.exit ? spec.exit(value) : EXIT.ok;
  };
}

const nodestatus = nodeQuery({
  missing: 'Not enough parameters.\n',
  lookup: (c, node) => c.hb.nodeStatus(node),
  unknown: 'Error. May be due to incorrect node name\n',
  human: (node, status) => `The cluster node ${node} is ${status}\n`,
  exit: (status) => (status === 'active' || status === 'up' || status === 'ping' ? EXIT.ok : EXIT.normalFail),
});

const nodeweight = nodeQuery({
  missing: 'Not enough parameters.\n',
  // -1 is the original client library's "no such node".
  lookup: async (c, node) => {
    const weight = await c.hb.nodeWeight(node);
    return weight === -1 ? undefined : weight;
  },
  unknown: 'Error. Maybe due to incorrect node name.\n',
  human: (node, weight) => `The weight of the cluster node ${node} is ${weight}\n`,
});

const nodesite = nodeQuery({
  missing: 'Not enough parameters.\n',
  lookup: (c, node) => c.hb.nodeSite(node),
  unknown: 'Error. May be due to incorrect node name\n',
  human: (node, site) => `The site of the cluster node ${node} is ${site}\n`,
});

const nodetype = nodeQuery({
  missing: 'No enough parameter.\n',
  lookup: (c, node) => c.hb.nodeType(node),
  unknown: 'Error. May be due to incorrect node name\n',
  human: (node, type) => `The node ${node}'s type: ${type}\n`,
});

const listhblinks: Command = async (c) => {
  let verbose = false;
  const { events, operands } = getopt(c.sub, c.args, 'mv');
  for (const e of events) {
    if (e.opt === 'm') c.human = true;
    else if (e.opt === 'v') verbose = true;
    else {
      optionError(c, e, 'Error: getopt returnedcharacter code ?.');
      return EXIT.parameterError;
    }
  }
  const node = operands[0];
  if (node === undefined) {
    c.o.stderr('No enough parameter.\n');
    return EXIT.parameterError;
  }
  return listHbLinks(c, node, verbose);
};

const hblinkstatus: Command = async (c) => {
  const ops = simpleOpts(c);
  if (ops === undefined) return EXIT.parameterError;
  const [node, link] = ops;
  if (node === undefined || link === undefined) {
    c.o.stderr('No enough parameter.\n');
    return EXIT.parameterError;
  }
  const status = await c.hb.ifStatus(node, link);
  if (status === undefined) {
    c.o.logError('Cannot get heartbeat link status');
    c.o.logError(`REASON: ${c.hb.errmsg()}`);
    return EXIT.unknownError;
  }
  c.o.print(c.human ? `The node ${node}'s heartbeat link ${link} is ${status}\n` : `${status}\n`);
  return status === 'up' ? EXIT.ok : EXIT.normalFail;
};

const clientstatus: Command = async (c) => {
  const ops = simpleOpts(c);
  if (ops === undefined) return EXIT.parameterError;
  const [node, client, timeout] = ops;
  if (node === undefined || client === undefined) {
    c.o.stderr('No enough parameter.\n');
    return EXIT.parameterError;
  }
  const status = await c.hb.clientStatus(node, client, timeout === undefined ? 500 : atoi(timeout));
  if (status === undefined) {
    c.o.logError(`Cannot get heartbeat client ${client}'s status`);
    c.o.logError(`REASON: ${c.hb.errmsg()}`);
    return EXIT.unknownError;
  }
  c.o.print(`${status}\n`);
  const codes: Record<string, number> = { online: 0, offline: 1, join: 2, leave: 3 };
  return codes[status] ?? EXIT.unknownError;
};

const rscstatus: Command = async (c) => {
  if (simpleOpts(c) === undefined) return EXIT.parameterError;
  if ((await isPacemakerEnabled(c.hb)).enabled) {
    c.o.logError('Cannot get cluster resource status of a pacemaker cluster; try crm_mon');
    return EXIT.normalFail;
  }
  const state = await c.hb.resources();
  if (state === undefined) {
    c.o.logError('Cannot get cluster resource status');
    c.o.logError(`REASON: ${c.hb.errmsg()}`);
    return EXIT.unknownError;
  }
  c.o.print(c.human ? `This node is holding ${state} resources.\n` : `${state}\n`);
  return EXIT.ok;
};

const hbparameter: Command = async (c) => {
  let name: string | undefined;
  for (const e of getopt(c.sub, c.args, 'mp:').events) {
    if (e.opt === 'm') c.human = true;
    else if (e.opt === 'p' && 'arg' in e) name = e.arg;
    else {
      optionError(c, e, 'Error: getopt returnedcharacter code ?.');
      return EXIT.parameterError;
    }
  }
  if (name === undefined) {
    c.o.logError('parameter name required');
    return EXIT.parameterError;
  }
  const value = await c.hb.parameter(name);
  if (value === undefined) {
    c.o.logError(`Cannot get parameter ${name}'s value`);
    c.o.logError(`REASON: ${c.hb.errmsg()}`);
    return EXIT.normalFail;
  }
  c.o.print(c.human ? `Heartbeat parameter ${name}'s value: ${value}\n` : `${value}\n`);
  return EXIT.ok;
};

const test: Command = async (c) => {
  const rsc = await c.hb.resources();
  c.o.print(`Dead time: ${c.hb.deadtimeMs | 0}\n keeplive time: ${c.hb.keepaliveMs | 0}\n mynodeid: ${c.hb.myNodeId()}\n rsc: ${cstr(rsc)}\n`);
  return EXIT.ok;
};

/** The original's table: name, handler, whether a failed sign-on ends the run. */
export const COMMANDS: readonly (readonly [string, Command, boolean])[] = [
  ['hbstatus', hbstatus, false],
  ['listnodes', listnodes, true],
  ['nodestatus', nodestatus, true],
  ['nodeweight', nodeweight, true],
  ['nodesite', nodesite, true],
  ['nodetype', nodetype, true],
  ['listhblinks', listhblinks, true],
  ['hblinkstatus', hblinkstatus, true],
  ['clientstatus', clientstatus, true],
  ['rscstatus', rscstatus, true],
  ['hbparameter', hbparameter, true],
  ['test', test, true],
];

