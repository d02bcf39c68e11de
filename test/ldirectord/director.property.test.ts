import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LdirectordConfig } from '../../lib/config/ldirectord/model.js';
import { Director } from '../../lib/ldirectord/director/director.js';
import { fallbackSpec, realAddress, serviceRef } from '../../lib/ldirectord/director/targets.js';
import { applyIpvsCommand } from '../../lib/ldirectord/ipvs/command.js';
import { EMPTY_TABLE, findDestination, findService, type IpvsTable } from '../../lib/ldirectord/ipvs/model.js';
import { parse } from '../config/ldirectord-helpers.js';

const variant = (quiescent: string, readd: string, extra: string): LdirectordConfig => parse(`quiescent=${quiescent}
readdquiescent=${readd}
failurecount=2
virtual=127.0.9.1:80
\treal=127.0.9.2:80 gate 10
\treal=127.0.9.3:8080 gate 20
\treal=127.0.9.4:80 masq 30
\tfallback=127.0.0.1:80 gate
\tchecktype=connect
${extra}virtual=127.0.9.1:81
\treal=127.0.9.4:80 masq 30
\tchecktype=connect
`).config;

const CONFIGS: LdirectordConfig[] = [
  variant('yes', 'no', ''),
  variant('no', 'no', ''),
  variant('yes', 'yes', '\tscheduler=rr\n\tpersistent=60\n'),
  variant('yes', 'no', '\treal=127.0.9.5:80 gate 5\n'),
];

type Event = { kind: 'check'; real: number; ok: boolean } | { kind: 'reload'; config: number } | { kind: 'manual-delete'; real: number };

const event: fc.Arbitrary<Event> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('check' as const), real: fc.nat(4), ok: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reload' as const), config: fc.nat(CONFIGS.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('manual-delete' as const), real: fc.nat(4) }) },
);

/** After every event: the table matches what the director believes, for every virtual. */
function checkInvariants(d: Director, table: IpvsTable, lastOk: Map<string, boolean>): void {
  const cfg = d.configuration;
  for (const v of cfg.virtuals) {
    const svc = findService(table, serviceRef(v));
    expect(svc, `${v.id} in the table`).toBeDefined();
    let anyUp = false;
    for (const r of v.reals) {
      const up = d.realUp(v, r);
      const found = findDestination(svc!, realAddress(r), r.forward);
      if (up === true) {
        anyUp = true;
        expect(found?.dest.weight, `${realAddress(r)} up at its weight`).toBe(r.weight);
      } else if (up === false) {
        if (found) expect(found.dest.weight, `${realAddress(r)} down`).toBe(0);
        if (!v.quiescent) expect(found).toBeUndefined();
      } else {
        expect(found, `${realAddress(r)} undecided is not in`).toBeUndefined();
      }
      // No flap: a real whose last check failed never has weight > 0.
      if (lastOk.get(`${v.id}|${realAddress(r)}`) === false && found) expect(found.dest.weight).toBe(0);
    }
    const undecided = v.reals.some((r) => d.realUp(v, r) === undefined);
    if (v.fallback && (anyUp || !undecided)) {
      const f = fallbackSpec(v.fallback);
      expect(findDestination(svc!, f.address, f.forward) !== undefined, `${v.id} fallback in iff nothing up`).toBe(!anyUp);
    }
  }
}

describe('director property: the table always equals the believed states', () => {
  it('over random checks, reloads and manual deletions, with every command valid for ipvsadm', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), (events) => {
        let table: IpvsTable = EMPTY_TABLE;
        const d = new Director(CONFIGS[0]!);
        const lastOk = new Map<string, boolean>();
        const apply = (actions: ReturnType<Director['start']>): void => {
          for (const a of actions) if (a.kind === 'ipvs') table = applyIpvsCommand(table, a.command);
        };
        apply(d.start(table));
        checkInvariants(d, table, lastOk);
        for (const e of events) {
          if (e.kind === 'check') {
            const targets = d.checkTargets();
            const t = targets[e.real % targets.length]!;
            apply(d.checked(table, t.id, e.ok));
            for (const m of t.members) {
              const k = `${m.virtual.id}|${realAddress(m.real)}`;
              // failurecount=2: a soft failure of an up real leaves it up.
              if (e.ok || d.realUp(m.virtual, m.real) === false) lastOk.set(k, e.ok);
            }
          } else if (e.kind === 'reload') {
            apply(d.reload(table, CONFIGS[e.config]!));
            lastOk.clear();
          } else {
            // An admin removes a real by hand; the director notices at its next decision.
            const svc = table.services[0];
            const dest = svc?.destinations[e.real % Math.max(1, svc.destinations.length)];
            if (svc && dest) {
              table = applyIpvsCommand(table, { op: 'delete-real', service: svc, address: dest.address });
              apply(d.reload(table, d.configuration));
              lastOk.clear();
            }
          }
          checkInvariants(d, table, lastOk);
        }
      }),
      { numRuns: 300 },
    );
  });
});
