/**
 * The API's ClusterView over the live membership machine: every cl_status
 * request reads the node and link table as it is at that moment.
 */
import type { HaCf } from '../../config/hacf/model.js';
import { SYSLOG_FACILITIES } from '../../shared/log/syslog-sink.js';
import { apiParameters, recordedDirectives } from '../api/parameters.js';
import { HB_VERSION_STRING } from '../api/protocol.js';
import type { ApiNode, ClusterView, ResourceState, SignonInfo } from '../api/view.js';
import type { NodeView } from '../membership/index.js';

export interface MembershipReader {
  nodeViews(): NodeView[];
}

function logFacilityNumber(h: HaCf): number {
  const name = h.logging.logfacility;
  if (name === undefined || name.toLowerCase() === 'none') return -1;
  return SYSLOG_FACILITIES[name.toLowerCase()] ?? -1;
}

/**
 * `haCfText` is the ha.cf as read: getparm reports values as written there
 * (`keepalive 1` stays `1`, an unset warntime is `15000ms`), which only the
 * text, not the normalized model, still knows.
 */
export function membershipClusterView(
  localNode: string,
  hacf: HaCf,
  machine: MembershipReader,
  haCfText: string,
  debugLevel = 0,
  /** cl_status rscstatus from the resource manager; without it a node that manages resources holds none. */
  resourceState?: () => ResourceState | undefined,
): ClusterView {
  const params = apiParameters({
    directives: recordedDirectives(haCfText),
    deadtimeMs: hacf.timings.deadtimeMs,
    logFacility: logFacilityNumber(hacf),
    debugLevel,
    defaultUdpPort: hacf.udpport,
  });
  const signon: SignonInfo = {
    deadtimeMs: hacf.timings.deadtimeMs,
    keepaliveMs: hacf.timings.keepaliveMs,
    logFacility: logFacilityNumber(hacf),
    hbVersion: HB_VERSION_STRING,
  };
  return {
    localNode: () => localNode,
    signonInfo: () => signon,
    nodes: (): ApiNode[] =>
      machine.nodeViews().map((n) => ({
        name: n.name,
        type: n.kind,
        status: n.status,
        links: n.links.map((l) => ({ name: l.name, status: l.status })),
      })),
    parameter: (name) => (Object.prototype.hasOwnProperty.call(params, name) ? params[name] : undefined),
    resourceState: resourceState ?? (() => (hacf.manageResources ? 'none' : undefined)),
    localClients: () => [],
  };
}
