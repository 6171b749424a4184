import type { Logger } from "../core";
import type { DepartureStore } from "../stores";
import { closeSweep, type DepartureDeps, MemorySweep, StoredSweep, type SweepTally, type SweepVerdict } from "./departures";

/** After a queue sweep's spread, this long for its last messages (deferrals, retries) before it is closed. */
export const SWEEP_CLOSE_MARGIN_IN_MS = 30 * 60 * 1000;

/**
 * The engine's sweeps (departures.ts): an untargeted sync in one process counts in memory
 * and closes when it ends; a fan-out opens a stored sweep that its queue messages name,
 * closed by a later fan-out once its time is over.
 */
export class DepartureSweeps {
  constructor(
    private readonly store: DepartureStore,
    private readonly deps: DepartureDeps & { log: Logger },
  ) {}

  inMemory(size: number): MemorySweep {
    return new MemorySweep(size);
  }

  /** A queue message's sweep. */
  stored(ref: { id: string; size: number }): SweepTally {
    return new StoredSweep(this.store, ref.id, ref.size);
  }

  /** Opens the tally of a queue sweep under the sweep's own id (the one its messages carry). */
  async open(id: string, size: number, spreadInMs: number, now: Date): Promise<{ id: string; size: number }> {
    await this.store.open({ id, size, endsBy: new Date(now.getTime() + spreadInMs + SWEEP_CLOSE_MARGIN_IN_MS).toISOString() });
    return { id, size };
  }

  async close(sweep: SweepTally): Promise<SweepVerdict> {
    const verdict = await closeSweep(sweep, this.deps);
    if (verdict.access) {
      this.deps.log.warn(`${verdict.gone} of ${verdict.size} targets of the sweep answered 403/404: that is the partner's access, not departed customers; nothing was suspended.`);
    } else if (verdict.suspended.length > 0) {
      this.deps.log.warn(`Suspended ${verdict.suspended.length} target(s) whose customer is gone: ${verdict.suspended.map((s) => `${s.target} (since ${s.since.slice(0, 10)})`).join(", ")}`);
    }
    return verdict;
  }

  /** Closes the stored sweeps whose time is over; one that fails to close is tried again next time. */
  async closeDue(now: Date): Promise<void> {
    for (const info of await this.store.due(now)) {
      try {
        const sweep = this.stored(info);
        const gone = await sweep.gone();
        await this.close(sweep);
        await this.store.close(info.id, gone);
      } catch (err) {
        this.deps.log.warn(`Sweep ${info.id} not closed; it is tried again at the next fan-out: ${(err as Error).message}`);
      }
    }
  }
}
