import { SyncError } from "../core";
import { type ChangeEntry, DesiredChangeStore, type DesiredRow } from "../stores";
import { type ChangeLogDeps, diffRows, readChangeLog, sameRow, type WriteContext } from "./desiredWrite";

/**
 * Edits behind billing-sync's back: a desired row whose values are no longer those of the
 * last entry of its change log was changed by something else (Storage Explorer, `az
 * storage entity`, another program). The change is logged once, as an `outside` entry
 * (who is unknown), which becomes what the row is compared with from then on. Under
 * BILLING_SYNC_OUT_OF_BAND=block the target is held until `desired accept` (or a write
 * through billing-sync) follows that entry.
 */
export type OutOfBandPolicy = "warn" | "block";

/** Entries read to find the newest that happened: pending and abandoned ones come first only after a crash. */
export const RECENT_ENTRIES = 20;

export interface OutOfBandCheck {
  /** The unaccepted outside entry: found now or earlier. */
  outside?: ChangeEntry;
  /** True when this check found (and logged) the change. */
  found: boolean;
  /** BILLING_SYNC_OUT_OF_BAND=block and an unaccepted outside change: nothing is written at Partner Center. */
  held: boolean;
  /** The row is as the log's newest entry that happened says (a pending entry newer than it may yet land). */
  baselined?: boolean;
}

/** The entry the row is compared with: the newest that happened. */
export function baselineOf(entries: readonly ChangeEntry[]): ChangeEntry | undefined {
  return entries.find((e) => e.state === "done");
}

export function outsideMessage(entry: ChangeEntry, policy: OutOfBandPolicy): string {
  const fields = entry.fields.map((f) => f.field).join(", ") || "no managed value";
  const then = policy === "block" ? "The target is held (nothing is written at Partner Center) until" : "It is enforced as it now is; acknowledge it with";
  return `The desired row was changed outside billing-sync (found ${entry.at}; fields: ${fields}). ${then} \`billing-sync desired accept --target ${entry.target} --reason "..."\`.`;
}

/**
 * Compares a target's row with its change log; logs an outside change the first time it
 * is seen (and sends DesiredStateChangedOutside). A row never written by billing-sync
 * (no entry) has nothing to be compared with.
 */
export async function checkOutOfBand(
  deps: ChangeLogDeps & { onEvent?: WriteContext["onEvent"] },
  row: DesiredRow,
  policy: OutOfBandPolicy,
  now = new Date(),
  /** The log, when its read was started earlier (a run reads it with the desired row). */
  entries?: Promise<ChangeEntry[]>,
): Promise<OutOfBandCheck> {
  const settled = await readChangeLog(deps, row.target, { limit: RECENT_ENTRIES, now, entries, row });
  const baseline = baselineOf(settled);
  if (!baseline) return { found: false, held: false, baselined: !settled.some((e) => e.state === "pending") };
  const unchanged = baseline.rowAfter !== null && (baseline.etagAfter === row.etag || sameRow(baseline.rowAfter, row.properties));
  if (unchanged) {
    const outside = baseline.kind === "outside" ? baseline : undefined;
    return { outside, found: false, held: policy === "block" && outside !== undefined, baselined: !settled.some((e) => e.state === "pending") };
  }
  const outside: ChangeEntry = {
    target: row.target,
    id: DesiredChangeStore.newEntryId(),
    at: now.toISOString(),
    kind: "outside",
    state: "done",
    actor: "unknown",
    verified: false,
    via: "unknown",
    command: "changed outside billing-sync",
    fields: diffRows(baseline.rowAfter, row.properties),
    etagBefore: baseline.etagAfter ?? "",
    etagAfter: row.etag,
    rowAfter: { ...row.properties },
  };
  await deps.changes.add(outside);
  deps.onEvent?.("DesiredStateChangedOutside", { target: row.target, fields: outside.fields.map((f) => f.field).join(","), entryId: outside.id, policy });
  return { outside, found: true, held: policy === "block" };
}

/** `desired accept`: the row as it now is becomes billing-sync's; logged like any write. */
export async function acceptOutside(deps: ChangeLogDeps, target: string, context: WriteContext, now = new Date()): Promise<ChangeEntry> {
  const row = await deps.desired.get(target);
  if (!row) throw new SyncError("TargetNotFound", `Target "${target}" has no desired-state row.`);
  const check = await checkOutOfBand(deps, row, "warn", now);
  if (!check.outside) throw new SyncError("NothingToAccept", `The desired row of "${target}" has no change made outside billing-sync to accept.`);
  if (!context.reason) throw new SyncError("ReasonRequired", "desired accept needs --reason: say why the change made outside billing-sync stands.");
  const entry: ChangeEntry = {
    target,
    id: DesiredChangeStore.newEntryId(),
    at: new Date(Math.max(now.getTime(), Date.parse(check.outside.at) + 1)).toISOString(),
    kind: "accept",
    state: "done",
    actor: context.actor.name,
    verified: context.actor.verified,
    via: context.via,
    command: context.command,
    reason: context.reason,
    fields: check.outside.fields,
    etagBefore: row.etag,
    etagAfter: row.etag,
    rowAfter: { ...row.properties },
  };
  await deps.changes.add(entry);
  context.onEvent?.("DesiredStateChanged", { target, kind: "accept", via: entry.via, command: entry.command, fields: entry.fields.map((f) => f.field).join(","), verified: String(entry.verified), entryId: entry.id });
  return entry;
}

/** What `status` says of a row changed outside billing-sync (read-only: the next run logs it). */
export interface OutsideChangeStatus {
  at: string;
  fields: string[];
  /** False until a run (or `desired log`) has logged it. */
  logged: boolean;
}

export async function outsideChangeOf(deps: ChangeLogDeps, row: DesiredRow): Promise<OutsideChangeStatus | undefined> {
  const baseline = baselineOf(await readChangeLog(deps, row.target, { limit: 20 }));
  if (!baseline || baseline.rowAfter === null) return undefined;
  if (baseline.etagAfter !== row.etag && !sameRow(baseline.rowAfter, row.properties)) {
    return { at: "", fields: diffRows(baseline.rowAfter, row.properties).map((f) => f.field), logged: false };
  }
  return baseline.kind === "outside" ? { at: baseline.at, fields: baseline.fields.map((f) => f.field), logged: true } : undefined;
}
