/**
 * Names of the local client API (Heartbeat 3.0.6 include/hb_api.h,
 * include/hb_api_core.h): message types, request types, field names, results.
 */

export const T_APIREQ = 'hbapi-req';
export const T_APIRESP = 'hbapi-resp';
/** Remote client-status query and its answer (clientstatus across nodes). */
export const T_QCSTATUS = 'query-cstatus';
export const T_RCSTATUS = 'respond-cstatus';
/** A named client joined or left (to the cluster). */
export const T_APICLISTAT = 'hbapi-clstat';

export const Req = {
  signon: 'signon',
  signoff: 'signoff',
  setfilter: 'setfilter',
  setsignal: 'setsignal',
  nodelist: 'nodelist',
  nodestatus: 'nodestatus',
  nodeweight: 'nodeweight',
  nodesite: 'nodesite',
  nodetype: 'nodetype',
  numnodes: 'numnodes',
  iflist: 'iflist',
  ifstatus: 'ifstatus',
  getparm: 'getparm',
  getrsc: 'getrsc',
  getuuid: 'getuuid',
  getnodename: 'getnodename',
  clientstatus: 'clientstatus',
  setSendqlen: 'set_sendqlen',
} as const;

export const Result = { ok: 'OK', more: 'ok/more', badreq: 'badreq' } as const;

/** Field names used on this channel. */
export const AF = {
  type: 't',
  subtype: 'subt',
  reqtype: 'reqtype',
  result: 'result',
  comment: 'info',
  to: 'dest',
  pid: 'pid',
  fromId: 'from_id',
  toId: 'to_id',
  uid: 'uid',
  gid: 'gid',
  node: 'node',
  nodetype: 'nodetype',
  status: 'st',
  weight: 'weight',
  site: 'site',
  numnodes: 'numnodes',
  ifname: 'ifname',
  pname: 'pname',
  pvalue: 'pvalue',
  resources: 'rsc_hold',
  clientName: 'cn',
  clientStatus: 'cs',
  deadtime: 'deadtime',
  keepalive: 'keepalive',
  logfacility: 'logfacility',
  hbversion: 'hbversion',
  pacemaker: 'pacemaker',
  queryName: 'queryname',
  queryUuid: 'queryuuid',
  clientGeneration: 'client_gen',
} as const;

/** What `hbversion` reads on a Debian 3.0.6 node; scripts and monitors may compare it. */
export const HB_VERSION_STRING = '3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)';

/** Where the register socket lives under the run directory. */
export const REGISTER_SOCKET_SUBPATH = 'heartbeat/register';
export const DEFAULT_RUN_DIR = '/var/run';
/** Environment variable that points our cl_status (and tests) at another socket. */
export const REGISTER_SOCKET_ENV = 'HEARTBEAT_API_SOCKET';
