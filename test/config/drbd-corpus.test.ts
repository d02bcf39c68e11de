import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/shared/errors.js';
import { memoryConfigFs, nodeConfigFs } from '../../lib/shared/fs.js';
import { dumpConfig } from '../../lib/config/drbd/dump.js';
import { parseDrbdConfig } from '../../lib/config/drbd/index.js';
import { configMeaning } from '../../lib/config/drbd/meaning.js';
import type { DrbdConfig } from '../../lib/config/drbd/model.js';
import { DRBD_SAMPLES, entryInput, readOracle, recorded84Dump, recorded9Dump, sampleConfigs } from './drbd-oracle.js';

/**
 * DRBD 0.7 files: every installed parser refuses them; we read them with the
 * legacy mapping instead (docs/compatibility.md, "drbd.conf and drbdadm").
 */
const LEGACY_07 = new Set([
  'UNATTRIBUTED-drbd07-doc-external-meta.drbd.conf',
  'UNATTRIBUTED-drbd07-heredoc-incon-degr-cmd.drbd.conf',
  'UPSTREAM-linbit-drbd07-sample.drbd.conf',
]);

function parseEntry(e: ReturnType<typeof readOracle>[number]): DrbdConfig {
  const input = entryInput(e);
  return parseDrbdConfig(input.fs, input.file, input.text !== undefined ? { text: input.text } : {});
}

function reparseDump(c: DrbdConfig, file: string): DrbdConfig {
  return parseDrbdConfig(memoryConfigFs({ [file]: dumpConfig(c) }), file);
}

describe('corpus/drbd against the real parsers (drbd-oracle.md)', () => {
  const oracle = readOracle();

  it('covers every corpus entry', () => {
    expect(oracle.length).toBe(38);
  });

  for (const e of oracle) {
    const anyAccepts = Object.values(e.verdicts).some((v) => v.accepted);
    if (anyAccepts || LEGACY_07.has(e.entry)) {
      it(`accepts ${e.entry}${anyAccepts ? '' : ' (0.7, legacy mapping)'}`, () => {
        const c = parseEntry(e);
        const counts = Object.values(e.verdicts).flatMap((v) => (v.resources !== undefined ? [v.resources] : []));
        if (counts.length > 0) expect(c.resources.length).toBe(Math.max(...counts));
        if (LEGACY_07.has(e.entry)) {
          expect(c.warnings.map((w) => w.code)).toContain('DRBD_LEGACY');
          expect(c.resources.every((r) => r.sections.handlers.has('pri-on-incon-degr'))).toBe(true);
        }
        // The dump reads back to the same meaning.
        expect(configMeaning(reparseDump(c, '/dump.conf'))).toEqual(configMeaning(c));
      });
    } else {
      it(`rejects ${e.entry} at a FILE:LINE a real parser names`, () => {
        let err: unknown;
        try {
          parseEntry(e);
        } catch (x) {
          err = x;
        }
        expect(err).toBeInstanceOf(ConfigError);
        const ce = err as ConfigError;
        expect(ce.exitCode).toBe(10);
        expect(ce.message).toMatch(/^\S+:\d+: /);
        expect(ce.token).toBeTruthy();
        expect(e.errorPositions).toContain(`${path.basename(ce.file)}:${ce.line}`);
      });
    }
  }
});

/** 8.4's dump adds these two defaults to global; they are not in the file. */
const ADDED_BY_84 = ['cmd-timeout-medium', 'cmd-timeout-long'];

/**
 * Samples where we deliberately differ from drbdadm 8.4 (documented):
 * 0.7 keywords are mapped instead of refused; `on-io-error panic` becomes call-local-io-error.
 */
const DELIBERATE = new Set(['a-legacy07-r1', 'h1-incon-degr-cmd', 'h2-on-disconnect', 'h3-syncer-group', 'h4-io-error-panic']);

describe('dump agrees in meaning with drbdadm 8.4 dump (drbd-samples/out)', () => {
  for (const sample of sampleConfigs()) {
    const rec = recorded84Dump(sample);
    if (!rec.accepted || DELIBERATE.has(sample)) continue;
    it(sample, () => {
      const ours = parseDrbdConfig(nodeConfigFs, path.join(DRBD_SAMPLES, `${sample}.conf`));
      const theirs = parseDrbdConfig(memoryConfigFs({ '/84-dump.conf': rec.text }), '/84-dump.conf');
      for (const k of ADDED_BY_84) theirs.global.delete(k);
      expect(configMeaning(ours)).toEqual(configMeaning(theirs));
      // And our dump of the file means the same as theirs.
      expect(configMeaning(reparseDump(ours, '/ours.conf'))).toEqual(configMeaning(theirs));
    });
  }

  /** The dump text without comments, 8.4's added global defaults and the alignment blanks. */
  const layout = (t: string) =>
    t
      .split('\n')
      .filter((l) => !l.startsWith('#') && !ADDED_BY_84.some((k) => l.trim().startsWith(k)))
      .map((l) => l.trim().replace(/\s+/g, ' '))
      .filter((l) => l !== '')
      .join('\n');

  for (const sample of sampleConfigs()) {
    const rec = recorded84Dump(sample);
    if (!rec.accepted || DELIBERATE.has(sample)) continue;
    it(`${sample}: same statements in the same order as drbdadm 8.4 prints`, () => {
      const ours = dumpConfig(parseDrbdConfig(nodeConfigFs, path.join(DRBD_SAMPLES, `${sample}.conf`)));
      expect(layout(ours)).toBe(layout(rec.text));
    });
  }

  it('rejects what 8.4 rejects for a reason we share (rate 100Mbit)', () => {
    expect(recorded84Dump('h7-rate-bits').accepted).toBe(false);
    expect(() => parseDrbdConfig(nodeConfigFs, path.join(DRBD_SAMPLES, 'h7-rate-bits.conf'))).toThrow(/h7-rate-bits\.conf:\d+: '100Mbit' is not a valid number/);
  });
});

/** One-line grammar probes of drbd-samples/extra, with the three parsers' exit codes. */
function extraProbes(): { name: string; exits: number[] }[] {
  const text = readFileSync(path.join(DRBD_SAMPLES, 'out', 'extra-checks.txt'), 'utf8');
  return text
    .split(/^##### /m)
    .slice(1)
    .map((block) => ({
      name: block.split('\n')[0]!.trim(),
      exits: [...block.matchAll(/^ {2}\[drbdadm(?:-8[34])? exit (\d+)\]/gm)].map((m) => Number(m[1])),
    }))
    .filter((p) => p.exits.length === 3);
}

/** Probes where we are stricter than a real parser, on purpose (docs/compatibility.md). */
const STRICTER = new Set([
  // 8.x parsers pass any after-sb-0pri policy to after-sb-1pri; the kernel has no meaning for it.
  'sb1-bad-value',
]);

describe('grammar probes (drbd-samples/extra) against the real parsers', () => {
  const probes = extraProbes();
  it('finds the probes', () => expect(probes.length).toBeGreaterThan(40));
  for (const p of probes) {
    const accept = p.exits.includes(0) && !STRICTER.has(p.name);
    it(`${accept ? 'accepts' : 'rejects'} ${p.name}`, () => {
      const f = path.join(DRBD_SAMPLES, 'extra', `${p.name}.conf`);
      if (accept) expect(parseDrbdConfig(nodeConfigFs, f).resources.length).toBeGreaterThan(0);
      else expect(() => parseDrbdConfig(nodeConfigFs, f)).toThrow(ConfigError);
    });
  }
});

describe('dump agrees in meaning with drbdadm 9 where only 9 accepts (drbd-samples/out)', () => {
  for (const sample of sampleConfigs()) {
    const rec9 = recorded9Dump(sample);
    if (!rec9.accepted || recorded84Dump(sample).accepted) continue;
    it(sample, () => {
      const ours = parseDrbdConfig(nodeConfigFs, path.join(DRBD_SAMPLES, `${sample}.conf`));
      const theirs = parseDrbdConfig(memoryConfigFs({ '/9-dump.conf': rec9.text }), '/9-dump.conf');
      // drbdadm 9 invents node-ids for two-host resources that have none; we do not.
      theirs.resources.forEach((r, i) =>
        r.hosts.forEach((h, j) => {
          if (ours.resources[i]?.hosts[j]?.nodeId === undefined) delete h.nodeId;
        }),
      );
      expect(configMeaning(reparseDump(ours, '/ours.conf'))).toEqual(configMeaning(theirs));
    });
  }
});
