/**
 * The server's answers during option haggling and its checks on requests. Pure.
 */
import { CMD, CMD_FLAG, ERRNO, HS_FLAG, INFO, MAX_PAYLOAD, OPT, REP, TF, decodeGoData, encodeExportNameReply, encodeInfoBlockSize, encodeInfoExport, encodeInfoText, encodeOptionError, encodeOptionReply, type NbdRequest } from './codec.js';

export interface ExportInfo {
  /** The export's name; '' (the default export) also finds the first export. */
  readonly name: string;
  readonly description?: string;
  readonly size: bigint;
  /** A Secondary: exported read-only, writes answered EPERM. */
  readonly readOnly: boolean;
  /** Why it is read-only, sent as the export description and in error texts. */
  readonly readOnlyReason?: string;
}

export interface ExportCatalog {
  lookup(name: string): ExportInfo | undefined;
  list(): readonly ExportInfo[];
}

export interface OptionOutcome {
  readonly replies: readonly Uint8Array[];
  /** Negotiation is over: serve this export. */
  readonly export?: ExportInfo;
  /** Close the connection after sending the replies. */
  readonly close?: boolean;
}

export function transmissionFlags(e: ExportInfo): number {
  let f = TF.HAS_FLAGS | TF.SEND_FLUSH | TF.SEND_FUA | TF.SEND_TRIM | TF.SEND_WRITE_ZEROES | TF.CAN_MULTI_CONN;
  if (e.readOnly) f |= TF.READ_ONLY;
  return f;
}

export function handleOption(option: number, data: Uint8Array, clientFlags: number, catalog: ExportCatalog): OptionOutcome {
  switch (option) {
    case OPT.EXPORT_NAME: {
      const e = catalog.lookup(Buffer.from(data).toString('utf8'));
      // No way to send an error here: the protocol says close the connection.
      if (e === undefined) return { replies: [], close: true };
      return { replies: [encodeExportNameReply(e.size, transmissionFlags(e), (clientFlags & HS_FLAG.NO_ZEROES) !== 0)], export: e };
    }
    case OPT.ABORT:
      return { replies: [encodeOptionReply(option, REP.ACK)], close: true };
    case OPT.LIST: {
      if (data.length !== 0) return { replies: [encodeOptionError(option, REP.ERR_INVALID, 'NBD_OPT_LIST takes no data')] };
      const out: Uint8Array[] = [];
      for (const e of catalog.list()) {
        const n = Buffer.from(e.name, 'utf8');
        const d = Buffer.from(e.description ?? '', 'utf8');
        const b = Buffer.alloc(4 + n.length + d.length);
        b.writeUInt32BE(n.length, 0);
        b.set(n, 4);
        b.set(d, 4 + n.length);
        out.push(encodeOptionReply(option, REP.SERVER, b));
      }
      out.push(encodeOptionReply(option, REP.ACK));
      return { replies: out };
    }
    case OPT.INFO:
    case OPT.GO: {
      const req = decodeGoData(data);
      if (req === undefined) return { replies: [encodeOptionError(option, REP.ERR_INVALID, 'malformed NBD_OPT_INFO/GO data')] };
      const e = catalog.lookup(req.name);
      if (e === undefined) return { replies: [encodeOptionError(option, REP.ERR_UNKNOWN, `export '${req.name}' not available`)] };
      const replies: Uint8Array[] = [encodeOptionReply(option, REP.INFO, encodeInfoExport(e.size, transmissionFlags(e)))];
      if (req.infos.includes(INFO.NAME)) replies.push(encodeOptionReply(option, REP.INFO, encodeInfoText(INFO.NAME, e.name)));
      const desc = e.readOnly && e.readOnlyReason !== undefined ? e.readOnlyReason : e.description;
      if (req.infos.includes(INFO.DESCRIPTION) && desc !== undefined) replies.push(encodeOptionReply(option, REP.INFO, encodeInfoText(INFO.DESCRIPTION, desc)));
      if (req.infos.includes(INFO.BLOCK_SIZE)) replies.push(encodeOptionReply(option, REP.INFO, encodeInfoBlockSize(1, 4096, MAX_PAYLOAD)));
      replies.push(encodeOptionReply(option, REP.ACK));
      return option === OPT.GO ? { replies, export: e } : { replies };
    }
    case OPT.STARTTLS:
      return { replies: [encodeOptionError(option, REP.ERR_POLICY, 'TLS is not offered on this socket')] };
    default:
      return { replies: [encodeOptionError(option, REP.ERR_UNSUP, `option ${option} is not supported`)] };
  }
}

const WRITES: ReadonlySet<number> = new Set([CMD.WRITE, CMD.TRIM, CMD.WRITE_ZEROES]);

/** The errno to answer a request with before touching the disk, or undefined when it may go ahead. */
export function checkRequest(r: NbdRequest, e: ExportInfo): number | undefined {
  const known = r.type === CMD.READ || r.type === CMD.WRITE || r.type === CMD.FLUSH || r.type === CMD.TRIM || r.type === CMD.WRITE_ZEROES || r.type === CMD.CACHE;
  if (!known) return ERRNO.EINVAL;
  const allowed = CMD_FLAG.FUA | CMD_FLAG.NO_HOLE | CMD_FLAG.FAST_ZERO | CMD_FLAG.DF;
  if ((r.flags & ~allowed) !== 0) return ERRNO.EINVAL;
  if (WRITES.has(r.type) && e.readOnly) return ERRNO.EPERM;
  if (r.type === CMD.FLUSH) return undefined;
  if (r.type === CMD.READ && r.length > MAX_PAYLOAD) return ERRNO.EINVAL;
  if (r.type === CMD.WRITE && r.data?.length !== r.length) return ERRNO.EINVAL;
  if (r.offset + BigInt(r.length) > e.size) return WRITES.has(r.type) ? ERRNO.ENOSPC : ERRNO.EINVAL;
  return undefined;
}
