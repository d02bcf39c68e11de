/**
 * The API's ClusterView over the live membership machine: every cl_status
 * request reads the node and link table as it is at that moment.
 */
import type { HaCf } from '../../config/hacf/model.js';
import { SYSLOG_FACILITIES } from '../../shared/log/syslog-sink.js';
import { HB_VERSION_STRING } from '../api/protocol.js';
import type { ApiNode, ClusterView, SignonInfo } from '../api/view.js';
import type { NodeView } from '../membership/index.js';

export interface MembershipReader {
  nodeViews(): NodeView[];
}

/** A time as ha.cf would write it: whole seconds plainly, anything else in ms. */
export function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? String(ms / 1000) : `${ms}ms`;
}

/** getparm answers: the ha.cf values (derived defaults included) as the original keeps them as strings. */
export function hacfParameters(h: HaCf): Record<string, string> {
  const t = h.timings;
  return {
    keepalive: formatSeconds(t.keepaliveMs),
    deadtime: formatSeconds(t.deadtimeMs),
    warntime: formatSeconds(t.warntimeMs),
    initdead: formatSeconds(t.initdeadMs),
    deadping: formatSeconds(t.deadpingMs),
    udpport: String(h.udpport),
    baud: String(h.baud),
    auto_failback: h.autoFailback,
    hopfudge: String(h.hopfudge),
    msgfmt: h.msgfmt,
    autojoin: h.autojoin,
    hbgenmethod: h.hbgenmethod,
    max_rexmit_delay: String(h.maxRexmitDelayMs),
    // cl_status needs it in the sign-on reply; v1 mode only here.
    pacemaker: h.pacemaker === 'off' ? 'false' : h.pacemaker,
  };
}

function logFacilityNumber(h: HaCf): number {
  const name = h.logging.logfacility;
  if (name === undefined || name.toLowerCase() === 'none') return -1;
  return SYSLOG_FACILITIES[name.toLowerCase()] ?? -1;
}

export function membershipClusterView(localNode: string, hacf: HaCf, machine: MembershipReader): ClusterView {
  const params = hacfParameters(hacf);
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
    // Resource management is issue 4; until then we hold nothing.
    resourceState: () => (hacf.manageResources ? 'none' : undefined),
    localClients: () => [],
  };
}
