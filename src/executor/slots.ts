import { migratingVmids, type ExecutorPort } from './port.js';

/**
 * The migration slots of the cluster, counted in this one place: busy are the guests the cluster
 * shows migrating (started by anyone), plus ours until we have seen their outcome (a task can end
 * in Proxmox before our follower has read it: its slot is not free until then).
 */
export class Slots {
  /** Every migration of this run being followed (companions HA moves along too). */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Our migrations in flight, by vmid. */
  private readonly ours = new Map<number, Promise<unknown>>();
  /** UPIDs of our migrations whose end we have seen. */
  private readonly seenEnded = new Set<string>();

  constructor(private readonly port: Pick<ExecutorPort, 'clusterTasks'>, readonly limit: number) {}

  /**
   * Waits for a free slot: our own migrations finishing free one; others' are re-counted after each.
   * Stops waiting when only others' migrations are busy (we do not wait for them) or when `stop`
   * says so. Resolves to the guests busy at the last count.
   */
  async wait(stop: () => boolean): Promise<Set<number>> {
    for (;;) {
      const tasks = await this.port.clusterTasks();
      const busy = new Set([...migratingVmids(tasks.filter((t) => !this.seenEnded.has(t.upid))), ...this.ours.keys()]);
      if (busy.size < this.limit || this.inFlight.size === 0) return busy;
      await Promise.race(this.inFlight);
      if (stop()) return busy;
    }
  }

  /** Holds a slot while `following` runs: by the guest when it is our request, uncounted for a guest HA moves along. */
  hold(following: Promise<unknown>, vmid?: number): void {
    this.inFlight.add(following);
    if (vmid !== undefined) this.ours.set(vmid, following);
    // The followers never reject (they turn every error into a result); the catch only keeps an
    // impossible rejection from killing the process.
    void following.finally(() => {
      this.inFlight.delete(following);
      if (vmid !== undefined) this.ours.delete(vmid);
    }).catch(() => {});
  }

  /**
   * The cluster's task list can show a task as running a little after its status says it stopped:
   * ours that we have seen end no longer hold a slot.
   */
  ended(...upids: Array<string | null>): void {
    for (const u of upids) if (u) this.seenEnded.add(u);
  }

  /** Resolves when every migration followed has reached its end. */
  async drain(): Promise<void> {
    await Promise.allSettled(this.inFlight);
  }
}
