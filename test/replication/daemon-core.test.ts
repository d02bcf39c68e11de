import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MDF } from '../../lib/replication/metadata/superblock.js';
import { checkDemote, checkDetach, checkInvalidate, checkOutdate, checkPromote, CONN_STATES, DISK_STATES, diskStateFromFlags, flagsForDiskState, sanitize, UNCONFIGURED, type DeviceState } from '../../lib/replication/daemon/state.js';
import { procDrbdText, progressLines, statusText, shStatusText, type DeviceSnapshot } from '../../lib/replication/daemon/status.js';
import { LineSplitter } from '../../lib/replication/daemon/protocol.js';

const st = (s: Partial<DeviceState>): DeviceState => ({ ...UNCONFIGURED, conn: 'WFConnection', disk: 'Inconsistent', ...s });
const noForce = { force: false, allowTwoPrimaries: false, fencing: false };
const counters = { ns: 1048508, nr: 0, dw: 1048508, dr: 1641, al: 0, bm: 0, lo: 0, pe: 0, ua: 0, ap: 0, ep: 1, oos: 0 };

describe('promotion rules (drbd-spec 4.3/4.4)', () => {
  it('Inconsistent: refused (-2, exit 17) unless forced', () => {
    const r = checkPromote(st({}), noForce);
    expect(r.ok === false && r.refusal).toEqual({ rv: -2, text: 'Need access to UpToDate data', exit: 17 });
    expect(checkPromote(st({}), { ...noForce, force: true })).toEqual({ ok: true, disk: 'UpToDate', forced: true });
  });
  it('Consistent + disconnected: allowed with fencing dont-care, refused with fencing', () => {
    expect(checkPromote(st({ disk: 'Consistent' }), noForce)).toEqual({ ok: true, disk: 'UpToDate', forced: false });
    expect(checkPromote(st({ disk: 'Consistent' }), { ...noForce, fencing: true }).ok).toBe(false);
  });
  it('Outdated needs --force; Diskless without an UpToDate peer never', () => {
    expect(checkPromote(st({ disk: 'Outdated' }), noForce).ok).toBe(false);
    expect(checkPromote(st({ disk: 'Outdated' }), { ...noForce, force: true }).ok).toBe(true);
    expect(checkPromote(st({ disk: 'Diskless' }), { ...noForce, force: true }).ok).toBe(false);
  });
  it('a second Primary without allow-two-primaries: (-1), exit 11', () => {
    const s = st({ conn: 'Connected', disk: 'UpToDate', peer: 'Primary', pdsk: 'UpToDate' });
    const r = checkPromote(s, noForce);
    expect(r.ok === false && r.refusal.exit).toBe(11);
    expect(checkPromote(s, { ...noForce, allowTwoPrimaries: true }).ok).toBe(true);
  });
  it('demote refused while held open; detach of a lone Primary refused; outdate/invalidate rules', () => {
    expect(checkDemote(true)?.rv).toBe(-12);
    expect(checkDemote(false)).toBeUndefined();
    expect(checkDetach(st({ role: 'Primary', disk: 'UpToDate' }))?.rv).toBe(-2);
    expect(checkOutdate(st({ disk: 'UpToDate', conn: 'Connected' }))?.rv).toBe(-6);
    expect(checkOutdate(st({ disk: 'Inconsistent' }))?.exit).toBe(5);
    expect(checkOutdate(st({ disk: 'Consistent' }))).toBeUndefined();
    expect(checkInvalidate(st({ disk: 'Diskless' }))?.rv).toBe(-4);
  });
  it('never promotes to Primary with a disk below UpToDate unless the peer is UpToDate', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CONN_STATES), fc.constantFrom(...DISK_STATES), fc.constantFrom(...DISK_STATES), fc.boolean(), (conn, disk, pdsk, force) => {
        const r = checkPromote(st({ conn, disk, pdsk }), { ...noForce, force });
        if (r.ok) expect(r.disk === 'UpToDate' || pdsk === 'UpToDate').toBe(true);
      }),
    );
  });
  it('flags and disk states map both ways; disconnected ⇒ peer Unknown/DUnknown', () => {
    for (const d of ['Inconsistent', 'Outdated', 'Consistent'] as const) expect(diskStateFromFlags(flagsForDiskState(MDF.AlClean, d))).toBe(d);
    expect(diskStateFromFlags(flagsForDiskState(0, 'UpToDate'))).toBe('Consistent');
    expect(sanitize(st({ conn: 'WFConnection', peer: 'Primary', pdsk: 'UpToDate' }))).toMatchObject({ peer: 'Unknown', pdsk: 'DUnknown' });
  });
});

describe('status texts', () => {
  const dev = (minor: number, s: Partial<DeviceState>, extra: Partial<DeviceSnapshot> = {}): DeviceSnapshot => ({
    resource: 'r0', vnr: 0, minor, state: st(s), protocol: 'C', counters, ...extra,
  });
  it('/proc/drbd 8.4 layout, Unconfigured minors, a blank line for a gap', () => {
    const t = procDrbdText(
      [dev(0, { conn: 'Connected', role: 'Primary', peer: 'Secondary', disk: 'UpToDate', pdsk: 'UpToDate' }), dev(2, { conn: 'StandAlone', disk: 'Diskless' })],
      'GIT-hash: x build by y',
    );
    expect(t).toBe(
      'version: 8.4.11 (api:1/proto:86-101)\nGIT-hash: x build by y\n' +
        ' 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n' +
        '    ns:1048508 nr:0 dw:1048508 dr:1641 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\n' +
        '\n 2: cs:Unconfigured\n',
    );
  });
  it('progress bar and speed line as drbd_proc.c prints them', () => {
    const d = dev(1, { conn: 'SyncSource', role: 'Primary', peer: 'Secondary', disk: 'UpToDate', pdsk: 'Inconsistent' }, {
      sync: { leftKiB: 772164, totalKiB: 2096252, speedKiB: 56540, avgKiB: 56540, etaSec: 13 },
    });
    expect(progressLines(d)).toEqual(["\t[===========>........] sync'ed: 63.3% (772164/2096252)K", '\tfinish: 0:00:13 speed: 56,540 (56,540) K/sec']);
    const z = dev(1, { conn: 'SyncTarget' }, { sync: { leftKiB: 4194304, totalKiB: 4194304, speedKiB: 0, avgKiB: 0, etaSec: 0 } });
    expect(progressLines(z)[0]).toBe("\t[>....................] sync'ed:  0.1% (4194304/4194304)K");
    const big = dev(1, { conn: 'VerifyS' }, { sync: { leftKiB: 5 * 1048576, totalKiB: 10 * 1048576, speedKiB: 1048576, avgKiB: 1000, wantKiB: 51200, etaSec: 3725 } });
    expect(progressLines(big)).toEqual(['\t[=========>..........] verified: 50.1% (5120/10240)M', '\tfinish: 1:02:05 speed: 1,048,576 (1,000) want: 51,200 K/sec']);
  });
  it('drbdadm status text', () => {
    expect(statusText([])).toBe('# No currently configured DRBD found.\n');
    expect(statusText([{ name: 'r0', peerName: 'hadb02', devices: [dev(0, { conn: 'Connected', role: 'Primary', peer: 'Secondary', disk: 'UpToDate', pdsk: 'UpToDate' })] }])).toBe(
      'r0 role:Primary\n  disk:UpToDate\n  hadb02 role:Secondary\n    peer-disk:UpToDate\n\n',
    );
    expect(
      statusText([{ name: 'r0', peerName: 'hadb01', devices: [dev(0, { conn: 'SyncTarget', peer: 'Primary', disk: 'Inconsistent', pdsk: 'UpToDate' }, { sync: { leftKiB: 6248, totalKiB: 10000, speedKiB: 1, avgKiB: 1, etaSec: 1 } })] }]),
    ).toBe('r0 role:Secondary\n  disk:Inconsistent\n  hadb01 role:Primary\n    replication:SyncTarget peer-disk:UpToDate done:37.52\n\n');
    expect(shStatusText(undefined, 'r0', 3, 0)).toContain('_cstate=Unconfigured\n');
  });
});

describe('control line splitter', () => {
  it('reassembles lines from any chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', 'b', '{', '}', '"') }), { maxLength: 8 }), fc.integer({ min: 1, max: 7 }), (lines, k) => {
        const text = lines.map((l) => l + '\n').join('');
        const sp = new LineSplitter();
        const got: string[] = [];
        for (let i = 0; i < text.length; i += k) got.push(...sp.push(text.slice(i, i + k)));
        expect(got).toEqual(lines.filter((l) => l.trim() !== ''));
      }),
    );
  });
});
