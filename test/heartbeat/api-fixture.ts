/** A fixed two-node-plus-ping-node cluster for the API tests (the recorded cluster's names and timings). */
import { HB_VERSION_STRING, fixedClusterView, type ClusterSnapshot, type ClusterView } from '../../lib/heartbeat/api/index.js';

export const SNAPSHOT: ClusterSnapshot = {
  localNode: 'node1',
  signon: { deadtimeMs: 5000, keepaliveMs: 1000, logFacility: -1, hbVersion: HB_VERSION_STRING },
  nodes: [
    { name: 'node1', type: 'normal', status: 'active', links: [{ name: 'eth0', status: 'dead' }, { name: 'eth1', status: 'up' }] },
    { name: 'node2', type: 'normal', status: 'active', weight: 50, site: 'east', links: [{ name: 'eth0', status: 'up' }, { name: 'eth1', status: 'dead' }] },
    { name: 'node3', type: 'normal', status: 'dead', links: [{ name: 'eth0', status: 'dead' }] },
    { name: '10.77.0.1', type: 'ping', status: 'ping', links: [{ name: '10.77.0.1', status: 'up' }] },
  ],
  parameters: { keepalive: '1', deadtime: '5', warntime: '3', initdead: '10', auto_failback: 'on', udpport: '694', pacemaker: 'false' },
  resources: 'local',
  localClients: ['ipfail'],
};

export const VIEW: ClusterView = fixedClusterView(SNAPSHOT);
