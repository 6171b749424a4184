import { odata, type TableClient, type TableEntity } from "@azure/data-tables";
import { type AddressValidationSummary, type ContestedField, type FieldChange, MAX_PROFILE_DEPTH, type Mode, type NotConvergedField, type Outcome, type RuleViolation, type RunError, type Trigger } from "../model";
import { isJsonObject, type JsonObject, parseJsonText, toJsonText } from "../core";
import { isNotFound, isPreconditionFailed, statusOf, storageError as tableError, storageFailure, TABLES, type TableFactory } from "./tables";
import { checkRowKey, type Checks, checksAfter, completeDays, isCompactedCheck } from "./checkRows";
import { StatusStore } from "./statusStore";

/** One run of one target, as kept in BillingProfileHistory. */
export interface HistoryRecord {
  runId: string;
  target: string;
  /** The resource kind of the target's row (ResourceKind.name); absent in rows written before kinds existed. */
  resourceKind?: string;
  /** Which instance: the customer tenant id of a customer billing profile. */
  resourceId?: string;
  trigger: Trigger;
  dryRun: boolean;
  outcome: Outcome;
  changedFields: string[];
  /** Masked, as everywhere outside ProfileBefore. */
  changes: FieldChange[];
  correlationId: string;
  requestIds: string[];
  getRequestId?: string;
  putRequestId?: string;
  putMade: boolean;
  /** The run wrote this row just before its PUT and did not get to record how it ended. */
  putPending?: boolean;
  etagBefore?: string;
  etagAfter?: string;
  /** The live profile as read before the PUT that changed it, unmasked: what restore puts back. */
  profileBefore?: JsonObject;
  /** Why a PUT's profileBefore is not in the row (too large for a table entity). */
  profileBeforeOmitted?: string;
  /**
   * The personal values a PUT sent (field → value), unmasked: with profileBefore, the only
   * unmasked copies; what the audit report shows as a correction's new value with --show-personal.
   */
  valuesSent?: Record<string, string>;
  error: RunError | null;
  startedAt: string;
  durationMs: number;
  /** Mode and Suspended as this run read them (status derives "since when" from these). */
  mode?: Mode;
  suspended?: boolean;
  /**
   * Fields the service did not take, remembered so later runs do not PUT the same change
   * again. Undefined when the run did not get as far as planning: the previous memory holds.
   */
  notConverged?: NotConvergedField[];
  /** Fields corrected again and again within the contest window. */
  contested?: ContestedField[];
  /** false when the profile had no ETag, so a PUT was unconditional (last writer wins). */
  guarded?: boolean;
  warnings?: string[];
  violations?: RuleViolation[];
  /** Masked, as in the run result. */
  addressValidation?: AddressValidationSummary;
  /** The build that made the run (package.json's version); absent in rows written before it was kept. */
  version?: string;
  /** The sweep the run belonged to (SweepId); absent for a targeted run. */
  sweepId?: string;
  /** A held run: which guard held it (HeldReason). */
  heldReason?: string;
  /**
   * Per changed field, the hash of the desired value the run worked to (DesiredHashes): a
   * later run tells a fight from a change of the desired state by it. Kept out of output.
   */
  desiredHashes?: Record<string, string>;
  /** An `uncertain` run: the later run that read the live profile and set PutMade to what it found. */
  resolvedBy?: string;
  /**
   * A day's in-sync checks of the target, compacted into one row (the rest of the record is
   * the last check's): how many, the first and the last start time (UTC). Absent on a run's own row.
   */
  checks?: Checks;
}

export type PublicHistoryRecord = Omit<HistoryRecord, "profileBefore" | "valuesSent" | "desiredHashes"> & { restorable: boolean };

/** A record without the unmasked values it keeps (for restore, for the audit report): safe to print or return. */
export function publicRecord(record: HistoryRecord): PublicHistoryRecord {
  const { profileBefore: _profileBefore, valuesSent: _valuesSent, desiredHashes: _desiredHashes, ...rest } = record;
  // Every run that made a PUT keeps the profile it replaced: `billing-sync restore --run` can undo it.
  return { ...rest, restorable: rest.putMade || rest.putPending === true || (rest.outcome === "uncertain" && rest.resolvedBy === undefined) };
}

const SUMMARY_COLUMNS = ["PartitionKey", "RowKey", "RunId", "Trigger", "DryRun", "Outcome", "ChangedFields", "StartedAt", "NotConverged", "PutMade", "PutPending", "ResourceKind", "ResourceId", "SweepId", "HeldReason", "DesiredHashes", "ResolvedBy", "ChecksCount", "FirstCheckAt"] as const;
const COLUMNS = {
  summary: SUMMARY_COLUMNS,
  /** What the status summary needs of a target's latest runs. */
  status: [...SUMMARY_COLUMNS, "ErrorCode", "ErrorMessage", "Contested"],
  public: [
    ...SUMMARY_COLUMNS,
    "Changes",
    "CorrelationId",
    "RequestIds",
    "GetRequestId",
    "PutRequestId",
    "EtagBefore",
    "EtagAfter",
    "ErrorCode",
    "ErrorMessage",
    "ErrorStatus",
    "ErrorServiceCode",
    "ErrorRequestId",
    "DurationMs",
    "Mode",
    "Suspended",
    "Contested",
    "Guarded",
    "Warnings",
    "Violations",
    "AddressValidation",
    "Version",
  ],
} as const;

// Newest first: RowKey sorts ascending, so it starts with the time left until year 2286.
const MAX_TIME = 9_999_999_999_999;

export function historyRowKey(startedAt: string, runId: string): string {
  return `${String(MAX_TIME - Date.parse(startedAt)).padStart(13, "0")}_${runId}`;
}

/** A Table string property holds at most 32K UTF-16 units (64 KiB); an entity at most 1 MiB. */
const PROPERTY_CHARS = 32_000;
const PROFILE_BUDGET_BYTES = 768 * 1024;

/**
 * The profile before a PUT, as properties ProfileBefore, ProfileBefore2, ...: a profile
 * with large unknown fields does not fit one property, and a refused write would lose
 * the whole row. Beyond what an entity can hold, the row keeps why instead.
 */
function profileProperties(record: HistoryRecord): Record<string, unknown> {
  if (record.profileBefore === undefined) return { ProfileBeforeOmitted: record.profileBeforeOmitted };
  // Lossless: numbers go back to restore exactly as Partner Center wrote them.
  const text = toJsonText(record.profileBefore);
  const bytes = Buffer.byteLength(JSON.stringify(text));
  if (bytes > PROFILE_BUDGET_BYTES) {
    return { ProfileBeforeOmitted: `the profile (${bytes} bytes as stored) is too large for a history row (at most ${PROFILE_BUDGET_BYTES})` };
  }
  const parts: string[] = [];
  for (let i = 0; i < text.length; ) {
    let end = Math.min(i + PROPERTY_CHARS, text.length);
    // Never split a surrogate pair between two properties.
    if (end < text.length && /[\ud800-\udbff]/.test(text[end - 1])) end--;
    parts.push(text.slice(i, end));
    i = end;
  }
  const props: Record<string, unknown> = { ProfileBefore: parts[0] };
  parts.slice(1).forEach((part, i) => (props[`ProfileBefore${i + 2}`] = part));
  if (parts.length > 1) props.ProfileBeforeParts = parts.length;
  return props;
}

function profileFromEntity(entity: Record<string, unknown>): string | undefined {
  if (typeof entity.ProfileBefore !== "string") return undefined;
  const count = typeof entity.ProfileBeforeParts === "number" ? entity.ProfileBeforeParts : 1;
  let text = entity.ProfileBefore;
  for (let i = 2; i <= count; i++) text += String(entity[`ProfileBefore${i}`] ?? "");
  return text;
}

function toEntity(record: HistoryRecord): TableEntity<Record<string, unknown>> {
  return {
    partitionKey: record.target,
    rowKey: historyRowKey(record.startedAt, record.runId),
    RunId: record.runId,
    ResourceKind: record.resourceKind,
    ResourceId: record.resourceId,
    Trigger: record.trigger,
    DryRun: record.dryRun,
    Outcome: record.outcome,
    ChangedFields: record.changedFields.join(","),
    Changes: JSON.stringify(record.changes),
    CorrelationId: record.correlationId,
    RequestIds: JSON.stringify(record.requestIds),
    GetRequestId: record.getRequestId,
    PutRequestId: record.putRequestId,
    PutMade: record.putMade,
    PutPending: record.putPending || undefined,
    EtagBefore: record.etagBefore,
    EtagAfter: record.etagAfter,
    ...profileProperties(record),
    ValuesSent: record.valuesSent && Object.keys(record.valuesSent).length ? JSON.stringify(record.valuesSent) : undefined,
    ErrorCode: record.error?.code,
    ErrorMessage: record.error?.message,
    ErrorStatus: record.error?.status,
    ErrorServiceCode: record.error?.serviceCode,
    ErrorRequestId: record.error?.requestId,
    StartedAt: record.startedAt,
    DurationMs: record.durationMs,
    Mode: record.mode,
    Suspended: record.suspended,
    NotConverged: record.notConverged === undefined ? undefined : JSON.stringify(record.notConverged),
    Contested: record.contested?.length ? JSON.stringify(record.contested) : undefined,
    Guarded: record.guarded,
    Warnings: record.warnings?.length ? JSON.stringify(record.warnings) : undefined,
    Violations: record.violations?.length ? JSON.stringify(record.violations) : undefined,
    AddressValidation: record.addressValidation ? JSON.stringify(record.addressValidation) : undefined,
    Version: record.version,
    SweepId: record.sweepId,
    HeldReason: record.heldReason,
    DesiredHashes: record.desiredHashes && Object.keys(record.desiredHashes).length ? JSON.stringify(record.desiredHashes) : undefined,
    ResolvedBy: record.resolvedBy,
    ChecksCount: record.checks?.count,
    FirstCheckAt: record.checks?.first,
  };
}

function parseJson<T>(value: unknown, fallback: T): T {
  if (typeof value !== "string" || value === "") return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

/** The stored profile, read back as losslessly as it was written; undefined if it cannot be read. */
function parseProfileText(text: string | undefined): JsonObject | undefined {
  if (text === undefined) return undefined;
  try {
    const value = parseJsonText(text, { maxDepth: MAX_PROFILE_DEPTH });
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function fromEntity(entity: Record<string, unknown>): HistoryRecord {
  const errorCode = str(entity.ErrorCode);
  return {
    runId: String(entity.RunId),
    target: String(entity.partitionKey),
    resourceKind: str(entity.ResourceKind),
    resourceId: str(entity.ResourceId),
    trigger: entity.Trigger as Trigger,
    dryRun: entity.DryRun === true,
    outcome: entity.Outcome as Outcome,
    changedFields: str(entity.ChangedFields)?.split(",") ?? [],
    changes: parseJson<FieldChange[]>(entity.Changes, []),
    correlationId: String(entity.CorrelationId ?? ""),
    requestIds: parseJson<string[]>(entity.RequestIds, []),
    getRequestId: str(entity.GetRequestId),
    putRequestId: str(entity.PutRequestId),
    putMade: entity.PutMade === true,
    putPending: entity.PutPending === true || undefined,
    etagBefore: str(entity.EtagBefore),
    etagAfter: str(entity.EtagAfter),
    profileBefore: parseProfileText(profileFromEntity(entity)),
    profileBeforeOmitted: str(entity.ProfileBeforeOmitted),
    valuesSent: parseJson<Record<string, string> | undefined>(entity.ValuesSent, undefined),
    error: errorCode
      ? {
          code: errorCode,
          message: String(entity.ErrorMessage ?? ""),
          status: typeof entity.ErrorStatus === "number" ? entity.ErrorStatus : undefined,
          serviceCode: str(entity.ErrorServiceCode),
          correlationId: str(entity.CorrelationId),
          requestId: str(entity.ErrorRequestId),
        }
      : null,
    startedAt: String(entity.StartedAt),
    durationMs: Number(entity.DurationMs ?? 0),
    mode: entity.Mode === "observe" || entity.Mode === "enforce" ? entity.Mode : undefined,
    suspended: typeof entity.Suspended === "boolean" ? entity.Suspended : undefined,
    notConverged: parseJson<NotConvergedField[] | undefined>(entity.NotConverged, undefined),
    contested: parseJson<ContestedField[]>(entity.Contested, []),
    guarded: typeof entity.Guarded === "boolean" ? entity.Guarded : undefined,
    warnings: parseJson<string[] | undefined>(entity.Warnings, undefined),
    violations: parseJson<RuleViolation[] | undefined>(entity.Violations, undefined),
    addressValidation: parseJson<AddressValidationSummary | undefined>(entity.AddressValidation, undefined),
    version: str(entity.Version),
    sweepId: str(entity.SweepId),
    heldReason: str(entity.HeldReason),
    desiredHashes: parseJson<Record<string, string> | undefined>(entity.DesiredHashes, undefined),
    resolvedBy: str(entity.ResolvedBy),
    checks: typeof entity.ChecksCount === "number" ? { count: entity.ChecksCount, first: str(entity.FirstCheckAt) ?? String(entity.StartedAt), last: String(entity.StartedAt) } : undefined,
  };
}

const storageError = (action: string, err: unknown) => tableError(TABLES.history, action, err);

/** BillingProfileHistory: PartitionKey = target, RowKey = inverted start time + run id. */
export class HistoryStore {
  private readonly client: TableClient;
  /** Kept by every record written here: what status reads instead of the history. */
  readonly status: StatusStore;

  constructor(private readonly tables: TableFactory) {
    this.client = tables.client(TABLES.history);
    this.status = new StatusStore(tables);
  }

  /** The run's row (an in-sync check: its day's check row), then its target's status row. */
  async add(record: HistoryRecord): Promise<void> {
    if (isCompactedCheck(record)) await this.addCheck(record);
    else await this.addRun(record);
    await this.status.record(record);
  }

  /**
   * Folds an in-sync check into the target's check row of its UTC day: read, merge, write
   * conditional on the ETag, again when a concurrent check of the same target won the race.
   */
  private async addCheck(record: HistoryRecord): Promise<void> {
    const rowKey = checkRowKey(record.startedAt);
    try {
      await this.tables.ensure(this.client);
      for (let attempt = 1; ; attempt++) {
        let current: (Record<string, unknown> & { etag: string }) | undefined;
        try {
          current = await this.client.getEntity<Record<string, unknown>>(record.target, rowKey);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        const before = current && fromEntity(current);
        const checks = checksAfter(before, record);
        // The newest check (by start time, then run id) gives the row its run's details.
        const newest = !before || `${record.startedAt}|${record.runId}` >= `${before.startedAt}|${before.runId}`;
        const entity = { ...toEntity({ ...(newest ? record : before), checks }), rowKey };
        try {
          if (current) await this.client.updateEntity(entity, "Replace", { etag: current.etag });
          else await this.client.createEntity(entity);
          return;
        } catch (err) {
          if (!isPreconditionFailed(err) || attempt >= 12) throw err;
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
        }
      }
    } catch (err) {
      throw storageError(`record check ${record.runId}`, err);
    }
  }

  private async addRun(record: HistoryRecord): Promise<void> {
    try {
      await this.tables.ensure(this.client);
      // Upsert: a run's final record replaces the row it wrote ahead of its PUT.
      await this.client.upsertEntity(toEntity(record), "Replace");
    } catch (err) {
      const status = statusOf(err);
      if (status !== 400 || record.profileBefore === undefined) throw storageError(`record run ${record.runId}`, err);
      // The service refused the row (a property or the entity too large): the run matters
      // more than the copy of the profile, so record it without.
      const reason = `the history row was refused with it (${storageFailure(err)})`;
      try {
        await this.client.upsertEntity(toEntity({ ...record, profileBefore: undefined, profileBeforeOmitted: reason }), "Replace");
      } catch (again) {
        throw storageError(`record run ${record.runId}`, again);
      }
    }
  }

  /**
   * Newest first; with `since`, only runs started at or after it. `columns` trims what is
   * read: "summary" is what a run needs to spot fights and not-converged fields, "public"
   * everything but the stored profile; the rest of a record is then left at its defaults.
   */
  async list(target: string, options: { limit?: number; since?: Date; columns?: keyof typeof COLUMNS } = {}): Promise<HistoryRecord[]> {
    const limit = options.limit ?? 20;
    const out: HistoryRecord[] = [];
    // RowKeys grow as start times shrink: "started at or after since" is "RowKey below since's key + 1 ms".
    // (A day's check row is keyed at the day's end: it is in when its day reaches into the window.)
    const filter = options.since
      ? odata`PartitionKey eq ${target} and RowKey lt ${historyRowKey(new Date(options.since.getTime() - 1).toISOString(), "")}`
      : odata`PartitionKey eq ${target}`;
    try {
      await this.tables.ensure(this.client);
      const select = options.columns ? [...COLUMNS[options.columns]] : undefined;
      const pages = this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter, select } }).byPage({ maxPageSize: Math.min(limit + 24, 1000) });
      // Rows come by day (a check row heads its day); within a day they are put in time order,
      // so the limit cuts only after the whole day it falls in has been read.
      const since = options.since?.getTime();
      for await (const record of completeDays(pages, fromEntity, limit, (r) => since === undefined || Date.parse(r.startedAt) >= since)) out.push(record);
      return out.slice(0, limit);
    } catch (err) {
      throw storageError(`read the history of "${target}"`, err);
    }
  }

  /** Records on an `uncertain` run's row what a later run found: whether its PUT landed, and which run found it. */
  async settle(record: Pick<HistoryRecord, "target" | "startedAt" | "runId">, found: { putMade: boolean; resolvedBy: string }): Promise<void> {
    try {
      await this.client.updateEntity({ partitionKey: record.target, rowKey: historyRowKey(record.startedAt, record.runId), PutMade: found.putMade, ResolvedBy: found.resolvedBy }, "Merge");
    } catch (err) {
      throw storageError(`settle run ${record.runId}`, err);
    }
  }

  /**
   * Every target's runs started at or after `since`, in one query across partitions, a
   * target at a time (newest first within it): what a report of every target reads, instead
   * of a query per target.
   */
  async *listSince(since: Date, options: { columns?: keyof typeof COLUMNS } = {}): AsyncGenerator<{ target: string; runs: HistoryRecord[] }> {
    const filter = odata`RowKey lt ${historyRowKey(new Date(since.getTime() - 1).toISOString(), "")}`;
    const select = options.columns ? [...COLUMNS[options.columns]] : undefined;
    let target: string | undefined;
    let runs: HistoryRecord[] = [];
    const done = () => ({ target: target!, runs: runs.filter((r) => Date.parse(r.startedAt) >= since.getTime()).sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0)) });
    try {
      await this.tables.ensure(this.client);
      for await (const page of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter, select } }).byPage({ maxPageSize: 1000 })) {
        for (const entity of page) {
          const pk = String(entity.partitionKey);
          if (pk !== target) {
            if (target !== undefined) yield done();
            target = pk;
            runs = [];
          }
          runs.push(fromEntity(entity));
        }
      }
      if (target !== undefined) yield done();
    } catch (err) {
      throw storageError(`read the history since ${since.toISOString()}`, err);
    }
  }

  /**
   * Every target's rows whose key time is in [from, to) (undefined: open), in one query
   * across partitions: a target at a time, each in RowKey order (newest first). With
   * UTC midnights as ends, whole days. What recentRuns.ts pages through.
   */
  async *rowsBetween(from: Date | undefined, to: Date | undefined, options: { columns?: keyof typeof COLUMNS } = {}): AsyncGenerator<Record<string, unknown>[]> {
    const prefix = (time: number) => String(MAX_TIME - time).padStart(13, "0");
    // Each bound an odata template (no query text joined by hand); an open end is no bound.
    const range = from && to ? odata`RowKey lt ${prefix(from.getTime() - 1)} and RowKey ge ${prefix(to.getTime() - 1)}` : from ? odata`RowKey lt ${prefix(from.getTime() - 1)}` : odata`RowKey ge ${prefix((to?.getTime() ?? 0) - 1)}`;
    const select = options.columns ? [...COLUMNS[options.columns]] : undefined;
    try {
      await this.tables.ensure(this.client);
      const query = this.client.listEntities<Record<string, unknown>>({ queryOptions: from || to ? { filter: range, select } : { select } });
      for await (const page of query.byPage({ maxPageSize: 1000 })) yield page;
    } catch (err) {
      throw storageError("read the history across targets", err);
    }
  }

  /** A row as rowsBetween gives it, as a record. */
  readRow(entity: Record<string, unknown>): HistoryRecord {
    return fromEntity(entity);
  }

  async get(target: string, runId: string): Promise<HistoryRecord | undefined> {
    try {
      await this.tables.ensure(this.client);
      const rows = this.client.listEntities<Record<string, unknown>>({
        queryOptions: { filter: odata`PartitionKey eq ${target} and RunId eq ${runId}` },
      });
      for await (const entity of rows) return fromEntity(entity);
      return undefined;
    } catch (err) {
      throw storageError(`read run ${runId} of "${target}"`, err);
    }
  }
}
