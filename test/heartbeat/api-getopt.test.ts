/** glibc getopt as cl_status uses it: permutation, clusters, `--`, required arguments, the messages. */
import { describe, expect, it } from 'vitest';
import { getopt } from '../../lib/heartbeat/api/getopt.js';

describe('getopt', () => {
  it('options anywhere, operands in order', () => {
    expect(getopt('nodestatus', ['node2', '-m'], 'm')).toEqual({ events: [{ opt: 'm' }], operands: ['node2'] });
    expect(getopt('listnodes', ['-mv', 'x', '-p'], 'mpnv')).toEqual({ events: [{ opt: 'm' }, { opt: 'v' }, { opt: 'p' }], operands: ['x'] });
  });

  it('-- ends options; a lone - is an operand', () => {
    expect(getopt('nodestatus', ['--', '-m'], 'm')).toEqual({ events: [], operands: ['-m'] });
    expect(getopt('nodestatus', ['-'], 'm')).toEqual({ events: [], operands: ['-'] });
  });

  it('required arguments, attached or next, even when they look like options', () => {
    expect(getopt('hbparameter', ['-pdeadtime'], 'mp:').events).toEqual([{ opt: 'p', arg: 'deadtime' }]);
    expect(getopt('hbparameter', ['-p', '-m'], 'mp:').events).toEqual([{ opt: 'p', arg: '-m' }]);
    expect(getopt('hbparameter', ['-mp', 'x'], 'mp:').events).toEqual([{ opt: 'm' }, { opt: 'p', arg: 'x' }]);
  });

  it("glibc's messages, named after the sub-command", () => {
    expect(getopt('listnodes', ['-x'], 'mpnv').events).toEqual([{ opt: '?', message: "listnodes: invalid option -- 'x'\n" }]);
    expect(getopt('hbparameter', ['-p'], 'mp:').events).toEqual([{ opt: '?', message: "hbparameter: option requires an argument -- 'p'\n" }]);
    expect(getopt('hbstatus', ['--verbose'], 'mv').events[0]).toEqual({ opt: '?', message: "hbstatus: invalid option -- '-'\n" });
    expect(getopt('x', ['-:'], 'p:').events).toEqual([{ opt: '?', message: "x: invalid option -- ':'\n" }]);
  });
});
