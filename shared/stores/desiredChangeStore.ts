import { randomUUID } from "node:crypto";
import { odata, type TableClient } from "@azure/data-tables";
import { isNotFound, storageError as tableError, TABLES, type TableFactory } from "./tables";

/**
 * BillingProfileDesiredChanges: the change log of the desired state. PartitionKey =
 * target, RowKey = inverted time + entry id (newest first). Values are kept unmasked here,
 * as the history table keeps them; every output masks them.
 *
 * An entry is written `pending` before its row is written and `done` after, so that a
 * write and its entry never disagree: a reader meeting a pending entry settles it against
 * the row as it is (see settlePending in the engine's desiredWrite).
 */
export type Via = "cli" | "http" | "function";
/** write: billing-sync wrote the row; delete: it removed it; outside: something else changed it; accept: an operator accepted such a change. */
export type ChangeKind = "write" | "delete" | "outside" | "accept";
/** pending: the row write may or may not have happened yet; abandoned: it did not happen. */
export type ChangeState = "pending" | "done" | "abandoned";

/** One field of one row: null = not managed (absent from the row). */
export interface FieldEdit {
  field: string;
  before: string | null;
  after: string | null;
}

export interface ChangeEntry {
  target: string;
  id: string;
  /** ISO time the entry was made. */
  at: string;
  kind: ChangeKind;
  state: ChangeState;
  /** Who signed in to Table Storage ("unknown" for a change made outside billing-sync). */
  actor: string;
  /** True when `actor` comes from an Entra access token; false for an OS user name. */
  verified: boolean;
  via: Via | "unknown";
  /** The command, e.g. "desired set", "desired import". */
  command: string;
  reason?: string;
  fields: FieldEdit[];
  /** The row's ETag before the write ("" = there was no row). */
  etagBefore: string;
  /** The row's ETag after the write; unknown while pending or when settled late. */
  etagAfter?: string;
  /** The row's properties after the write (null = no row): what an out-of-band edit is compared with. */
  rowAfter: Record<string, unknown> | null;
}

const MAX_TIME = 9_999_999_999_999;
/** A pending entry younger than this may be a write still in flight: it is left alone. */
export const CHANGE_PENDING_GRACE_IN_MS = 5 * 60 * 1000;

const storageError = (action: string, err: unknown) => tableError(TABLES.desiredChanges, action, err);

function rowKeyOf(at: string, id: string): string {
  return `${String(MAX_TIME - Date.parse(at)).padStart(13, "0")}_${id}`;
}

function parseJson<T>(value: unknown, fallback: T): T {
  if (typeof value !== "string") return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

function toEntity(entry: ChangeEntry): { partitionKey: string; rowKey: string } & Record<string, unknown> {
  return {
    partitionKey: entry.target,
    rowKey: rowKeyOf(entry.at, entry.id),
    EntryId: entry.id,
    At: entry.at,
    Kind: entry.kind,
    State: entry.state,
    Actor: entry.actor,
    Verified: entry.verified,
    Via: entry.via,
    Command: entry.command,
    Reason: entry.reason,
    Fields: JSON.stringify(entry.fields),
    FieldNames: entry.fields.map((f) => f.field).join(","),
    EtagBefore: entry.etagBefore,
    EtagAfter: entry.etagAfter,
    RowAfter: JSON.stringify(entry.rowAfter),
  };
}

function fromEntity(entity: Record<string, unknown>): ChangeEntry {
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  return {
    target: str(entity.partitionKey),
    id: str(entity.EntryId),
    at: str(entity.At),
    kind: str(entity.Kind) as ChangeKind,
    state: str(entity.State) as ChangeState,
    actor: str(entity.Actor),
    verified: entity.Verified === true,
    via: (str(entity.Via) || "unknown") as Via,
    command: str(entity.Command),
    reason: typeof entity.Reason === "string" ? entity.Reason : undefined,
    fields: parseJson<FieldEdit[]>(entity.Fields, []),
    etagBefore: str(entity.EtagBefore),
    etagAfter: typeof entity.EtagAfter === "string" ? entity.EtagAfter : undefined,
    rowAfter: parseJson<Record<string, unknown> | null>(entity.RowAfter, null),
  };
}

export class DesiredChangeStore {
  private readonly client: TableClient;

  constructor(private readonly tables: TableFactory) {
    this.client = tables.client(TABLES.desiredChanges);
  }

  static newEntryId(): string {
    return randomUUID();
  }

  /** Writes a new entry (a pending one before its row write, or a finished one). */
  async add(entry: ChangeEntry): Promise<void> {
    try {
      await this.tables.ensure(this.client);
      await this.client.createEntity(toEntity(entry));
    } catch (err) {
      throw storageError(`log a change of the desired state of "${entry.target}"`, err);
    }
  }

  /** Rewrites an entry (settling a pending one); the entry keeps its place (same RowKey). */
  async update(entry: ChangeEntry): Promise<void> {
    try {
      await this.tables.ensure(this.client);
      await this.client.upsertEntity(toEntity(entry), "Replace");
    } catch (err) {
      throw storageError(`settle a change of the desired state of "${entry.target}"`, err);
    }
  }

  /** A target's entries, newest first. */
  async list(target: string, options: { limit?: number; since?: string } = {}): Promise<ChangeEntry[]> {
    const entries: ChangeEntry[] = [];
    try {
      await this.tables.ensure(this.client);
      const queryOptions = { filter: options.since ? odata`PartitionKey eq ${target} and RowKey le ${rowKeyOf(options.since, "~")}` : odata`PartitionKey eq ${target}` };
      const pages = this.client.listEntities<Record<string, unknown>>({ queryOptions }).byPage({ maxPageSize: Math.min(options.limit ?? 1000, 1000) });
      for await (const page of pages) {
        for (const entity of page) {
          entries.push(fromEntity(entity));
          if (options.limit !== undefined && entries.length >= options.limit) return entries;
        }
      }
      return entries;
    } catch (err) {
      if (isNotFound(err)) return entries;
      throw storageError(`read the change log of "${target}"`, err);
    }
  }

  /** Every entry of every target since a time, newest first per target (the report, `desired log` without --target). */
  async *all(options: { since?: string } = {}): AsyncGenerator<ChangeEntry> {
    try {
      await this.tables.ensure(this.client);
      const queryOptions = options.since ? { filter: odata`RowKey le ${rowKeyOf(options.since, "~")}` } : {};
      for await (const entity of this.client.listEntities<Record<string, unknown>>({ queryOptions })) yield fromEntity(entity);
    } catch (err) {
      throw storageError("read the change log of the desired state", err);
    }
  }
}
