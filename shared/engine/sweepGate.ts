import { randomUUID } from "node:crypto";
import { toSyncError } from "../core";
import type { Trigger } from "../model";
import { approves, type HistoryRecord } from "../stores";
import type { EngineDeps, ReconcileRequest, RunState } from "./run";

/**
 * The sweep's PUT limit, at enforcement time: one sweep (a timer firing with its queue
 * runs, an untargeted sync) makes at most so many PUTs, counted in its BillingProfileSweeps
 * row by every instance; a target beyond it ends `held`. A targeted run has no sweep and
 * no limit. A slot is reserved before the PUT and given back when no PUT went out.
 */

export const MASS_DRIFT_HELD_EVENT = "MassDriftHeld";
/** A sweep at its limit never goes below this many PUTs, however few its targets. */
export const MIN_CORRECTIONS_PER_SWEEP = 10;
/** Runs of a target looked back through for its newest held run (approve, and a run past the limit). */
const HELD_LOOKBACK = 50;

/** BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP, or 10% of the sweep's targets, at least 10. */
export function sweepLimit(targets: number, setting?: number): number {
  return setting ?? Math.max(MIN_CORRECTIONS_PER_SWEEP, Math.ceil(targets * 0.1));
}

/** A sweep id: sortable by time, a valid PartitionKey, and readable in an alert. */
export function newSweepId(trigger: Trigger, now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-${trigger}-${randomUUID().slice(0, 8)}`;
}




/** The target's newest run that was held or made a PUT: a held one is what an approval lets through. */
export function newestHeldOrCorrected(records: readonly HistoryRecord[]): HistoryRecord | undefined {
  return records.find((r) => r.outcome === "held" || r.putMade || r.putPending === true);
}

export async function newestHeld(deps: Pick<EngineDeps, "history">, target: string): Promise<HistoryRecord | undefined> {
  const found = newestHeldOrCorrected(await deps.history.list(target, { limit: HELD_LOOKBACK, columns: "summary" }));
  return found?.outcome === "held" ? found : undefined;
}

export class SweepGate {
  private reserved = false;

  constructor(
    private readonly request: ReconcileRequest,
    private readonly deps: EngineDeps,
    private readonly now: () => Date,
  ) {}

  /** Before a PUT: true when it may go out; false when the run is held (run says so). */
  async admit(run: RunState): Promise<boolean> {
    const { sweepId, target, trigger } = this.request;
    const sweeps = this.deps.sweeps;
    if (sweepId === undefined || !sweeps || this.reserved) return true;
    const reservation = await sweeps.reserve(sweepId, { putLimit: sweepLimit(0, this.deps.maxCorrectionsPerSweep), trigger, now: this.now() });
    if (reservation.granted) {
      this.reserved = true;
      return true;
    }
    // Held before and approved since: let through, outside the count of this sweep.
    const held = await newestHeld(this.deps, target);
    if (held?.sweepId !== undefined && approves(held.sweepId === sweepId ? reservation.sweep : await sweeps.get(held.sweepId), target)) return true;
    run.outcome = "held";
    run.heldReason = "sweep-limit";
    if (reservation.firstHeld) {
      const { sweep } = reservation;
      // The sweep's PUTs and this target: at least so many differ (the rest of the sweep may add more).
      const differing = sweep.putsMade + 1;
      const message = `mass drift: ${differing} targets differ from their desired state (at least: sweep ${sweepId} made its limit of ${sweep.putLimit} PUTs and holds the rest until \`billing-sync approve --sweep ${sweepId}\`)`;
      this.deps.log.warn(message, { sweepId, putLimit: sweep.putLimit, targets: sweep.targets });
      run.events = [
        ...(run.events ?? []),
        {
          name: MASS_DRIFT_HELD_EVENT,
          dimensions: { sweepId, message, putLimit: String(sweep.putLimit), targetsDiffering: String(differing), sweepTargets: String(sweep.targets), trigger },
        },
      ];
    }
    return false;
  }

  /** After the run: a slot whose PUT never went out is given back, so that another target may use it. */
  async settle(run: RunState): Promise<void> {
    if (!this.reserved || run.putUnanswered || run.calls.some((c) => c.method === "PUT")) return;
    this.reserved = false;
    try {
      await this.deps.sweeps!.giveBack(this.request.sweepId!);
    } catch (err) {
      // A slot not given back only makes the sweep stop one PUT early: never more PUTs than the limit.
      this.deps.log.warn(`Sweep ${this.request.sweepId}: a PUT slot of ${this.request.target} was not given back: ${toSyncError(err).message}`);
    }
  }
}
