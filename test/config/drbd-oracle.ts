/**
 * Readers for the recorded verdicts of the real drbdadm parsers
 * (corpus/drbd-oracle.md, reference/drbd-samples/out). Read in place, never copied.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nodeConfigFs, type ConfigFs } from '../../lib/shared/fs.js';
import { CORPUS, REFERENCE } from '../helpers/env.js';

export const DRBD_CORPUS = path.join(CORPUS, 'drbd');
export const DRBD_SAMPLES = path.join(REFERENCE, 'drbd-samples');

export type Parser = 'v9' | '8.4' | '8.3';

export interface OracleEntry {
  readonly entry: string;
  /** Host the oracle ran as, or undefined when the entry has no `on` section. */
  readonly host?: string;
  readonly verdicts: Readonly<Record<Parser, { accepted: boolean; resources?: number }>>;
  /** Main file relative to the entry directory (or the entry itself for single files). */
  readonly main: string;
  /** Text of the wrapper the oracle wrote for sets without a drbd.conf. */
  readonly wrapper?: string;
  /** `FILE:LINE` of every error message the parsers printed (FILE as the oracle shows it). */
  readonly errorPositions: readonly string[];
  /** The oracle rewrote absolute `/etc/drbd.d/` includes to relative ones. */
  readonly rewroteEtc: boolean;
}

export function readOracle(): OracleEntry[] {
  const md = fs.readFileSync(path.join(CORPUS, 'drbd-oracle.md'), 'utf8');
  const rows = [...md.matchAll(/^\| `([^`]+)` \| (?:`([^`]+)`|—) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$/gm)];
  return rows.map((m) => {
    const entry = m[1]!;
    const verdict = (cell: string) => {
      const acc = /accepted \((\d+)\)/.exec(cell);
      return acc ? { accepted: true, resources: Number(acc[1]) } : { accepted: false };
    };
    const start = md.indexOf('### `' + entry + '`');
    const end = md.indexOf('\n### ', start + 1);
    const detail = md.slice(start, end < 0 ? undefined : end);
    const main = /main file: `([^`]+)`/.exec(detail)?.[1] ?? entry;
    const wrapperMatch = /wrapper `oracle-wrapper.conf` = (".*")$/m.exec(detail);
    const errorPositions = [...detail.matchAll(/^ {2}(\S+?):(\d+): /gm)].map((e) => `${e[1]}:${e[2]}`);
    return {
      entry,
      ...(m[2] !== undefined ? { host: m[2] } : {}),
      verdicts: { v9: verdict(m[3]!), '8.4': verdict(m[4]!), '8.3': verdict(m[5]!) },
      main,
      ...(wrapperMatch ? { wrapper: JSON.parse(wrapperMatch[1]!) as string } : {}),
      errorPositions,
      rewroteEtc: detail.includes('rewrote drbd.conf'),
    };
  });
}

/** The ConfigFs and main file to parse an oracle entry the way the oracle ran it. */
export function entryInput(e: OracleEntry): { fs: ConfigFs; file: string; text?: string } {
  const full = path.join(DRBD_CORPUS, e.entry);
  const isDir = fs.statSync(full).isDirectory();
  const file = isDir ? path.join(full, e.main) : full;
  if (e.wrapper !== undefined) return { fs: nodeConfigFs, file, text: e.wrapper };
  if (e.rewroteEtc) {
    return { fs: nodeConfigFs, file, text: fs.readFileSync(file, 'utf8').replaceAll('"/etc/drbd.d/', '"drbd.d/') };
  }
  return { fs: nodeConfigFs, file };
}

/** The text `drbdadm-84 ... dump all` printed for a sample, or undefined when it refused it. */
export function recorded84Dump(sample: string): { accepted: boolean; text: string } {
  const out = fs.readFileSync(path.join(DRBD_SAMPLES, 'out', `${sample}.drbdadm-84.txt`), 'utf8');
  const m = /^\$ drbdadm-84 -c \S+ dump all[^\n]*\n([\s\S]*?)\[exit (\d+)\]/m.exec(out);
  if (m === null) throw new Error(`no dump recorded for ${sample}`);
  return { accepted: m[2] === '0', text: m[1]! };
}

/** The text drbdadm 9.22 (the 9.x parser) printed for `dump all` of a sample. */
export function recorded9Dump(sample: string): { accepted: boolean; text: string } {
  const out = fs.readFileSync(path.join(DRBD_SAMPLES, 'out', `${sample}.drbdadm.txt`), 'utf8');
  const m = /^\$ drbdadm -c \S+ dump all[^\n]*\n([\s\S]*?)\[exit (\d+)\]/m.exec(out);
  if (m === null) throw new Error(`no dump recorded for ${sample}`);
  return { accepted: m[2] === '0', text: m[1]! };
}

export function sampleConfigs(): string[] {
  return fs.readdirSync(DRBD_SAMPLES).filter((f) => f.endsWith('.conf')).map((f) => f.slice(0, -5)).sort();
}
