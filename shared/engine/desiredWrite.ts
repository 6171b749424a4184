import { type Actor, resolveStorageActor } from "../auth";
import { SyncError } from "../core";
import { DEFAULT_CHANGE_CONTROL, type Settings } from "../config";
import { CHANGE_PENDING_GRACE_IN_MS, type ChangeEntry, DesiredChangeStore, type DesiredRow, type DesiredStateStore, type FieldEdit, type Via } from "../stores";

/**
 * The one path every billing-sync write of a desired row takes, so that each write has
 * its entry in the change log and no entry tells of a write that did not happen:
 *
 *   1. the entry is written `pending`, with the row's ETag before and its values after;
 *   2. the row is written, conditional on that ETag (a row created or deleted the same);
 *   3. the entry is marked `done`, with the row's new ETag.
 *
 * A process that dies after 1 leaves a pending entry; whoever reads the log next settles
 * it against the row as it is (settlePending): the row holds the entry's values, so the
 * write happened (done); the row is as it was, so it did not (abandoned, once older than
 * the grace a write in flight may still need).
 */
export interface WriteContext {
  actor: Actor;
  via: Via;
  /** e.g. "desired set", "desired import", "restore". */
  command: string;
  reason?: string;
  /** Tests: throw at a step to stand for a process that dies there. */
  faultAfter?: (step: "pending" | "row") => void;
  /** A telemetry event (DesiredStateChanged), names and ids only. */
  onEvent?: (name: string, dimensions: Record<string, string>) => void;
}

export interface ChangeLogDeps {
  desired: DesiredStateStore;
  changes: DesiredChangeStore;
}

export interface WriteOutcome {
  /** False when the row already held these values: nothing written, nothing logged. */
  written: boolean;
  entry?: ChangeEntry;
}

/** Refuses a write without a reason when BILLING_SYNC_REQUIRE_REASON=true. */
export function checkReason(settings: Settings, reason: string | undefined, command: string): string | undefined {
  const given = reason?.trim() || undefined;
  if (!given && (settings.changeControl ?? DEFAULT_CHANGE_CONTROL).requireReason) {
    throw new SyncError("ReasonRequired", `${command} writes the desired state and BILLING_SYNC_REQUIRE_REASON=true: say why with --reason "...". Nothing was written.`);
  }
  if (given && [...given].length > 500) throw new SyncError("ConfigError", "--reason is longer than 500 characters; keep it to a sentence or a ticket number.");
  return given;
}

const actors = new WeakMap<object, Promise<Actor>>();

/** The context of one command's writes: who (resolved once per engine), via, why. */
export async function writeContextFor(engine: { settings: Settings }, command: string, extra: Partial<Omit<WriteContext, "command" | "actor">> & { actor?: Actor } = {}): Promise<WriteContext> {
  let actor = extra.actor ? Promise.resolve(extra.actor) : actors.get(engine);
  if (!actor) {
    actor = resolveStorageActor(engine.settings.storage);
    actors.set(engine, actor);
  }
  return { via: "cli", ...extra, command, actor: await actor };
}

const shown = (value: unknown): string | null => (value === undefined || value === null ? null : typeof value === "string" ? value : String(value));

/** Every property whose value differs between two rows (null = absent / no row). */
/** A control property a row leaves out holds its default: leaving it out is no change (nor "no longer managed"). */
const CONTROL_DEFAULTS: Readonly<Record<string, unknown>> = { Mode: "enforce", Suspended: false };

export function diffRows(before: Record<string, unknown> | null | undefined, after: Record<string, unknown> | null | undefined): FieldEdit[] {
  const names = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])].sort();
  const edits: FieldEdit[] = [];
  const valueIn = (row: Record<string, unknown> | null | undefined, field: string) => (row ? (row[field] ?? CONTROL_DEFAULTS[field]) : undefined);
  for (const field of names) {
    const b = shown(valueIn(before, field));
    const a = shown(valueIn(after, field));
    if (b !== a) edits.push({ field, before: b, after: a });
  }
  return edits;
}

export function sameRow(a: Record<string, unknown> | null | undefined, b: Record<string, unknown> | null | undefined): boolean {
  if ((a === null || a === undefined) !== (b === null || b === undefined)) return false;
  return diffRows(a, b).length === 0;
}

async function writeRow(deps: ChangeLogDeps, target: string, before: DesiredRow | null, after: Record<string, unknown> | null): Promise<string | undefined> {
  if (after === null) {
    await deps.desired.delete(target, { etag: before?.etag });
    return undefined;
  }
  if (before === null) {
    const etag = await deps.desired.createRow(target, after);
    if (etag === undefined) throw new SyncError("StaleEtag", `Target "${target}" got a desired row while this one was being written; read it again and retry.`, { statusCode: 409 });
    return etag;
  }
  return deps.desired.upsert(target, after, { etag: before.etag });
}

/**
 * Writes (or with `after` null, deletes) one desired row and logs it. `before` is the row
 * as read (null: there is none; undefined: read it now); the write is conditional on it,
 * so a change made since it was read is never overwritten unseen.
 */
export async function writeDesiredRow(
  deps: ChangeLogDeps,
  request: { target: string; before?: DesiredRow | null; after: Record<string, unknown> | null; now?: Date },
  context: WriteContext,
): Promise<WriteOutcome> {
  const { target } = request;
  // A pending entry left by a process that died is settled before a newer write moves the row on.
  await readChangeLog(deps, target, { limit: 20 });
  const before = request.before === undefined ? ((await deps.desired.get(target)) ?? null) : request.before;
  if (before === null && request.after === null) return { written: false };
  const fields = diffRows(before?.properties, request.after);
  if (before !== null && request.after !== null && fields.length === 0) return { written: false };
  const entry: ChangeEntry = {
    target,
    id: DesiredChangeStore.newEntryId(),
    at: (request.now ?? new Date()).toISOString(),
    kind: request.after === null ? "delete" : "write",
    state: "pending",
    actor: context.actor.name,
    verified: context.actor.verified,
    via: context.via,
    command: context.command,
    reason: context.reason,
    fields,
    etagBefore: before?.etag ?? "",
    rowAfter: request.after === null ? null : { ...request.after },
  };
  await deps.changes.add(entry);
  context.faultAfter?.("pending");
  let etagAfter: string | undefined;
  try {
    etagAfter = await writeRow(deps, target, before, request.after);
  } catch (err) {
    // Refused (a stale ETag, storage down): the entry says it did not happen. If even that
    // cannot be written, the entry stays pending and its reader settles it the same way.
    await deps.changes.update({ ...entry, state: "abandoned" }).catch(() => undefined);
    throw err;
  }
  context.faultAfter?.("row");
  const done: ChangeEntry = { ...entry, state: "done", etagAfter };
  await deps.changes.update(done);
  context.onEvent?.("DesiredStateChanged", {
    target,
    kind: done.kind,
    via: done.via,
    command: done.command,
    fields: fields.map((f) => f.field).join(","),
    verified: String(done.verified),
    entryId: done.id,
  });
  return { written: true, entry: done };
}

/**
 * A pending entry settled against the row as it is now (see the top of this file); the
 * settled entry is stored. An entry that is not pending comes back as it is.
 */
export async function settlePending(deps: ChangeLogDeps, entry: ChangeEntry, row: DesiredRow | null | undefined, now = new Date()): Promise<ChangeEntry> {
  if (entry.state !== "pending") return entry;
  const current = row === undefined ? ((await deps.desired.get(entry.target)) ?? null) : row;
  const happened = entry.rowAfter === null ? current === null : current !== null && sameRow(current.properties, entry.rowAfter);
  let settled: ChangeEntry;
  if (happened) settled = { ...entry, state: "done", etagAfter: current?.etag };
  else if ((current?.etag ?? "") === entry.etagBefore && now.getTime() - Date.parse(entry.at) < CHANGE_PENDING_GRACE_IN_MS) return entry;
  // The row is as it was (the write never came), or something else changed it since: the
  // conditional write could not have landed then, and the change is not ours to claim.
  else settled = { ...entry, state: "abandoned" };
  await deps.changes.update(settled);
  return settled;
}

/** A target's entries, newest first, each pending one settled against the row. */
export async function readChangeLog(deps: ChangeLogDeps, target: string, options: { limit?: number; since?: string; now?: Date; entries?: Promise<ChangeEntry[]>; row?: DesiredRow | null } = {}): Promise<ChangeEntry[]> {
  const entries = await (options.entries ?? deps.changes.list(target, options));
  if (!entries.some((e) => e.state === "pending")) return entries;
  const row = options.row !== undefined ? options.row : ((await deps.desired.get(target)) ?? null);
  const settled: ChangeEntry[] = [];
  for (const entry of entries) settled.push(await settlePending(deps, entry, row, options.now));
  return settled;
}
