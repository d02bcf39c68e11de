/**
 * The table kept in the daemon itself: the user-space balancer's source of
 * truth. Commands are applied with ipvsadm's own rules (applyIpvsCommand),
 * so the director behaves the same on both backends.
 */
import { applyIpvsCommand, IpvsCommandError, type IpvsCommand } from '../ipvs/command.js';
import { EMPTY_TABLE, type IpvsTable } from '../ipvs/model.js';
import type { IpvsBackend } from './types.js';

export class MemoryBackend implements IpvsBackend {
  readonly name = 'userspace' as const;
  private table: IpvsTable = EMPTY_TABLE;
  private readonly listeners = new Set<(t: IpvsTable) => void>();

  async read(): Promise<IpvsTable> {
    return this.table;
  }

  current(): IpvsTable {
    return this.table;
  }

  onChange(fn: (t: IpvsTable) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async apply(command: IpvsCommand): Promise<string | undefined> {
    try {
      this.table = applyIpvsCommand(this.table, command);
    } catch (e) {
      if (e instanceof IpvsCommandError) return e.message;
      throw e;
    }
    for (const fn of this.listeners) fn(this.table);
    return undefined;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
