import { DEFAULT_BAUD } from './directives.js';
import type { ApiAuth, AutoFailback, AutoJoin, ClientChild, Medium, PacemakerMode, PingNode, Stonith, StonithHost } from './model.js';

/** Mutable state while reading; frozen into HaCf at the end. */
export class Builder {
  nodes: string[] = [];
  nodeLines = new Map<string, number>();
  media: Medium[] = [];
  pingNodes: PingNode[] = [];
  /** Parameters recorded as the original's SetParameterValue does: last value and its line. */
  params = new Map<string, { value: string; line: number }>();
  keepaliveMs = 1000;
  deadtimeMs = 30000;
  warntimeMs: number | undefined;
  initdeadMs: number | undefined;
  deadpingMs: number | undefined;
  udpport: number | undefined;
  baud = DEFAULT_BAUD;
  /** Each UDP plugin fixes its port when its first medium is read (a static in bcast.c / ucast.c). */
  pluginPort = new Map<string, { port: number; line: number }>();
  autoFailback: AutoFailback = 'legacy';
  autoFailbackWritten = false;
  pacemaker: PacemakerMode = 'off';
  pacemakerLine = 0;
  autojoin: AutoJoin = 'none';
  autojoinLine = 0;
  respawn: ClientChild[] = [];
  apiauth: ApiAuth[] = [];
  stonith: Stonith[] = [];
  stonithHost: StonithHost[] = [];
  env: { name: string; value: string }[] = [];
  logfile: string | undefined;
  debugfile: string | undefined;
  logfacility: string | undefined;
  useLogd: boolean | undefined;
  useLogdLine = 0;
  syslogmsgfmt = true;
  connLogdTimeMs = 60000;
  logBadpack = true;
  debug = 0;
  realtime = true;
  rtprio: number | undefined;
  watchdog: string | undefined;
  hopfudge = 1;
  hbgenmethod: 'file' | 'time' = 'file';
  msgfmt: 'classic' | 'netstring' = 'classic';
  compression = 'zlib';
  compressionThresholdKb = 2;
  traditionalCompression = false;
  coredumps = true;
  coreroot: string | undefined;
  maxRexmitDelayMs = 250;
  memreserveKb = 6500;
  cluster = 'linux-ha';
  quorumServer: string | undefined;
  uuidfrom: 'file' | 'nodename' = 'file';
  useApphbd = false;
  pacemakerSettings: Record<string, string> = {};
  seen = new Map<string, number>();
}
