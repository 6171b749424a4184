import { SyncError } from "../core";
import { checkTargetName } from "../model";
import type { Sweep, SweepStore } from "../stores";
import type { EngineDeps } from "./run";
import { newestHeld } from "./sweepGate";

/**
 * `billing-sync approve`: lets targets held by a sweep's PUT limit be corrected on their
 * next run, whichever sweep that is. An approval is kept in the held sweep's row (the
 * whole sweep, or one target by name); a run past its own sweep's limit looks up its
 * newest held run and goes ahead when that sweep approves it.
 */

export type ApproveScope = { sweep: string } | { target: string } | { all: true };

export interface Approved {
  /** The sweeps approved, with what they held. */
  sweeps: { sweepId: string; putLimit: number; putsMade: number; target?: string }[];
  reason?: string;
}

function summary(sweep: Sweep, target?: string): Approved["sweeps"][number] {
  return { sweepId: sweep.sweepId, putLimit: sweep.putLimit, putsMade: sweep.putsMade, ...(target ? { target } : {}) };
}

export async function approveHeld(deps: Pick<EngineDeps, "history"> & { sweeps: SweepStore }, scope: ApproveScope, options: { reason?: string; now?: Date } = {}): Promise<Approved> {
  const at = (options.now ?? new Date()).toISOString();
  const reason = options.reason?.trim() || undefined;
  if ("sweep" in scope) {
    const sweep = await deps.sweeps.approve(scope.sweep, { at, reason });
    if (!sweep) throw new SyncError("NotFound", `There is no sweep "${scope.sweep}" in BillingProfileSweeps; \`billing-sync history\` shows a held run's sweep id.`);
    return { sweeps: [summary(sweep)], reason };
  }
  if ("target" in scope) {
    const target = checkTargetName(scope.target);
    const held = await newestHeld(deps, target);
    if (!held?.sweepId) throw new SyncError("NotFound", `Target "${target}" has no held run to approve (its newest correction or hold is not a hold).`);
    const sweep = await deps.sweeps.approve(held.sweepId, { at, target, reason });
    if (!sweep) throw new SyncError("NotFound", `The sweep "${held.sweepId}" that held "${target}" is no longer in BillingProfileSweeps; \`billing-sync sync --target ${target}\` corrects it now (a targeted run has no sweep limit).`);
    return { sweeps: [summary(sweep, target)], reason };
  }
  const sweeps = await deps.sweeps.listHeld();
  const approved: Approved["sweeps"] = [];
  for (const sweep of sweeps) {
    const done = await deps.sweeps.approve(sweep.sweepId, { at, reason });
    if (done) approved.push(summary(done));
  }
  return { sweeps: approved, reason };
}
