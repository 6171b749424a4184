import { customerBillingProfile, DEFAULT_TARGET, kindOfEntity } from "../model";
import type { DesiredRow } from "../stores";
import type { RowWrite } from "./changeGuard";
import type { Engine } from "./engine";

/**
 * Rows of customers that are no longer wanted (`desired import --prune`: not in a file
 * that is the whole set of customer rows; `desired adopt --all-customers
 * --prune-departed`: no longer in the customer list), as deletions (RowWrite with
 * `after: null`). They are shown and guarded like any mass change (changeGuard.ts) and
 * written through the change log like any write (desiredWrite.ts). Only customer rows are
 * ever pruned: a partner's own row (target `default`, or any other kind) describes the
 * partner, not a customer who may have left.
 */
export function isPrunable(row: Pick<DesiredRow, "target" | "properties">): boolean {
  return row.target !== DEFAULT_TARGET && kindOfEntity(row.properties) === customerBillingProfile;
}

function deletion(row: DesiredRow): RowWrite {
  return { target: row.target, before: row.properties, etag: row.etag, after: null };
}

/** Every stored customer row whose target is not among `keep`. */
export async function pruneWrites(engine: Pick<Engine, "desired">, keep: ReadonlySet<string>): Promise<RowWrite[]> {
  const writes: RowWrite[] = [];
  for await (const row of engine.desired.rows()) {
    if (isPrunable(row) && !keep.has(row.target)) writes.push(deletion(row));
  }
  return writes.sort((a, b) => a.target.localeCompare(b.target));
}

/** The stored rows of `targets` (as read now; a row gone meanwhile is left out), as deletions. */
export async function deletionsOf(engine: Pick<Engine, "desired">, targets: readonly string[]): Promise<RowWrite[]> {
  const writes: RowWrite[] = [];
  for (const target of [...new Set(targets)].sort()) {
    const row = await engine.desired.get(target);
    if (row && isPrunable(row)) writes.push(deletion(row));
  }
  return writes;
}
