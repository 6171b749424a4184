import type { Outcome } from "../model";
import type { HistoryRecord } from "../stores";

/**
 * Where `status` lists a target by its latest run's outcome. Typed by Outcome, so a new
 * outcome does not compile until someone decides whether it needs a person:
 * - failed: the FAILED list (a person reads the error);
 * - not-converged: the NOT CONVERGED list, from the fields the runs remember;
 * - gone: the GONE list (departures.ts);
 * - needs-person: the NEEDS A PERSON list, with the command that moves it on;
 * - none: nothing to do (it runs on by itself; drift kept is counted under observe mode).
 */
export type StatusList = "failed" | "not-converged" | "gone" | "needs-person" | "none";

export const STATUS_LISTS: Readonly<Record<Outcome, StatusList>> = {
  "in-sync": "none",
  corrected: "none",
  drift: "none",
  suspended: "none",
  "invalid-desired": "failed",
  conflict: "failed",
  "in-progress": "none",
  failed: "failed",
  "not-converged": "not-converged",
  // Queued again behind the account's backlog.
  deferred: "none",
  held: "needs-person",
  uncertain: "needs-person",
  interrupted: "needs-person",
  gone: "gone",
};

export function outcomesListedAs(list: StatusList): Outcome[] {
  return (Object.keys(STATUS_LISTS) as Outcome[]).filter((o) => STATUS_LISTS[o] === list);
}

/** A target whose latest run waits on a person, and what that person runs. */
export interface NeedsPerson {
  target: string;
  outcome: string;
  at: string;
  runId: string;
  why: string;
  action: string;
}

/** The NEEDS A PERSON entry of a target's latest meaningful run, if it is one. */
export function needsPerson(target: string, last: Pick<HistoryRecord, "outcome" | "startedAt" | "runId" | "heldReason" | "sweepId" | "putPending" | "resolvedBy"> | undefined): NeedsPerson | undefined {
  if (!last || STATUS_LISTS[last.outcome] !== "needs-person") return undefined;
  const base = { target, outcome: last.outcome, at: last.startedAt, runId: last.runId };
  switch (last.outcome) {
    case "held":
      if (last.heldReason === "out-of-band") return { ...base, why: "its desired row was changed outside billing-sync", action: `billing-sync desired accept --target ${target} --reason <why>` };
      return {
        ...base,
        why: last.sweepId ? `sweep ${last.sweepId} reached its PUT limit` : `held (${last.heldReason ?? "a guard"})`,
        action: `billing-sync approve --target ${target}${last.sweepId ? ` (or --sweep ${last.sweepId})` : ""}`,
      };
    case "uncertain":
      // Settled by a later run: that run is the latest, so this one is not shown.
      if (last.resolvedBy !== undefined) return undefined;
      return { ...base, why: "a PUT went out and its answer was lost; it may have landed", action: `billing-sync sync --target ${target} (reads and records whether it landed); billing-sync restore --run ${last.runId} undoes it` };
    case "interrupted":
      return {
        ...base,
        why: last.putPending ? "stopped while a PUT was out without an answer" : "stopped before it ended (a signal, or unlock)",
        action: last.putPending ? `billing-sync sync --target ${target}; billing-sync restore --run ${last.runId} undoes the PUT if it landed` : `billing-sync sync --target ${target}`,
      };
    default:
      return { ...base, why: last.outcome, action: `billing-sync history --target ${target}` };
  }
}
