import { type Logger, toSyncError } from "../core";
import type { ChangeEntry, DesiredRow } from "../stores";
import { checkOutOfBand, outsideMessage, RECENT_ENTRIES } from "./outOfBand";
import type { EngineDeps, RunState } from "./run";

/**
 * The run's side of out-of-band detection: the warning on the run (history, logs, status)
 * and whether the run is held. A change log that cannot be read does not stop a run
 * under warn; under block it holds it, since it cannot be shown the row is ours.
 */
/**
 * Starts reading the target's change log, so that it overlaps the desired row's read
 * instead of following it (a run's cost stays one table round trip before Partner Center).
 * Never rejects unhandled: a failure is met by outOfBandGate.
 */
export function startLogRead(deps: EngineDeps, target: string): Promise<ChangeEntry[]> | undefined {
  if (!deps.changes || cleanRows(deps).has(target)) return undefined;
  const read = deps.changes.list(target, { limit: RECENT_ENTRIES });
  read.catch(() => undefined);
  return read;
}

/**
 * Rows this process found to be as billing-sync last wrote them, by target: their ETag.
 * While a row keeps that ETag nothing can have changed it, so its next run reads no log
 * (the steady state of a worker: one table read per run, as before). An ETag that moved
 * (any write, ours from another process included) sends the run back to the log; a row
 * found changed outside is never remembered, since its acceptance does not move the ETag.
 */
const clean = new WeakMap<object, Map<string, string>>();
function cleanRows(deps: EngineDeps): Map<string, string> {
  let rows = clean.get(deps.changes!);
  if (!rows) clean.set(deps.changes!, (rows = new Map()));
  return rows;
}

export async function outOfBandGate(deps: EngineDeps, row: DesiredRow, run: RunState, log: Logger, entries?: Promise<ChangeEntry[]>): Promise<boolean> {
  if (!deps.changes) return false;
  const known = cleanRows(deps);
  if (known.get(row.target) === row.etag) return false;
  known.delete(row.target);
  const policy = deps.outOfBand ?? "warn";
  try {
    const check = await checkOutOfBand({ desired: deps.desired, changes: deps.changes, onEvent: deps.onEvent }, row, policy, deps.now?.(), entries);
    if (!check.outside) {
      if (check.baselined) known.set(row.target, row.etag);
      return false;
    }
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
