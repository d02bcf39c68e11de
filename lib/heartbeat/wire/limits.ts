/**
 * Size bounds of the wire codec, taken from cluster-glue 1.0.12 so that what we
 * accept and emit fits what a real 3.0.6 peer accepts and emits.
 */

/** MAXMSG: the largest message on the wire (receive buffers have this size). */
export const MAX_WIRE_MESSAGE_BYTES = 256 * 1024;
/** MAXDEPTH: nested messages deeper than this are refused. */
export const MAX_NESTING_DEPTH = 16;
/** Field names are short identifiers; glue refuses names of 255 bytes and more in places. */
export const MAX_FIELD_NAME_BYTES = 254;
/** Authkeys index range (MAXAUTH = 16). */
export const MAX_AUTH_INDEX = 15;
/** The auth trailer `<n> <token>` is at most this long (glue's MAX_AUTH_BYTES). */
export const MAX_AUTH_TRAILER_BYTES = 64;
