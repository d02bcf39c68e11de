/** Defaults and bounds of the media layer (heartbeat-wire.md §1.5, §1.6, §6.2). */

/** `udpport` default: `ha-cluster/udp` in /etc/services, else 694. */
export const DEFAULT_UDP_PORT = 694;

/**
 * The largest UDP payload over IPv4 (65535 - 20 - 8). Heartbeat has no
 * fragmentation of its own on UDP media, so nothing larger can be sent or received.
 */
export const MAX_UDP_PAYLOAD = 65_507;

/** `baud` default and the speeds the original accepts (serial.c). */
export const DEFAULT_BAUD = 19_200;
export const SERIAL_BAUD_RATES: readonly number[] = [9600, 19_200, 38_400, 57_600, 115_200, 230_400, 460_800];

/** The original writes long serial frames in 512-byte chunks, pausing 512/(baud/8) s between them. */
export const SERIAL_CHUNK_BYTES = 512;

/**
 * Bytes waiting to go out on a serial link before we drop new packets: a peer
 * that stopped reading must not make us buffer without bound. Four of the
 * largest frames.
 */
export const MAX_SERIAL_BACKLOG_BYTES = 1024 * 1024;

/** mcast ttl range the ha.cf parser allows. */
export const MAX_MCAST_TTL = 4;

/** Interface addresses are re-read when a datagram does not match them, at most this often. */
export const INTERFACE_REFRESH_MS = 1000;
