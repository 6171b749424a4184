import { type ContestedField, type ContestPolicy, findContested, KEY_PROPERTIES, resourceOfEntity } from "../model";
import { mapWithConcurrency, SyncError } from "../core";
import { type DesiredStateStore, type HistoryRecord, type HistoryStore, type LeaseInfo, type LeaseStore, type PoisonEntry, type PublicHistoryRecord, publicRecord } from "../stores";
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
  latestAttempt?: { outcome: string; startedAt: string; trigger: string; error: string | null };
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
  readonly history: Pick<HistoryStore, "list">;
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
  const [row, stored, lease] = await Promise.all([
    engine.desired.get(target),
    engine.history.list(target, { limit: HISTORY_IN_VIEW, columns: "public" }),
    engine.leases.get(target, context.now),
  ]);
  const records = stored.map((r) => outcomeShown(r, new Set(lease && !lease.expired ? [lease.holder] : [])));
  const mode = row?.properties.Mode === "observe" ? "observe" : "enforce";
  const resource = resourceOfEntity(row?.properties ?? {});
  const suspended = row?.properties.Suspended === true;
  const reached = records.find((r) => r.requestIds.length > 0);
  const latest = records[0];
  const correction = records.find((r) => r.putMade);
  const memory = records.find((r) => r.notConverged !== undefined)?.notConverged ?? [];
  return {
    target,
    resourceKind: resource.kind.name,
    ...(resource.kind.key && resource.id !== undefined ? { customerId: resource.id } : {}),
    mode,
    suspended,
    observeSince: mode === "observe" ? since(records, (r) => (r.mode === undefined ? undefined : r.mode === "observe")) : undefined,
    suspendedSince: suspended ? since(records, (r) => r.suspended) : undefined,
    ...(suspended && typeof row?.properties.SuspendedReason === "string" ? { suspendedReason: row.properties.SuspendedReason } : {}),
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
  const [latest, held] = await Promise.all([
    mapWithConcurrency(rows, SUMMARY_CONCURRENCY, (r) => engine.history.list(r.target, { limit: 5, columns: "status" })),
    engine.leases.listHeld(context.now),
  ]);
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
  rows.forEach((row, i) => {
    const records = latest[i].map((r) => outcomeShown(r, holders));
    const last = latestMeaningful(records);
    // Only runs that found the lease taken: the target is being run (or re-queued for it), not never run.
    const outcome = last?.outcome ?? records[0]?.outcome ?? "never-run";
    summary.byKind[row.kind] = (summary.byKind[row.kind] ?? 0) + 1;
    summary.byOutcome[outcome] = (summary.byOutcome[outcome] ?? 0) + 1;
    if (row.mode === "observe") summary.observe++;
    if (row.suspended) summary.suspended++;
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
  const statuses = await mapWithConcurrency(targets, 8, (target) => targetStatus(engine, target, options));
  return { targets: statuses, ...(more && targets.length > 0 ? { continuationToken: encodeToken(targets[targets.length - 1]) } : {}) };
}
