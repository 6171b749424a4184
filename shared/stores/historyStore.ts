import { odata, type TableClient, type TableEntity } from "@azure/data-tables";
import type { ContestedField, NotConvergedField } from "../convergence";
import type { Mode } from "../desired";
import type { FieldChange } from "../diff";
import type { JsonObject } from "../json";
import type { Outcome, RunError, Trigger } from "../runResult";
import { storageError as tableError, TABLES, type TableFactory } from "./tables";

/** One run of one target, as kept in BillingProfileHistory. */
export interface HistoryRecord {
  runId: string;
  target: string;
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
  etagBefore?: string;
  etagAfter?: string;
  /** The live profile as read before the PUT that changed it, unmasked: what restore puts back. */
  profileBefore?: JsonObject;
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
}

export type PublicHistoryRecord = Omit<HistoryRecord, "profileBefore"> & { restorable: boolean };

/** A record without the unmasked profile it keeps for restore: safe to print or return. */
export function publicRecord(record: HistoryRecord): PublicHistoryRecord {
  const { profileBefore: _profileBefore, ...rest } = record;
  // Every run that made a PUT keeps the profile it replaced: `billing-sync restore --run` can undo it.
  return { ...rest, restorable: rest.putMade };
}

const SUMMARY_COLUMNS = ["PartitionKey", "RowKey", "RunId", "Trigger", "DryRun", "Outcome", "ChangedFields", "StartedAt", "NotConverged", "PutMade"] as const;
const COLUMNS = {
  summary: SUMMARY_COLUMNS,
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
  ],
} as const;

// Newest first: RowKey sorts ascending, so it starts with the time left until year 2286.
const MAX_TIME = 9_999_999_999_999;

export function historyRowKey(startedAt: string, runId: string): string {
  return `${String(MAX_TIME - Date.parse(startedAt)).padStart(13, "0")}_${runId}`;
}

function toEntity(record: HistoryRecord): TableEntity<Record<string, unknown>> {
  return {
    partitionKey: record.target,
    rowKey: historyRowKey(record.startedAt, record.runId),
    RunId: record.runId,
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
    EtagBefore: record.etagBefore,
    EtagAfter: record.etagAfter,
    ProfileBefore: record.profileBefore === undefined ? undefined : JSON.stringify(record.profileBefore),
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

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function fromEntity(entity: Record<string, unknown>): HistoryRecord {
  const errorCode = str(entity.ErrorCode);
  return {
    runId: String(entity.RunId),
    target: String(entity.partitionKey),
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
    etagBefore: str(entity.EtagBefore),
    etagAfter: str(entity.EtagAfter),
    profileBefore: parseJson<JsonObject | undefined>(entity.ProfileBefore, undefined),
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
  };
}

const storageError = (action: string, err: unknown) => tableError(TABLES.history, action, err);

/** BillingProfileHistory: PartitionKey = target, RowKey = inverted start time + run id. */
export class HistoryStore {
  private readonly client: TableClient;

  constructor(private readonly tables: TableFactory) {
    this.client = tables.client(TABLES.history);
  }

  async add(record: HistoryRecord): Promise<void> {
    try {
      await this.tables.ensure(this.client);
      await this.client.createEntity(toEntity(record));
    } catch (err) {
      throw storageError(`record run ${record.runId}`, err);
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
    const filter = options.since
      ? odata`PartitionKey eq ${target} and RowKey lt ${historyRowKey(new Date(options.since.getTime() - 1).toISOString(), "")}`
      : odata`PartitionKey eq ${target}`;
    try {
      await this.tables.ensure(this.client);
      const select = options.columns ? [...COLUMNS[options.columns]] : undefined;
      const pages = this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter, select } }).byPage({ maxPageSize: Math.min(limit, 1000) });
      for await (const page of pages) {
        for (const entity of page) {
          out.push(fromEntity(entity));
          if (out.length >= limit) return out;
        }
      }
      return out;
    } catch (err) {
      throw storageError(`read the history of "${target}"`, err);
    }
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
