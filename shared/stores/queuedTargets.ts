import { odata, type TableClient } from "@azure/data-tables";
import { mapWithConcurrency } from "../core";
import { isNotFound, storageError as tableError, TABLES, type TableFactory } from "./tables";

/**
 * Which targets have a fan-out message outstanding (queued, deferred, re-queued behind a
 * held lease), so that a sweep does not queue a target the previous sweep still has: two
 * ticks over a backlog would otherwise leave two messages per target, and the second runs
 * of each only add calls. A queue cannot list its invisible messages, so each message's
 * target is marked here: a row `queued` in the target's partition of BillingProfileLeases
 * (the table the app already writes; a lease row is `lease`).
 *
 * A marker is written when a message is sent (with when it becomes visible) and deleted
 * when a message finishes without being sent again. A marker whose message was due more
 * than STALE_AFTER_IN_MS ago is not trusted (its message was poisoned, or the delete was
 * lost): the next sweep queues the target again. Clocks of different instances are
 * compared only against that margin.
 */
export const QUEUED_ROW_KEY = "queued";
/** Longer than a message's runs and host retries (3 dequeues of a run of at most 4 minutes). */
export const STALE_AFTER_IN_MS = 15 * 60 * 1000;

export interface QueuedMark {
  target: string;
  sweepId: string;
  /** When the message becomes visible to the queue trigger (the sender's clock). */
  visibleAt: string;
}

const WRITE_CONCURRENCY = 16;
const storageError = (action: string, err: unknown) => tableError(TABLES.leases, action, err);

export class QueuedTargets {
  private readonly client: TableClient;

  constructor(private readonly tables: TableFactory) {
    this.client = tables.client(TABLES.leases);
  }

  async mark(marks: readonly QueuedMark[]): Promise<void> {
    try {
      await this.tables.ensure(this.client);
      await mapWithConcurrency(marks, WRITE_CONCURRENCY, (m) =>
        this.client.upsertEntity({ partitionKey: m.target, rowKey: QUEUED_ROW_KEY, SweepId: m.sweepId, VisibleAt: m.visibleAt }, "Replace"),
      );
    } catch (err) {
      throw storageError("mark queued targets", err);
    }
  }

  /** Targets whose message is still outstanding at `now` (stale markers left out). */
  async outstanding(now = new Date()): Promise<Map<string, QueuedMark>> {
    const marks = new Map<string, QueuedMark>();
    try {
      await this.tables.ensure(this.client);
      const rows = this.client.listEntities<{ SweepId?: string; VisibleAt?: string }>({ queryOptions: { filter: odata`RowKey eq ${QUEUED_ROW_KEY}` } });
      for await (const row of rows) {
        const visibleAt = String(row.VisibleAt ?? "");
        if (!(Date.parse(visibleAt) + STALE_AFTER_IN_MS > now.getTime())) continue;
        marks.set(String(row.partitionKey), { target: String(row.partitionKey), sweepId: String(row.SweepId ?? ""), visibleAt });
      }
      return marks;
    } catch (err) {
      throw storageError("read the queued targets", err);
    }
  }

  /** The target's message finished and was not sent again. */
  async clear(target: string): Promise<void> {
    try {
      await this.client.deleteEntity(target, QUEUED_ROW_KEY);
    } catch (err) {
      if (!isNotFound(err)) throw storageError(`clear the queued mark of "${target}"`, err);
    }
  }
}
