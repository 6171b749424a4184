import { type DesiredState, type FieldChange, type LiveProfile, liveValue, maskChanges, parseDesiredEntity, planChanges } from "../model";
import type { Engine } from "./engine";
import { SyncError } from "../core";
import { type WriteContext, writeContextFor, writeDesiredRow } from "./desiredWrite";

/**
 * A proposed edit of a desired row (restore, adopt): what changes in the row, and what a
 * sync would then change in the live profile. Values are masked; nothing is written
 * until `applyDesiredEdit`.
 */
export interface DesiredEdit {
  target: string;
  /** Desired row changes: from the current desired value ("" when unmanaged) to the new one. */
  desiredChanges: FieldChange[];
  /** What a sync would change in the live profile afterwards. */
  plan: FieldChange[];
  /** Properties of the new row and the ETag of the row it replaces. */
  entity: Record<string, unknown>;
  etag: string;
}

async function currentRow(engine: Engine, target: string): Promise<{ state: DesiredState; properties: Record<string, unknown>; etag: string }> {
  const row = await engine.desired.get(target);
  if (!row) throw new SyncError("TargetNotFound", `Target "${target}" has no desired-state row.`);
  return { state: parseDesiredEntity(target, row.properties), properties: row.properties, etag: row.etag };
}

/** Validates the new row through the same rules as every other write, and plans it against `live`. */
function proposal(target: string, current: { state: DesiredState; properties: Record<string, unknown>; etag: string }, values: Map<string, string>, live: LiveProfile): DesiredEdit {
  const entity = { ...current.properties };
  const desiredChanges: FieldChange[] = [];
  for (const [field, value] of values) {
    const before = current.state.fields.get(field);
    if (before === value) continue;
    desiredChanges.push({ field, from: before ?? "", to: value });
    entity[field] = value;
  }
  const next = parseDesiredEntity(target, entity);
  const kind = next.resource.kind;
  return { target, desiredChanges: maskChanges(desiredChanges, kind), plan: maskChanges(planChanges(next, live), kind), entity, etag: current.etag };
}

/** Restore: what the profile held before run `runId`'s PUT becomes the desired value of the fields it changed. */
export async function planRestore(engine: Engine, runId: string, target?: string): Promise<DesiredEdit> {
  const targets = target ? [target] : await engine.listTargets();
  for (const t of targets) {
    const record = await engine.history.get(t, runId);
    if (!record) continue;
    // A write-ahead row (putPending) whose run never recorded its end: the PUT may have landed.
    // An uncertain run no later run has settled: its PUT may have landed, and it kept the profile before.
    const changed = record.putMade || record.putPending === true || (record.outcome === "uncertain" && record.resolvedBy === undefined);
    if (changed && !record.profileBefore && record.profileBeforeOmitted) {
      throw new SyncError("InvalidDesiredState", `Run ${runId} of "${t}" changed ${record.changedFields.join(", ")}, but the profile before it was not kept: ${record.profileBeforeOmitted}.`);
    }
    if (!changed || !record.profileBefore) {
      throw new SyncError("InvalidDesiredState", `Run ${runId} of "${t}" made no change (outcome ${record.outcome}); there is nothing to restore.`);
    }
    const current = await currentRow(engine, t);
    const { kind } = current.state.resource;
    const before: LiveProfile = { kind, body: record.profileBefore, etag: undefined };
    const values = new Map(record.changedFields.filter((f) => kind.fieldsByName.has(f)).map((f) => [f, liveValue(before, kind.fieldsByName.get(f)!.path)]));
    return proposal(t, current, values, await engine.readLive(current.state.resource, current.state.account));
  }
  // Rows go after the retention (BILLING_SYNC_HISTORY_RETENTION_DAYS); an in-sync check keeps no row of its own, and restores nothing.
  throw new SyncError("TargetNotFound", `No run ${runId} in the history${target ? ` of "${target}"` : ""} (a run older than the history retention has been purged and cannot be restored).`);
}

/** Adopt: take live values into the desired row (accepting a hand change). Default: every managed field that drifts. */
export async function planAdopt(engine: Engine, target: string, fields: string[] = []): Promise<DesiredEdit> {
  const current = await currentRow(engine, target);
  const { kind } = current.state.resource;
  for (const f of fields) {
    if (!kind.fieldsByName.has(f)) throw new SyncError("InvalidDesiredState", `--field ${f} is not a managed field of the ${kind.title}; use one of ${kind.fields.map((m) => m.name).join(", ")}.`);
  }
  const live = await engine.readLive(current.state.resource, current.state.account);
  const chosen = fields.length > 0 ? fields : planChanges(current.state, live).map((c) => c.field);
  const values = new Map(chosen.map((f) => [f, liveValue(live, kind.fieldsByName.get(f)!.path).trim()]));
  return proposal(target, current, values, live);
}

/** Writes the new row (logged), only if nobody changed it since the proposal was made. */
export async function applyDesiredEdit(engine: Engine, edit: DesiredEdit, context?: WriteContext): Promise<void> {
  const row = await engine.desired.get(edit.target);
  if (!row || row.etag !== edit.etag) {
    throw new SyncError("StaleEtag", `The desired state of "${edit.target}" changed while it was being edited; read it again and retry.`, { statusCode: 412 });
  }
  await writeDesiredRow(engine, { target: edit.target, before: row, after: edit.entity }, context ?? (await writeContextFor(engine, "desired edit")));
}
