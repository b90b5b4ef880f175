/**
 * The files or objects one source writes, committed together or not at all. The order is the contract:
 *
 *   rejects ─► outputs ─► (stale rejects, stale members of a partitioned set removed) ─► commit record
 *
 * Rejects first, so whoever finds an output finds its rejected records too; the commit record last, so it
 * never claims a member that is not in place. If any step fails, the members already committed are
 * removed and the rest aborted: a failed source leaves nothing of this conversion behind.
 */
import type { Committed } from './resume.js';

export interface Member {
  /** The name it is recorded under, below the destination root. */
  readonly name: string;
  /** Makes the member visible; resolves to its size, or undefined when it has nothing to show. */
  commit(): Promise<number | undefined>;
  /** Removes every trace of an uncommitted member; harmless after commit or a second time. */
  abort(): Promise<void>;
  /** Takes back a committed member, or clears what an earlier conversion left under its name. */
  remove(): Promise<void>;
}

export interface OutputSetParts {
  /** Where rejected records go, when they are kept. */
  rejects?: Member;
  /** Stores the commit record once every member is in place. */
  record?: (members: Committed[]) => Promise<void>;
  /**
   * An earlier conversion may be there: a member that has nothing this time (no rejects) removes what it
   * left, best effort, once the outputs are in place.
   */
  replacing: boolean;
  /** Removes what an earlier conversion left that this set does not hold, once the set is in place. */
  stale?: (kept: Committed[]) => Promise<void>;
}

export class OutputSet {
  private readonly outputs: Member[] = [];

  constructor(private readonly parts: OutputSetParts) {}

  add(output: Member): void {
    this.outputs.push(output);
  }

  async commit(): Promise<Committed[]> {
    const members = this.parts.rejects ? [this.parts.rejects, ...this.outputs] : this.outputs;
    const committed: Member[] = [];
    const empty: Member[] = [];
    const recorded: Committed[] = [];
    try {
      for (const member of members) {
        const bytes = await member.commit();
        if (bytes === undefined) {
          empty.push(member);
          continue;
        }
        committed.push(member);
        recorded.push({ name: member.name, bytes });
      }
      if (this.parts.replacing) await Promise.all(empty.map((m) => m.remove().catch(() => {})));
      await this.parts.stale?.(recorded);
      await this.parts.record?.(recorded);
    } catch (error) {
      await Promise.allSettled(committed.map((m) => m.remove()));
      await this.abort();
      throw error;
    }
    return recorded;
  }

  async abort(): Promise<void> {
    const members = this.parts.rejects ? [this.parts.rejects, ...this.outputs] : this.outputs;
    await Promise.allSettled(members.map((m) => m.abort()));
  }
}
