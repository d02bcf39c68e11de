import type { ConfigWarning, SourcePos } from '../../shared/errors.js';

/**
 * A drbd.conf after reading, in modern (8.4/9) terms: legacy forms are already
 * translated, and numbers carry both what the admin wrote and their value in
 * the option's base unit.
 */
export interface DrbdConfig {
  /** The main file, then every included file in reading order. */
  readonly files: readonly string[];
  readonly global: OptionSection;
  readonly common: CommonSection;
  readonly resources: readonly Resource[];
  readonly warnings: readonly ConfigWarning[];
}

export type SectionName = 'options' | 'net' | 'disk' | 'startup' | 'handlers';
export const SECTION_ORDER: readonly SectionName[] = ['options', 'net', 'disk', 'startup', 'handlers'];

/** What an option's bare number counts, so `30M` can be turned into a value. */
export type UnitKind = 'kib' | 'sectors' | 'bytes' | 'tenths' | 'seconds' | 'count';

export interface OptionValue {
  readonly name: string;
  /** The value as drbdadm dump prints it: `30M`, `yes`, `/usr/lib/drbd/x.sh root`. */
  readonly text: string;
  /** Numbers in the option's base unit (KiB/s, sectors, bytes, tenths of a second, ...), booleans, or text. */
  readonly value: number | boolean | string;
  readonly unit?: UnitKind;
  /** Free text (paths, commands, names): printed quoted when it is not a plain word. */
  readonly free?: boolean;
  readonly pos: SourcePos;
}

/** Options in the order they were written (drbdadm dump keeps that order). */
export type OptionSection = Map<string, OptionValue>;

export type Sections = { readonly [K in SectionName]: OptionSection };

export interface CommonSection {
  readonly sections: Sections;
  readonly pos?: SourcePos;
}

export type AddressFamily = 'ipv4' | 'ipv6' | 'ssocks' | 'sdp' | 'sci';

export interface Address {
  readonly family: AddressFamily;
  readonly ip: string;
  readonly port: number;
  readonly pos: SourcePos;
}

export interface Device {
  /** `/dev/drbd1`, or undefined for the bare `minor N` form. */
  readonly path?: string;
  readonly minor: number;
}

export type MetaDisk =
  | { readonly kind: 'internal' }
  /** External: a device of its own (flexible size), or an index into 128 MiB slots. */
  | { readonly kind: 'external'; readonly device: string; readonly index?: number };

export interface Volume {
  readonly vnr: number;
  /** Written as single-volume statements (no `volume N { }`), printed that way again. */
  readonly implicit: boolean;
  device?: Device;
  /** A backing device path, or `none` for an intentionally diskless DRBD 9 node. */
  disk?: string;
  metaDisk?: MetaDisk;
  /** Per-volume `disk { }` options (8.4/9). */
  readonly diskOptions: OptionSection;
  readonly pos: SourcePos;
}

/** An opaque `proxy { }` block, kept as written (DRBD Proxy is not emulated). */
export interface RawBlock {
  readonly keyword: string;
  readonly args: readonly string[];
  readonly body?: readonly RawBlock[];
}

export interface HostSection {
  readonly kind: 'on' | 'floating' | 'stacked-on-top-of';
  /** Host names of `on`; the lower resource of `stacked-on-top-of`; empty for `floating`. */
  readonly names: readonly string[];
  address?: Address;
  nodeId?: number;
  /** The volumes this host runs, after resource-level volumes were pushed in. */
  readonly volumes: Map<number, Volume>;
  readonly proxy: RawBlock[];
  readonly pos: SourcePos;
}

export interface ConnectionHost {
  readonly name: string;
  readonly address?: Address;
  readonly port?: number;
  readonly via?: RawBlock;
}

export interface Path {
  readonly hosts: readonly ConnectionHost[];
  /** Written as `host` statements directly in the connection, without `path { }`. */
  readonly implicit?: boolean;
  readonly pos: SourcePos;
}

export interface Connection {
  readonly name?: string;
  /** `host` statements directly in the connection count as one implicit path. */
  readonly paths: Path[];
  readonly net: OptionSection;
  readonly disk: OptionSection;
  readonly volumeDisk: Map<number, OptionSection>;
  readonly pos: SourcePos;
}

export interface ConnectionMesh {
  readonly hosts: readonly string[];
  readonly net: OptionSection;
  readonly pos: SourcePos;
}

export interface Resource {
  readonly name: string;
  readonly pos: SourcePos;
  readonly sections: Sections;
  readonly hosts: HostSection[];
  readonly connections: Connection[];
  readonly meshes: ConnectionMesh[];
  /** Resource-level volumes (before being pushed into hosts), for reference. */
  readonly volumes: Map<number, Volume>;
  readonly ignoreOn: string[];
  /** The 0.7 `syncer { group N; }`, kept to order resyncs. */
  readonly syncGroup?: number;
}

export function emptySections(): { [K in SectionName]: OptionSection } {
  return { options: new Map(), net: new Map(), disk: new Map(), startup: new Map(), handlers: new Map() };
}

/** A resource's options with the common section's as defaults (the resource's own value wins). */
export function effectiveSection(config: DrbdConfig, res: Resource, section: SectionName): OptionSection {
  const out: OptionSection = new Map(config.common.sections[section]);
  for (const [k, v] of res.sections[section]) out.set(k, v);
  return out;
}
