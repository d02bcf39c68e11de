/**
 * Log texts that admins grep for and that Heartbeat 3.0.6 writes verbatim
 * (heartbeat-live.md §3.11, observed in vectors/*-ha-log.txt). The shell adds
 * the `%b %d %T host heartbeat: [pid]: level: ` prefix.
 */
import type { LinkStatus, LogLevel, MembershipAction } from './types.js';

type Log = Extract<MembershipAction, { kind: 'log' }>;
const log = (level: LogLevel, text: string): Log => ({ kind: 'log', level, text });

export const logLinkStatus = (node: string, link: string, status: LinkStatus): Log =>
  log('info', `Link ${node}:${link} ${status}.`);

export const logNodeDead = (node: string): Log => log('WARN', `node ${node}: is dead`);

export const logStatusUpdate = (node: string, status: string): Log =>
  log('info', `Status update for node ${node}: status ${status}`);

export const logLateHeartbeat = (node: string, intervalMs: number): Log =>
  log('WARN', `Late heartbeat: Node ${node}: interval ${intervalMs} ms`);

export const logLateHeartbeatPastDeadtime = (node: string, intervalMs: number): Log =>
  log('CRIT', `Late heartbeat: Node ${node}: interval ${intervalMs} ms (> deadtime)`);

export const logLocalStatus = (status: string): Log => log('info', `Local status now set to: '${status}'`);

export const logCommNowUp = (): Log => log('info', 'Comm_now_up(): updating status to active');

export const logPeerRestart = (node: string): Log => log('info', `Heartbeat restart on node ${node}`);

export const logReplay = (node: string, gen: number, current: number): Log =>
  log('ERROR', `should_drop_message: attempted replay attack [${node}]? [gen = ${gen}, curgen = ${current}]`);

export const logBadSequence = (): Log => log('ERROR', 'should_drop_message: bad sequence number');

export const logBadNode = (node: string): Log => log('ERROR', `process_status_message: bad node [${node}] in message`);

export const logLostPackets = (n: number, node: string, last: number, seq: number): Log =>
  log('WARN', `${n} lost packet(s) for [${node}] [${last}:${seq}]`);

export const logBadNak = (): Log => log('ERROR', 'should_drop_message: bad nak seq number');

export const logLostALot = (): Log => log('ERROR', 'lost a lot of packets!');

/** The five lines the original writes when a dead node speaks again (split brain healed). */
export const logsReturningAfterPartition = (node: string): Log[] => [
  log('CRIT', `Cluster node ${node} returning after partition.`),
  log('info', 'For information on cluster partitions, See URL: http://linux-ha.org/wiki/Split_Brain'),
  log('WARN', 'Deadtime value may be too small.'),
  log('info', 'See FAQ for information on tuning deadtime.'),
  log('info', 'URL: http://linux-ha.org/wiki/FAQ#Heavy_Load'),
];

export const logsNoLocalHeartbeat = (): Log[] => [
  log('ERROR', 'No local heartbeat. Forcing restart.'),
  log('info', 'See URL: http://linux-ha.org/wiki/FAQ#No_Local_Heartbeat'),
];

export const logStatusWithoutSt = (): Log => log('ERROR', 'HBDoMsg_T_STATUS: status update without st field');

export const logFlowControlDisabled = (): Log => log('info', 'flow control disabled due to different version heartbeat');

export const logShutdownNotice = (node: string): Log => log('info', `Received shutdown notice from '${node}'.`);
