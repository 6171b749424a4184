import { type Logger, toSyncError } from "../core";
import type { DesiredRow } from "../stores";
import { checkOutOfBand, outsideMessage } from "./outOfBand";
import type { EngineDeps, RunState } from "./run";

/**
 * The run's side of out-of-band detection: the warning on the run (history, logs, status)
 * and whether the run is held. A change log that cannot be read does not stop a run
 * under warn; under block it holds it, since it cannot be shown the row is ours.
 */
export async function outOfBandGate(deps: EngineDeps, row: DesiredRow, run: RunState, log: Logger): Promise<boolean> {
  if (!deps.changes) return false;
  const policy = deps.outOfBand ?? "warn";
  try {
    const check = await checkOutOfBand({ desired: deps.desired, changes: deps.changes, onEvent: deps.onEvent }, row, policy, deps.now?.());
    if (!check.outside) return false;
    const message = outsideMessage(check.outside, policy);
    run.warnings = [...(run.warnings ?? []), message];
    if (check.found) log.warn(`${row.target}: ${message}`, { target: row.target, event: "DesiredStateChangedOutside" });
    return check.held;
  } catch (err) {
    const why = `The change log of the desired state could not be read (${toSyncError(err).code}): an edit made outside billing-sync would not be seen.`;
    run.warnings = [...(run.warnings ?? []), policy === "block" ? `${why} Held under BILLING_SYNC_OUT_OF_BAND=block.` : why];
    return policy === "block";
  }
}
