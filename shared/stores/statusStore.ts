import { odata, type TableClient } from "@azure/data-tables";
import type { ContestedField, NotConvergedField } from "../model";
import { isNotFound, isPreconditionFailed, storageError as tableError, TABLES, type TableFactory } from "./tables";

/**
 * BillingProfileStatus: one row per target (PartitionKey = target), kept by every run, so
 * that status for ten thousand targets is a paged read of one small table rather than a
 * history query per target. Generic over outcomes: the outcome is a string, with a reason
 * where the run gave one, so an outcome added later needs no change here.
 */
/**
 * What the status row reads of a run: a HistoryRecord (named here, not imported, so that
 * the history store can keep status rows without an import cycle).
 */
export interface StatusRun {
  runId: string;
  target: string;
  resourceKind?: string;
  resourceId?: string;
  trigger: string;
  dryRun: boolean;
  outcome: string;
  changedFields: string[];
  requestIds: string[];
  putMade: boolean;
  putPending?: boolean;
  /** A held run: which guard held it, and the sweep (what `approve` names). */
  heldReason?: string;
  sweepId?: string;
  /** An uncertain run already settled by a later one. */
  resolvedBy?: string;
  error: { message: string } | null;
  startedAt: string;
  mode?: string;
  suspended?: boolean;
  notConverged?: NotConvergedField[];
  contested?: ContestedField[];
  version?: string;
  profileBefore?: unknown;
  valuesSent?: unknown;
  changes?: unknown[];
  warnings?: unknown[];
  violations?: unknown[];
  addressValidation?: unknown;
}

/** The run as publicRecord() makes it: without the unmasked values. */
export type PublicStatusRun = Omit<StatusRun, "profileBefore" | "valuesSent"> & { restorable: boolean };

export interface StatusRow {
  target: string;
  resourceKind?: string;
  resourceId?: string;
  /** The latest run that says something (a run that only found the lease taken does not). */
  latest?: { runId: string; outcome: string; at: string; trigger: string; reason?: string; error?: string; putPending?: boolean; heldReason?: string; sweepId?: string; resolvedBy?: string; dryRun: boolean; order: string };
  /** The latest run that reached Partner Center (it made at least one call), masked. */
  lastRun?: PublicStatusRun;
  lastRunOrder?: string;
  lastCorrection?: { at: string; fields: string[]; runId: string; order: string };
  /** As the latest run counted them, with when it did. */
  contested: ContestedField[];
  /** As the latest run that planned remembers them. */
  notConverged: NotConvergedField[];
  notConvergedOrder?: string;
  mode?: string;
  suspended?: boolean;
  observeSince?: string;
  suspendedSince?: string;
  version?: string;
}

export const STATUS_ROW_KEY = "status";
/** Attempts of a read-merge-write before giving way to concurrent writers of the same target. */
const MAX_ATTEMPTS = 12;
/** A property holds 32K UTF-16 units: a larger last run is kept without its lists. */
const LAST_RUN_CHARS = 30_000;

/**
 * Run order, not the writer's clock: a run that started later wins, whichever process writes
 * last. The run id breaks a tie; the same run's final record replaces its write-ahead one.
 */
export function runOrder(record: Pick<StatusRun, "startedAt" | "runId">): string {
  return `${record.startedAt}|${record.runId}`;
}

/** Why the run ended as it did, for outcomes that carry one (held, gone, failed...). */
function reasonOf(record: StatusRun): string | undefined {
  const own = (record as { reason?: unknown }).reason;
  if (typeof own === "string" && own !== "") return own;
  return record.error?.message;
}

/** A run that only found the lease taken says nothing about the target. */
function saysSomething(record: StatusRun): boolean {
  return record.outcome !== "in-progress" || record.putPending === true;
}

function lastRunOf(record: StatusRun): PublicStatusRun {
  // As publicRecord() makes it (not imported: the history store uses this one).
  const { profileBefore: _profileBefore, valuesSent: _valuesSent, ...rest } = record;
  const full: PublicStatusRun = { ...rest, restorable: rest.putMade || rest.putPending === true };
  if (JSON.stringify(full).length <= LAST_RUN_CHARS) return full;
  return { ...full, changes: [], warnings: undefined, violations: undefined, addressValidation: undefined, requestIds: full.requestIds.slice(0, 20) };
}

/** The row after `record`, given the row before it (undefined: none yet). Pure, so concurrent writers can retry it. */
export function applyRun(before: StatusRow | undefined, record: StatusRun): StatusRow {
  const row: StatusRow = before ? { ...before } : { target: record.target, contested: [], notConverged: [] };
  const order = runOrder(record);
  const newest = saysSomething(record) && (!row.latest || order >= row.latest.order);
  if (newest) {
    const previousMode = row.mode;
    const previousSuspended = row.suspended;
    row.latest = { runId: record.runId, outcome: record.outcome, at: record.startedAt, trigger: record.trigger, reason: reasonOf(record), error: record.error?.message, putPending: record.putPending || undefined, heldReason: record.heldReason, sweepId: record.sweepId, resolvedBy: record.resolvedBy, dryRun: record.dryRun, order };
    row.contested = record.contested ?? [];
    if (record.resourceKind) row.resourceKind = record.resourceKind;
    if (record.resourceId) row.resourceId = record.resourceId;
    row.version = record.version ?? row.version;
    if (record.mode !== undefined) {
      row.mode = record.mode;
      row.observeSince = record.mode === "observe" ? (previousMode === "observe" && row.observeSince ? row.observeSince : record.startedAt) : undefined;
    }
    if (record.suspended !== undefined) {
      row.suspended = record.suspended;
      row.suspendedSince = record.suspended ? (previousSuspended === true && row.suspendedSince ? row.suspendedSince : record.startedAt) : undefined;
    }
  }
  if (record.requestIds.length > 0 && (!row.lastRunOrder || order >= row.lastRunOrder)) {
    row.lastRun = lastRunOf(record);
    row.lastRunOrder = order;
  }
  if (record.putMade && (!row.lastCorrection || order >= row.lastCorrection.order)) {
    row.lastCorrection = { at: record.startedAt, fields: record.changedFields, runId: record.runId, order };
  }
  if (record.notConverged !== undefined && (!row.notConvergedOrder || order >= row.notConvergedOrder)) {
    row.notConverged = record.notConverged;
    row.notConvergedOrder = order;
  }
  return row;
}

function json(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

function parsed<T>(value: unknown, fallback: T): T {
  if (typeof value !== "string" || value === "") return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

function toEntity(row: StatusRow): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  return {
    partitionKey: row.target,
    rowKey: STATUS_ROW_KEY,
    ResourceKind: row.resourceKind,
    ResourceId: row.resourceId,
    Latest: json(row.latest),
    // Flat copies of what a summary filters and counts on.
    Outcome: row.latest?.outcome,
    LatestAt: row.latest?.at,
    LastRun: json(row.lastRun),
    LastRunOrder: row.lastRunOrder,
    LastCorrection: json(row.lastCorrection),
    Contested: row.contested.length ? json(row.contested) : undefined,
    NotConverged: row.notConverged.length ? json(row.notConverged) : undefined,
    NotConvergedOrder: row.notConvergedOrder,
    Mode: row.mode,
    Suspended: row.suspended,
    ObserveSince: row.observeSince,
    SuspendedSince: row.suspendedSince,
    Version: row.version,
  };
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function fromEntity(e: Record<string, unknown>): StatusRow {
  return {
    target: String(e.partitionKey),
    resourceKind: str(e.ResourceKind),
    resourceId: str(e.ResourceId),
    latest: parsed<StatusRow["latest"]>(e.Latest, undefined),
    lastRun: parsed<PublicStatusRun | undefined>(e.LastRun, undefined),
    lastRunOrder: str(e.LastRunOrder),
    lastCorrection: parsed<StatusRow["lastCorrection"]>(e.LastCorrection, undefined),
    contested: parsed<ContestedField[]>(e.Contested, []),
    notConverged: parsed<NotConvergedField[]>(e.NotConverged, []),
    notConvergedOrder: str(e.NotConvergedOrder),
    mode: str(e.Mode),
    suspended: typeof e.Suspended === "boolean" ? e.Suspended : undefined,
    observeSince: str(e.ObserveSince),
    suspendedSince: str(e.SuspendedSince),
    version: str(e.Version),
  };
}

const SUMMARY_COLUMNS = ["PartitionKey", "RowKey", "Latest", "Contested", "NotConverged", "Mode", "Suspended", "ResourceKind"];
const storageError = (action: string, err: unknown) => tableError(TABLES.status, action, err);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class StatusStore {
  private readonly client: TableClient;

  constructor(private readonly tables: TableFactory) {
    this.client = tables.client(TABLES.status);
  }

  /** Folds one run into its target's row: read, merge, ETag-conditional write, again on a lost race. */
  async record(record: StatusRun): Promise<void> {
    try {
      await this.tables.ensure(this.client);
      for (let attempt = 1; ; attempt++) {
        let current: (Record<string, unknown> & { etag: string }) | undefined;
        try {
          current = await this.client.getEntity<Record<string, unknown>>(record.target, STATUS_ROW_KEY);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        const next = toEntity(applyRun(current && fromEntity(current), record));
        try {
          if (current) await this.client.updateEntity(next, "Replace", { etag: current.etag });
          else await this.client.createEntity(next);
          return;
        } catch (err) {
          if (!isPreconditionFailed(err) || attempt >= MAX_ATTEMPTS) throw err;
          await pause(Math.random() * 20 * attempt);
        }
      }
    } catch (err) {
      throw storageError(`update the status of "${record.target}" with run ${record.runId}`, err);
    }
  }

  async get(target: string): Promise<StatusRow | undefined> {
    try {
      await this.tables.ensure(this.client);
      return fromEntity(await this.client.getEntity<Record<string, unknown>>(target, STATUS_ROW_KEY));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw storageError(`read the status of "${target}"`, err);
    }
  }

  /** The rows of targets from `first` to `last` (both included), in target order: one query for a page of targets. */
  async range(first: string, last: string): Promise<Map<string, StatusRow>> {
    const out = new Map<string, StatusRow>();
    try {
      await this.tables.ensure(this.client);
      const rows = this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey ge ${first} and PartitionKey le ${last} and RowKey eq ${STATUS_ROW_KEY}` } });
      for await (const e of rows) out.set(String(e.partitionKey), fromEntity(e));
      return out;
    } catch (err) {
      throw storageError("read the status rows", err);
    }
  }

  /** Every row, page by page (1,000 a request); `summary` reads only what a summary counts (not the last run). */
  async *rows(options: { summary?: boolean } = {}): AsyncGenerator<StatusRow> {
    try {
      await this.tables.ensure(this.client);
      const select = options.summary ? SUMMARY_COLUMNS : undefined;
      const pages = this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`RowKey eq ${STATUS_ROW_KEY}`, select } }).byPage({ maxPageSize: 1000 });
      for await (const page of pages) for (const e of page) yield fromEntity(e);
    } catch (err) {
      throw storageError("read the status rows", err);
    }
  }
}
