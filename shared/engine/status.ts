import { type ContestedField, type ContestPolicy, DEFAULT_CONTEST_POLICY, findContested, KEY_PROPERTIES, resourceOfEntity } from "../model";
import { mapWithConcurrency, SyncError } from "../core";
import { type DesiredRow, type DesiredStateStore, type HistoryRecord, type HistoryStore, type LeaseInfo, type LeaseStore, type PoisonEntry, type PublicHistoryRecord, publicRecord, type StatusRow, type StatusStore } from "../stores";
import { nextRun } from "../config";
import { needsPerson, type NeedsPerson, outcomesListedAs } from "./attention";
import { outcomeShown } from "./interruption";
import { outsideChangeOf, type OutsideChangeStatus } from "./outOfBand";
import type { DesiredChangeStore } from "../stores";

/** What an operator needs to see per target, pauses and fights included. */
export interface TargetStatus {
  target: string;
  /** The row's resource kind (`partner-billing-profile`, `customer-billing-profile`), and the customer's tenant id for a customer. */
  resourceKind: string;
  customerId?: string;
  mode: string;
  suspended: boolean;
  /** First recorded run that saw the current observe mode / suspension (no earlier run in view said otherwise). */
  observeSince?: string;
  suspendedSince?: string;
  /** Why, when billing-sync suspended it ("customer gone since DATE"). */
  suspendedReason?: string;
  /** The latest run that reached Partner Center. */
  lastRun?: PublicHistoryRecord;
  /** The latest run of any kind, when it is not lastRun (suspended, invalid desired state, in progress). */
  latestAttempt?: { outcome: string; startedAt: string; trigger: string; error: string | null; reason?: string };
  lastCorrection?: { at: string; fields: string[]; runId: string };
  contested: ContestedField[];
  notConverged: { field: string; desired: string; service: string }[];
  /** A run holding the lease now. */
  running?: LeaseInfo;
  nextScheduledRun?: string;
  /** Queue messages of this target the host gave up on. */
  poison: PoisonEntry[];
  /** The desired row was changed outside billing-sync and not accepted since (docs/change-control.md). */
  changedOutside?: OutsideChangeStatus;
}

/** What status reads: the target's rows and two settings (the Engine is one). */
export interface StatusSources {
  readonly desired: Pick<DesiredStateStore, "get" | "rows" | "targetPage">;
  /** With its status rows (BillingProfileStatus); without them, or for a target without one yet, status reads the history. */
  readonly history: Pick<HistoryStore, "list"> & { readonly status?: Pick<StatusStore, "get" | "range" | "rows"> };
  readonly leases: Pick<LeaseStore, "get" | "listHeld">;
  readonly deps: { readonly contestPolicy?: ContestPolicy };
  /** The change log; without it status says nothing of edits made outside billing-sync. */
  readonly changes?: DesiredChangeStore;
  readonly settings: { readonly schedule: string };
}

const HISTORY_IN_VIEW = 200;

function since(records: readonly HistoryRecord[], holds: (r: HistoryRecord) => boolean | undefined): string | undefined {
  let first: string | undefined;
  for (const r of records) {
    const value = holds(r);
    if (value === undefined) continue;
    if (!value) break;
    first = r.startedAt;
  }
  return first;
}

export async function targetStatus(engine: StatusSources, target: string, context: { now: Date; poison: PoisonEntry[] }): Promise<TargetStatus> {
  const [row, status, lease] = await Promise.all([engine.desired.get(target), engine.history.status?.get(target), engine.leases.get(target, context.now)]);
  if (!status) return statusFromHistory(engine, target, row, lease, context);
  const shown = statusFromRow(engine, { target, row, status, lease }, context);
  // One target: worth a read of its change log (a page of thousands leaves it to this view).
  return row && engine.changes ? { ...shown, changedOutside: await outsideChangeOf({ desired: engine.desired as DesiredStateStore, changes: engine.changes }, row).catch(() => undefined) } : shown;
}

/** What every view of a target says from its desired row as it is now (kind, mode, suspension). */
function rowFacts(target: string, row: DesiredRow | undefined): Pick<TargetStatus, "target" | "resourceKind" | "customerId" | "mode" | "suspended" | "suspendedReason"> {
  const resource = resourceOfEntity(row?.properties ?? {});
  const suspended = row?.properties.Suspended === true;
  return {
    target,
    resourceKind: resource.kind.name,
    ...(resource.kind.key && resource.id !== undefined ? { customerId: resource.id } : {}),
    mode: row?.properties.Mode === "observe" ? "observe" : "enforce",
    suspended,
    ...(suspended && typeof row?.properties.SuspendedReason === "string" ? { suspendedReason: row.properties.SuspendedReason } : {}),
  };
}

/** A target without a status row (its runs were all recorded before status rows existed): from its latest history rows. */
async function statusFromHistory(engine: StatusSources, target: string, row: DesiredRow | undefined, lease: LeaseInfo | undefined, context: { now: Date; poison: PoisonEntry[] }): Promise<TargetStatus> {
  const stored = await engine.history.list(target, { limit: HISTORY_IN_VIEW, columns: "public" });
  const records = stored.map((r) => outcomeShown(r, new Set(lease && !lease.expired ? [lease.holder] : [])));
  const facts = rowFacts(target, row);
  const { mode, suspended } = facts;
  const reached = records.find((r) => r.requestIds.length > 0);
  const latest = records[0];
  const correction = records.find((r) => r.putMade);
  const memory = records.find((r) => r.notConverged !== undefined)?.notConverged ?? [];
  return {
    ...facts,
    observeSince: mode === "observe" ? since(records, (r) => (r.mode === undefined ? undefined : r.mode === "observe")) : undefined,
    suspendedSince: suspended ? since(records, (r) => r.suspended) : undefined,
    lastRun: reached && publicRecord(reached),
    latestAttempt:
      latest && latest !== reached
        ? { outcome: latest.outcome, startedAt: latest.startedAt, trigger: latest.trigger, error: latest.error?.message ?? null }
        : undefined,
    lastCorrection: correction && { at: correction.startedAt, fields: correction.changedFields, runId: correction.runId },
    contested: findContested(records, context.now, engine.deps.contestPolicy),
    notConverged: memory.map(({ field, desired, service }) => ({ field, desired, service })),
    running: lease && !lease.expired ? lease : undefined,
    nextScheduledRun: nextRun(engine.settings.schedule, context.now),
    poison: context.poison.filter((p) => p.target === target),
    ...(row && engine.changes ? { changedOutside: await outsideChangeOf({ desired: engine.desired as DesiredStateStore, changes: engine.changes }, row).catch(() => undefined) } : {}),
  };
}

/** The outcomes a summary lists by target: the ones a person must look at. */
const FAILED = new Set<string>(outcomesListedAs("failed"));
/** Targets read at once for a summary. */
const SUMMARY_CONCURRENCY = 32;

/**
 * Every target at a glance, for thousands of them: counts by the latest run's outcome,
 * and the targets that need a person (failed, contested, not converged). One paged read
 * of the desired rows, the latest few history rows of each target (a small query per
 * target, never the whole history table), one read of the leases held now.
 */
export interface StatusSummary {
  targets: number;
  byKind: Record<string, number>;
  /** The latest run's outcome per target; targets without a run count as "never-run". */
  byOutcome: Record<string, number>;
  observe: number;
  suspended: number;
  runningNow: number;
  /** Latest run failed, conflict or invalid-desired; newest first. */
  failed: { target: string; outcome: string; at: string; error: string | null }[];
  /** Fields corrected again and again, as the latest run counted them. */
  contested: { target: string; fields: string[] }[];
  /** Fields Partner Center did not keep, as the latest run that planned remembers them. */
  notConverged: { target: string; fields: string[] }[];
  /** Customers that left: latest run `gone`, or suspended for it (departures.ts). */
  gone: { target: string; suspended: boolean; reason?: string; at?: string }[];
  /** Latest run held, uncertain or interrupted, with the command that moves it on (attention.ts); newest first. */
  needsPerson?: NeedsPerson[];
  poison: number;
  nextScheduledRun?: string;
}

/** The latest run that says something: a run that only found the lease taken (in-progress, no call) does not. */
function latestMeaningful(records: readonly HistoryRecord[]): HistoryRecord | undefined {
  return records.find((r) => r.outcome !== "in-progress" || r.putPending === true);
}

export async function statusSummary(engine: StatusSources, context: { now: Date; poison: PoisonEntry[] }): Promise<StatusSummary> {
  const rows: { target: string; kind: string; mode: string; suspended: boolean; reason?: string }[] = [];
  for await (const row of engine.desired.rows({ select: ["Mode", "Suspended", "SuspendedReason", ...KEY_PROPERTIES] })) {
    const suspended = row.properties.Suspended === true;
    const reason = suspended && typeof row.properties.SuspendedReason === "string" ? row.properties.SuspendedReason : undefined;
    rows.push({ target: row.target, kind: resourceOfEntity(row.properties).kind.name, mode: row.properties.Mode === "observe" ? "observe" : "enforce", suspended, ...(reason ? { reason } : {}) });
  }
  const [statuses, held] = await Promise.all([statusRows(engine, true), engine.leases.listHeld(context.now)]);
  // Targets whose runs all predate status rows: their latest few history rows, a bounded few at a time.
  const missing = rows.filter((r) => !statuses.has(r.target));
  const fallback = await mapWithConcurrency(missing, SUMMARY_CONCURRENCY, (r) => engine.history.list(r.target, { limit: 5, columns: "status" }));
  const legacy = new Map(missing.map((r, i) => [r.target, fallback[i]]));
  const summary: StatusSummary = {
    targets: rows.length,
    byKind: {},
    byOutcome: {},
    observe: 0,
    suspended: 0,
    runningNow: held.length,
    failed: [],
    contested: [],
    notConverged: [],
    gone: [],
    poison: context.poison.length,
    nextScheduledRun: nextRun(engine.settings.schedule, context.now),
  };
  const holders = new Set(held.map((h) => h.holder));
  const leased = new Set(held.map((h) => h.target));
  rows.forEach((row) => {
    summary.byKind[row.kind] = (summary.byKind[row.kind] ?? 0) + 1;
    if (row.mode === "observe") summary.observe++;
    if (row.suspended) summary.suspended++;
    const status = statuses.get(row.target);
    if (status) return countStatusRow(summary, row, status, holders, leased);
    const records = (legacy.get(row.target) ?? []).map((r) => outcomeShown(r, holders));
    const last = latestMeaningful(records);
    // Only runs that found the lease taken: the target is being run (or re-queued for it), not never run.
    const outcome = last?.outcome ?? records[0]?.outcome ?? "never-run";
    summary.byOutcome[outcome] = (summary.byOutcome[outcome] ?? 0) + 1;
    if (last && FAILED.has(last.outcome)) summary.failed.push({ target: row.target, outcome: last.outcome, at: last.startedAt, error: last.error?.message ?? null });
    if (last?.contested?.length) summary.contested.push({ target: row.target, fields: last.contested.map((c) => c.field) });
    const memory = records.find((r) => r.notConverged !== undefined)?.notConverged ?? [];
    if (memory.length) summary.notConverged.push({ target: row.target, fields: memory.map((n) => n.field) });
    const waiting = needsPerson(row.target, last);
    if (waiting) (summary.needsPerson ??= []).push(waiting);
    const departed = records.find((r) => r.outcome === "gone");
    if (last?.outcome === "gone" || (row.suspended && departed && row.reason?.startsWith("customer gone"))) {
      summary.gone.push({ target: row.target, suspended: row.suspended, ...(row.reason ? { reason: row.reason } : {}), ...(departed ? { at: departed.startedAt } : {}) });
    }
  });
  summary.failed.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  summary.needsPerson?.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  return summary;
}

/** A page of per-target statuses: `continuationToken` comes from the previous page. */
export interface StatusPage {
  targets: TargetStatus[];
  continuationToken?: string;
}

export const MAX_STATUS_PAGE_SIZE = 1000;
export const DEFAULT_STATUS_PAGE_SIZE = 100;

/** The token is the last target of the previous page, opaque to clients. */
function encodeToken(after: string): string {
  return Buffer.from(JSON.stringify({ after }), "utf8").toString("base64url");
}

function decodeToken(token: string): string {
  try {
    const { after } = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { after?: unknown };
    if (typeof after === "string" && after.length <= 63) return after;
  } catch {
    // Reported below.
  }
  throw new SyncError("InvalidRequest", "continuationToken is not one this API gave out; start again without it.", { statusCode: 400 });
}

export async function statusPage(engine: StatusSources, options: { pageSize?: number; continuationToken?: string; now: Date; poison: PoisonEntry[] }): Promise<StatusPage> {
  const pageSize = Math.min(MAX_STATUS_PAGE_SIZE, Math.max(1, options.pageSize ?? DEFAULT_STATUS_PAGE_SIZE));
  const after = options.continuationToken === undefined ? undefined : decodeToken(options.continuationToken);
  const { targets, more } = await engine.desired.targetPage({ pageSize, after });
  const statuses = await statusesOf(engine, targets, options);
  return { targets: statuses, ...(more && targets.length > 0 ? { continuationToken: encodeToken(targets[targets.length - 1]) } : {}) };
}

/** Targets read at once where a status needs a read per target (desired row, or history for a target without a status row). */
const PAGE_CONCURRENCY = 16;

/** The page's targets: their status rows in one range query, the rest per target, a bounded few at a time. */
async function statusesOf(engine: StatusSources, targets: readonly string[], context: { now: Date; poison: PoisonEntry[] }): Promise<TargetStatus[]> {
  if (targets.length === 0) return [];
  const [rows, held] = await Promise.all([
    engine.history.status ? engine.history.status.range(targets[0], targets[targets.length - 1]) : Promise.resolve(new Map<string, StatusRow>()),
    engine.leases.listHeld(context.now),
  ]);
  const leases = new Map(held.map(({ target, ...lease }) => [target, lease]));
  const poison = poisonByTarget(context.poison);
  const ctx = { now: context.now, poison: context.poison, poisonByTarget: poison, nextScheduledRun: nextRun(engine.settings.schedule, context.now) };
  return mapWithConcurrency(targets, PAGE_CONCURRENCY, async (target) => {
    const row = await engine.desired.get(target);
    const status = rows.get(target);
    return status ? statusFromRow(engine, { target, row, status, lease: leases.get(target) }, ctx) : statusFromHistory(engine, target, row, leases.get(target), context);
  });
}

/**
 * Every target's status in full, for thousands of them: one paged read of the desired rows,
 * one of the status rows, one of the leases held; the history only of targets without a
 * status row (bounded concurrency).
 */
export async function allStatuses(engine: StatusSources, context: { now: Date; poison: PoisonEntry[] }): Promise<TargetStatus[]> {
  const [desired, statuses, held] = await Promise.all([
    (async () => {
      const rows: DesiredRow[] = [];
      for await (const row of engine.desired.rows()) rows.push(row);
      return rows;
    })(),
    statusRows(engine, false),
    engine.leases.listHeld(context.now),
  ]);
  const leases = new Map(held.map(({ target, ...lease }) => [target, lease]));
  const ctx = { now: context.now, poison: context.poison, poisonByTarget: poisonByTarget(context.poison), nextScheduledRun: nextRun(engine.settings.schedule, context.now) };
  return mapWithConcurrency(desired, PAGE_CONCURRENCY, async (row) => {
    const status = statuses.get(row.target);
    return status ? statusFromRow(engine, { target: row.target, row, status, lease: leases.get(row.target) }, ctx) : statusFromHistory(engine, row.target, row, leases.get(row.target), context);
  });
}

async function statusRows(engine: StatusSources, summary: boolean): Promise<Map<string, StatusRow>> {
  const out = new Map<string, StatusRow>();
  if (!engine.history.status) return out;
  for await (const row of engine.history.status.rows({ summary })) out.set(row.target, row);
  return out;
}

function poisonByTarget(poison: readonly PoisonEntry[]): Map<string, PoisonEntry[]> {
  const out = new Map<string, PoisonEntry[]>();
  for (const p of poison) out.set(p.target, [...(out.get(p.target) ?? []), p]);
  return out;
}

function countStatusRow(
  summary: StatusSummary,
  row: { target: string; suspended: boolean; reason?: string },
  status: StatusRow,
  holders: ReadonlySet<string>,
  leased: ReadonlySet<string>,
): void {
  const target = row.target;
  // A write-ahead row whose run no longer holds the lease: that run was stopped (interrupted).
  const last = status.latest && outcomeShown(status.latest, holders);
  // No run that says something yet, but one holds the lease (or was re-queued behind it): being run, not never run.
  const outcome = last?.outcome ?? (leased.has(target) ? "in-progress" : "never-run");
  summary.byOutcome[outcome] = (summary.byOutcome[outcome] ?? 0) + 1;
  if (last && FAILED.has(last.outcome)) summary.failed.push({ target, outcome: last.outcome, at: last.at, error: last.error ?? null });
  if (status.contested.length) summary.contested.push({ target, fields: status.contested.map((c) => c.field) });
  if (status.notConverged.length) summary.notConverged.push({ target, fields: status.notConverged.map((n) => n.field) });
  if (last?.outcome === "gone" || (row.suspended && row.reason?.startsWith("customer gone"))) {
    summary.gone.push({ target, suspended: row.suspended, ...(row.reason ? { reason: row.reason } : {}), ...(last?.outcome === "gone" ? { at: last.at } : {}) });
  }
  const waiting = last && needsPerson(target, { ...last, outcome: last.outcome as HistoryRecord["outcome"], startedAt: last.at });
  if (waiting) (summary.needsPerson ??= []).push(waiting);
}

/** A target's status from its status row, the desired row as it is now, and the lease. */
function statusFromRow(
  engine: StatusSources,
  parts: { target: string; row: DesiredRow | undefined; status: StatusRow; lease: LeaseInfo | undefined },
  context: { now: Date; poison: PoisonEntry[]; poisonByTarget?: Map<string, PoisonEntry[]>; nextScheduledRun?: string },
): TargetStatus {
  const { target, row, status, lease } = parts;
  const facts = rowFacts(target, row);
  const { mode, suspended } = facts;
  // A write-ahead row whose run no longer holds the lease: that run was stopped (interrupted).
  const holders = new Set(lease && !lease.expired ? [lease.holder] : []);
  const latest = status.latest && outcomeShown(status.latest, holders);
  const window = (engine.deps.contestPolicy ?? DEFAULT_CONTEST_POLICY).windowInMs;
  // The latest run counted the contests; once its window has passed they no longer stand.
  const contestsStand = latest !== undefined && Date.parse(latest.at) >= context.now.getTime() - window;
  return {
    ...facts,
    observeSince: mode === "observe" && status.mode === "observe" ? status.observeSince : undefined,
    suspendedSince: suspended && status.suspended === true ? status.suspendedSince : undefined,
    // The row keeps the public record of a HistoryRecord as the history store wrote it.
    lastRun: status.lastRun && outcomeShown(status.lastRun as PublicHistoryRecord, holders),
    latestAttempt:
      latest && latest.runId !== status.lastRun?.runId
        ? { outcome: latest.outcome, startedAt: latest.at, trigger: latest.trigger, error: latest.error ?? null, ...(latest.reason && latest.reason !== latest.error ? { reason: latest.reason } : {}) }
        : undefined,
    lastCorrection: status.lastCorrection && { at: status.lastCorrection.at, fields: status.lastCorrection.fields, runId: status.lastCorrection.runId },
    contested: contestsStand ? status.contested : [],
    notConverged: status.notConverged.map(({ field, desired, service }) => ({ field, desired, service })),
    running: lease && !lease.expired ? lease : undefined,
    // The same for every target: worked out once per read of many (see statusesOf).
    nextScheduledRun: "nextScheduledRun" in context ? context.nextScheduledRun : nextRun(engine.settings.schedule, context.now),
    poison: context.poisonByTarget ? (context.poisonByTarget.get(target) ?? []) : context.poison.filter((p) => p.target === target),
  };
}
