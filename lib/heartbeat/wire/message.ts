/**
 * The message model: an ordered list of named fields, as Heartbeat's ha_msg
 * holds it. Order is kept because signatures cover the fields in wire order and
 * a re-encoded message must be byte-identical; names may repeat (lookup returns
 * the first). Values are bytes, not JS strings, so nothing a peer sent is lost.
 */
import { fromLatin1, fromUtf8, isLatin1, utf8 } from './bytes.js';
import { WireError, WireErrorCode } from './errors.js';
import { MAX_FIELD_NAME_BYTES } from './limits.js';

/** The type digit each field carries on the wire (glue's FT_* numbers). */
export const FIELD_TYPE_CODE = { string: 0, binary: 1, struct: 2, list: 3 } as const;
export type FieldKind = keyof typeof FIELD_TYPE_CODE;

export type HaField =
  | { readonly name: string; readonly kind: 'string'; readonly value: Uint8Array }
  | { readonly name: string; readonly kind: 'binary'; readonly value: Uint8Array }
  | { readonly name: string; readonly kind: 'struct'; readonly value: HaMessage }
  | { readonly name: string; readonly kind: 'list'; readonly value: readonly Uint8Array[] };

/** Field names of the v1 protocol (include/ha_msg.h). */
export const F = {
  type: 't',
  orig: 'src',
  origUuid: 'srcuuid',
  to: 'dest',
  toUuid: 'destuuid',
  seq: 'seq',
  generation: 'hg',
  time: 'ts',
  load: 'ld',
  ttl: 'ttl',
  auth: 'auth',
  status: 'st',
  deadtime: 'dt',
  protocol: 'protocol',
  info: 'info',
  rscHold: 'rsc_hold',
  firstSeq: 'firstseq',
  lastSeq: 'lastseq',
  ackSeq: 'ackseq',
} as const;

/**
 * Why a name is not allowed, or undefined. Names are latin1 strings (one char
 * per byte). Refused: empty, too long, NUL, `=` or newline (both formats split
 * on them), a leading `(` (classic reads it as a type prefix) and a leading
 * `>>>` (glue refuses it as a field).
 */
export function fieldNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'empty field name';
  if (name.length > MAX_FIELD_NAME_BYTES) return `field name longer than ${MAX_FIELD_NAME_BYTES} bytes`;
  if (!isLatin1(name)) return 'field name is not a byte string (latin1)';
  if (/[\0=\n]/.test(name)) return 'field name contains NUL, "=" or newline';
  if (name.startsWith('(')) return 'field name starts with "("';
  if (name.startsWith('>>>')) return 'field name starts with ">>>"';
  return undefined;
}

function checkName(name: string): void {
  const problem = fieldNameProblem(name);
  if (problem !== undefined) throw new WireError(WireErrorCode.BadField, `${problem}: ${JSON.stringify(name)}`);
}

const toBytes = (v: string | Uint8Array): Uint8Array => (typeof v === 'string' ? utf8(v) : v);

/** Lowercase hex without prefix: how the original writes seq, hg, ts, dt, ackseq. */
const HEX = /^[0-9a-fA-F]{1,13}$/;
const DEC = /^(0|[1-9][0-9]{0,14})$/;

export class HaMessage {
  private readonly list: HaField[] = [];

  /** A message of string fields, in the given order. */
  static of(pairs: Iterable<readonly [string, string | Uint8Array]>): HaMessage {
    const m = new HaMessage();
    for (const [n, v] of pairs) m.add(n, v);
    return m;
  }

  get fields(): readonly HaField[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  /** Appends any field (names are checked). */
  push(field: HaField): this {
    checkName(field.name);
    this.list.push(field);
    return this;
  }

  /** Appends a string field; JS strings are stored as UTF-8. */
  add(name: string, value: string | Uint8Array): this {
    return this.push({ name, kind: 'string', value: toBytes(value) });
  }

  addBinary(name: string, value: Uint8Array): this {
    return this.push({ name, kind: 'binary', value });
  }

  addStruct(name: string, value: HaMessage): this {
    return this.push({ name, kind: 'struct', value });
  }

  addList(name: string, items: readonly (string | Uint8Array)[]): this {
    return this.push({ name, kind: 'list', value: items.map(toBytes) });
  }

  /** First field of that name. */
  field(name: string): HaField | undefined {
    return this.list.find((f) => f.name === name);
  }

  has(name: string): boolean {
    return this.field(name) !== undefined;
  }

  /** The first string field of that name, as UTF-8 text (binary and others: undefined). */
  get(name: string): string | undefined {
    const f = this.field(name);
    return f?.kind === 'string' ? fromUtf8(f.value) : undefined;
  }

  /** Raw bytes of the first string or binary field of that name. */
  getBytes(name: string): Uint8Array | undefined {
    const f = this.field(name);
    return f?.kind === 'string' || f?.kind === 'binary' ? f.value : undefined;
  }

  /**
   * Replaces the first field of that name in place, or appends it (ha_msg_mod):
   * in-place replacement keeps the wire order, which signatures depend on.
   */
  set(field: HaField): this {
    checkName(field.name);
    const i = this.list.findIndex((f) => f.name === field.name);
    if (i < 0) this.list.push(field);
    else this.list[i] = field;
    return this;
  }

  setString(name: string, value: string | Uint8Array): this {
    return this.set({ name, kind: 'string', value: toBytes(value) });
  }

  /** Removes every field of that name; returns how many were removed. */
  remove(name: string): number {
    let n = 0;
    for (let i = this.list.length - 1; i >= 0; i--) {
      if (this.list[i]!.name === name) {
        this.list.splice(i, 1);
        n++;
      }
    }
    return n;
  }

  /** A deep copy (values are shared: they are never mutated in place). */
  clone(): HaMessage {
    const m = new HaMessage();
    for (const f of this.list) m.list.push(f.kind === 'struct' ? { ...f, value: f.value.clone() } : f);
    return m;
  }

  // ---- typed accessors for the control fields ----

  /** A string field read as lowercase/uppercase hex without prefix; undefined when absent or not plain hex. */
  hex(name: string): number | undefined {
    const v = this.get(name);
    return v !== undefined && HEX.test(v) ? parseInt(v, 16) : undefined;
  }

  /** A string field read as plain decimal; undefined when absent or not a plain number. */
  decimal(name: string): number | undefined {
    const v = this.get(name);
    return v !== undefined && DEC.test(v) ? Number(v) : undefined;
  }

  setHex(name: string, n: number): this {
    return this.setString(name, nonNegativeInt(name, n).toString(16));
  }

  setDecimal(name: string, n: number): this {
    return this.setString(name, nonNegativeInt(name, n).toString(10));
  }

  /** `t`: message type, e.g. `status`, `NS_ackmsg`. */
  get type(): string | undefined {
    return this.get(F.type);
  }
  /** `src`: originating node name. */
  get src(): string | undefined {
    return this.get(F.orig);
  }
  /** `dest`: destination node (absent: everybody). */
  get dest(): string | undefined {
    return this.get(F.to);
  }
  /** `seq` (hex): per-sender sequence number; absent on `NS_*` types. */
  get seq(): number | undefined {
    return this.hex(F.seq);
  }
  /** `hg` (hex): the sender's generation, raised at every daemon start. */
  get generation(): number | undefined {
    return this.hex(F.generation);
  }
  /** `ts` (hex): sender wall clock in seconds. */
  get timestamp(): number | undefined {
    return this.hex(F.time);
  }
  /** `ld`: the sender's /proc/loadavg line, informational. */
  get load(): string | undefined {
    return this.get(F.load);
  }
  /** `ttl` (decimal): informational in 3.0.6. */
  get ttl(): number | undefined {
    return this.decimal(F.ttl);
  }
  /** `auth`: the inner classic signature `<index> <token>` (last one wins, as in the original). */
  get auth(): string | undefined {
    const all = this.list.filter((f) => f.name === F.auth);
    const last = all[all.length - 1];
    return last?.kind === 'string' ? fromUtf8(last.value) : undefined;
  }
  /** `st`: node status in status packets. */
  get status(): string | undefined {
    return this.get(F.status);
  }
  /** `dt` (hex ms): the sender's advertised deadtime. */
  get deadtimeMs(): number | undefined {
    return this.hex(F.deadtime);
  }
  /** `srcuuid`: 16 raw bytes. */
  get srcUuid(): Uint8Array | undefined {
    const f = this.field(F.origUuid);
    return f?.kind === 'binary' ? f.value : undefined;
  }
  get destUuid(): Uint8Array | undefined {
    const f = this.field(F.toUuid);
    return f?.kind === 'binary' ? f.value : undefined;
  }
}

function nonNegativeInt(name: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new WireError(WireErrorCode.Unencodable, `${name} must be a non-negative integer, got ${n}`);
  return n;
}

/** Structural equality, byte for byte (for tests and duplicate checks). */
export function messagesEqual(a: HaMessage, b: HaMessage): boolean {
  if (a.size !== b.size) return false;
  return a.fields.every((fa, i) => {
    const fb = b.fields[i]!;
    if (fa.name !== fb.name || fa.kind !== fb.kind) return false;
    switch (fa.kind) {
      case 'struct':
        return messagesEqual(fa.value, fb.value as HaMessage);
      case 'list': {
        const lb = fb.value as readonly Uint8Array[];
        return fa.value.length === lb.length && fa.value.every((x, j) => Buffer.compare(x, lb[j]!) === 0);
      }
      default:
        return Buffer.compare(fa.value, fb.value as Uint8Array) === 0;
    }
  });
}

/** Names as bytes, for the encoders. */
export const nameBytes = (name: string): Uint8Array => fromLatin1(name);
