/**
 * ipfail's decisions as a pure state machine (Heartbeat 3.0.6's
 * contrib/ipfail/ipfail.c, re-implemented). The shell asks the daemon how
 * many ping nodes are visible and whether resources are stable before it
 * feeds an event; the machine compares counts with the peer's ipfail through
 * three messages and, on the side that sees fewer, asks the daemon to go
 * standby for all its groups (`t=ask_resources rsc_hold=all info=me`) after
 * twice the keepalive.
 *
 * Messages between the two ipfails (each addressed to the other node and
 * delivered to the client named `ipfail` there):
 *   num_ping_nodes  src=<us> num_ping=<n>   "this many ping nodes answer me; you?"
 *   you_are_dead                            "I see more: give up"
 *   abort_giveup    src=<us>                "we are balanced: cancel a pending give-up"
 */

export type IpfailLevel = 'ERROR' | 'info' | 'debug';
export type GiveupSet = 'all' | 'foreign';
export type Fields = readonly (readonly [string, string])[];

export interface IpfailConfig {
  readonly localNode: string;
  /** The other normal node (the last one the node walk showed, as the original). */
  readonly otherNode: string;
  /** auto_failback on (off: false; legacy never gets here). */
  readonly autoFailback: boolean;
  readonly keepaliveMs: number;
  /** How long to wait after the peer became stable before asking again (the original sleeps 10 s). */
  readonly recheckMs?: number;
}

export type IpfailEvent =
  /** Node status change (`status`/`NS_st` from the daemon); `pingCount` counted just now. */
  | { readonly kind: 'nodeStatus'; readonly node: string; readonly status: string; readonly pingCount: number }
  /** Link status change (`ifstat`). */
  | { readonly kind: 'linkStatus'; readonly node: string; readonly link: string; readonly status: string; readonly pingCount: number }
  /** A cluster message (fields as strings); `stable` = getrsc is not `transition`. */
  | { readonly kind: 'message'; readonly fields: Readonly<Record<string, string>>; readonly pingCount: number; readonly stable: boolean }
  /** The delayed give-up timer fired. */
  | { readonly kind: 'giveupTimer'; readonly stable: boolean }
  /** The recheck timer (after the peer became stable while a standby was pending) fired. */
  | { readonly kind: 'recheckTimer'; readonly pingCount: number };

export type IpfailAction =
  | { readonly kind: 'log'; readonly level: IpfailLevel; readonly text: string }
  | { readonly kind: 'sendToPeer'; readonly fields: Fields }
  | { readonly kind: 'sendToCluster'; readonly fields: Fields }
  | { readonly kind: 'armGiveup'; readonly ms: number }
  | { readonly kind: 'cancelGiveup' }
  | { readonly kind: 'armRecheck'; readonly ms: number };

const atoi = (s: string | undefined): number => {
  const m = /^\s*([+-]?\d+)/.exec(s ?? '');
  return m ? parseInt(m[1]!, 10) : 0;
};

export class IpfailMachine {
  private out: IpfailAction[] = [];
  /** The pending give-up: which class, and an id for the log (the original's glib tag). */
  private giveup: { set: GiveupSet; tag: number } | undefined;
  private nextTag = 1;
  /** A give-up found resources in transition: retry when the peer says it is stable. */
  private needStandby = false;
  /** What the peer's last `resource` message said. */
  peerStable = false;

  constructor(private readonly cfg: IpfailConfig) {}

  get pendingGiveup(): GiveupSet | undefined {
    return this.giveup?.set;
  }

  get waitingForStability(): boolean {
    return this.needStandby;
  }

  handle(e: IpfailEvent): IpfailAction[] {
    this.out = [];
    switch (e.kind) {
      case 'nodeStatus':
        this.nodeStatus(e.node, e.status, e.pingCount);
        break;
      case 'linkStatus':
        this.linkStatus(e.node, e.link, e.status, e.pingCount);
        break;
      case 'message':
        this.message(e.fields, e.pingCount, e.stable);
        break;
      case 'giveupTimer':
        this.giveupFired(e.stable);
        break;
      case 'recheckTimer':
        this.askPingNodes(e.pingCount);
        this.needStandby = false;
        break;
    }
    return this.out;
  }

  private log(level: IpfailLevel, text: string): void {
    this.out.push({ kind: 'log', level, text });
  }

  private nodeStatus(node: string, status: string, pingCount: number): void {
    this.log('info', `Status update: Node ${node} now has status ${status}`);
    if (status === 'dead') {
      this.log('info', pingCount > 0 ? 'NS: We are still alive!' : 'NS: We are dead. :<');
    } else if (status === 'ping') {
      // A ping node came (back) up: compare again, in case both were down and now only one is up.
      this.log('info', 'A ping node just came up.');
      this.askPingNodes(pingCount);
    }
  }

  private linkStatus(node: string, link: string, status: string, pingCount: number): void {
    this.log('info', `Link Status update: Link ${node}/${link} now has status ${status}`);
    if (status !== 'dead') return;
    if (pingCount > 0) {
      this.askPingNodes(pingCount);
      this.log('info', 'Checking remote count of ping nodes.');
    } else {
      this.log('info', 'We are dead. :<');
      this.askPingNodes(0);
    }
  }

  private askPingNodes(n: number): void {
    this.log('info', 'Asking other side for ping node count.');
    this.out.push({ kind: 'sendToPeer', fields: [['t', 'num_ping_nodes'], ['src', this.cfg.localNode], ['num_ping', String(n)]] });
    this.log('debug', 'Message [num_ping] sent.');
  }

  private message(f: Readonly<Record<string, string>>, pingCount: number, stable: boolean): void {
    switch (f['t']) {
      case 'hbapi-clstat':
        // The peer's ipfail signed on: compare counts with it.
        if (f['st'] === 'join' && f['from_id'] === 'ipfail' && f['src'] !== undefined && f['src'] !== this.cfg.localNode) {
          this.log('debug', `Got join message from another ipfail client. (${f['src']})`);
          this.askPingNodes(pingCount);
        }
        return;
      case 'resource':
        return this.resources(f);
      case 'num_ping_nodes':
        return this.numPing(atoi(f['num_ping']), pingCount, stable);
      case 'abort_giveup':
        return this.abortGiveup();
      case 'you_are_dead':
        this.log('info', 'Giving up because we were told that we have less ping nodes.');
        return this.delayGiveup('all');
    }
  }

  private resources(f: Readonly<Record<string, string>>): void {
    const orig = f['src'];
    const isstable = f['isstable'];
    if (orig === undefined || isstable === undefined || orig !== this.cfg.otherNode) return;
    if (f['info'] === undefined && isstable === '1') {
      this.log('debug', 'Other side is now stable.');
      this.peerStable = true;
      if (this.needStandby) {
        // The original sleeps 10 s here (giving the take-over's ARPs time), then compares again.
        this.out.push({ kind: 'armRecheck', ms: this.cfg.recheckMs ?? 10_000 });
      }
    } else if (isstable === '0') {
      this.log('debug', 'Other side is unstable.');
      this.peerStable = false;
    }
  }

  private numPing(theirs: number, ours: number, stable: boolean): void {
    this.log('debug', 'Got asked for num_ping.');
    if (ours > theirs) {
      this.log('info', 'Telling other node that we have more visible ping nodes.');
      this.log('debug', 'Sending you_are_dead.');
      this.out.push({ kind: 'sendToPeer', fields: [['t', 'you_are_dead']] });
      this.log('debug', 'Message [you_are_dead] sent.');
    } else if (ours < theirs) {
      this.log('info', 'Giving up because we have less visible ping nodes.');
      this.delayGiveup('all');
    } else {
      this.log('info', 'Ping node count is balanced.');
      this.out.push({ kind: 'sendToPeer', fields: [['t', 'abort_giveup'], ['src', this.cfg.localNode]] });
      this.log('debug', 'Abort message sent.');
      if (this.giveup !== undefined) this.abortGiveup();
      else if (this.cfg.autoFailback && stable) {
        // Balanced again: with auto_failback on, what we hold for the peer goes back.
        this.log('info', 'Giving up foreign resources (auto_failback).');
        this.delayGiveup('foreign');
      }
    }
  }

  private delayGiveup(set: GiveupSet): void {
    const ms = this.cfg.keepaliveMs * 2;
    this.log('info', `Delayed giveup in ${Math.trunc(ms / 1000)} seconds.`);
    if (this.giveup !== undefined) {
      this.log('debug', 'Detected existing delay timer, overriding');
      this.out.push({ kind: 'cancelGiveup' });
    }
    this.giveup = { set, tag: this.nextTag++ };
    this.out.push({ kind: 'armGiveup', ms });
  }

  private abortGiveup(): void {
    if (this.giveup !== undefined) {
      this.log('info', `Aborted delayed giveup (${this.giveup.tag})`);
      this.giveup = undefined;
      this.out.push({ kind: 'cancelGiveup' });
    } else this.log('info', 'No giveup timer to abort.');
  }

  private giveupFired(stable: boolean): void {
    const g = this.giveup;
    if (g === undefined) return;
    this.giveup = undefined;
    this.log('info', 'giveup() called (timeout worked)');
    if (stable) {
      this.out.push({ kind: 'sendToCluster', fields: [['t', 'ask_resources'], ['rsc_hold', g.set], ['src', this.cfg.localNode], ['info', 'me']] });
      this.log('debug', 'Message [ask_resources] sent.');
      this.needStandby = false;
    } else this.needStandby = true;
    this.log('debug', 'giveup timeout has been destroyed.');
  }
}
