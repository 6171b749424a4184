import { odata, type TableClient, type TransactionAction } from "@azure/data-tables";
import { historyRowKey } from "./historyStore";
import { isNotFound, statusOf, storageError, TABLES, type TableFactory } from "./tables";

/**
 * Retention: Table Storage has no time-to-live, so rows older than their retention are
 * deleted here, table by table, in entity group transactions (up to 100 deletes of one
 * partition a request), within a time budget. Deleted rows are gone, so a purge stopped by
 * its budget resumes where it stopped simply by running again.
 */
export interface PurgeRetention {
  historyDays: number;
  checkDays: number;
}

/** One kind of row to purge: the rows of `table` that `filter` selects are expired; `keep` spares some client-side. */
export interface PurgeRule {
  /** What the report calls these rows. */
  name: string;
  table: string;
  filter(cutoffs: { now: Date; history: Date; checks: Date }): string;
  keep?(rowKey: string): boolean;
  /**
   * Spares, in each partition, the first expired row (RowKeys sort newest first) whose
   * `column` equals `value`: a row later rows are judged by (the change log's last write).
   */
  keepNewest?: { column: string; value: string };
  /** Rows another writer may take back (a lease): deleted one by one, conditional on the ETag read. */
  conditional?: boolean;
}

/** The tables purged and how: adding a table is one line here. */
export const PURGE_RULES: readonly PurgeRule[] = [
  // RowKeys grow as start times shrink: "started before the cutoff" is "RowKey above the cutoff's key".
  { name: "history rows", table: TABLES.history, filter: ({ history }) => odata`RowKey gt ${historyRowKey(history.toISOString(), "~")}` },
  // A day's check row, and the in-sync rows of one check each written before checks were compacted.
  {
    name: "check rows",
    table: TABLES.history,
    filter: ({ history, checks }) => odata`RowKey gt ${historyRowKey(checks.toISOString(), "~")} and RowKey le ${historyRowKey(history.toISOString(), "~")} and Outcome eq ${"in-sync"}`,
  },
  // A lease row outlives its run only when the run's process died; an hour past its end it is nobody's.
  { name: "expired leases", table: TABLES.leases, filter: ({ now }) => odata`ExpiresAt lt ${new Date(now.getTime() - 60 * 60 * 1000).toISOString()}`, conditional: true },
  // The change log under the history retention, but a target's last write through billing-sync
  // stays however old: out-of-band edits are judged against it, and it says who set what is in force.
  {
    name: "desired-state changes",
    table: TABLES.desiredChanges,
    filter: ({ history }) => odata`At lt ${history.toISOString()}`,
    keepNewest: { column: "State", value: "done" },
  },
];

export interface PurgeOptions {
  retention: PurgeRetention;
  dryRun?: boolean;
  /** Stop starting new deletes after this long (the timer's invocation has its own limit). */
  budgetInMs?: number;
  now?: Date;
  rules?: readonly PurgeRule[];
  /** Transactions in flight at once. */
  concurrency?: number;
}

export interface PurgeResult {
  dryRun: boolean;
  /** Rows deleted (a dry run: that would be), by rule. */
  removed: { name: string; table: string; rows: number }[];
  total: number;
  /** False when the budget ran out first: the next purge carries on. */
  complete: boolean;
  durationMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const BATCH = 100;

/** Deletes one partition's batch; rows already gone (a concurrent purge) are not an error. */
async function deleteBatch(client: TableClient, partition: string, rowKeys: string[]): Promise<number> {
  try {
    await client.submitTransaction(rowKeys.map((rowKey): TransactionAction => ["delete", { partitionKey: partition, rowKey }]));
    return rowKeys.length;
  } catch (err) {
    // One missing row fails the whole transaction: then row by row.
    if (!isNotFound(err) && statusOf(err) !== 404) throw err;
    let deleted = 0;
    for (const rowKey of rowKeys) {
      try {
        await client.deleteEntity(partition, rowKey);
        deleted++;
      } catch (single) {
        if (!isNotFound(single)) throw single;
      }
    }
    return deleted;
  }
}

export async function purgeExpired(tables: TableFactory, options: PurgeOptions): Promise<PurgeResult> {
  const now = options.now ?? new Date();
  const started = Date.now();
  const budget = options.budgetInMs ?? Number.POSITIVE_INFINITY;
  const cutoffs = { now, history: new Date(now.getTime() - options.retention.historyDays * DAY_MS), checks: new Date(now.getTime() - options.retention.checkDays * DAY_MS) };
  const dryRun = options.dryRun === true;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const removed: PurgeResult["removed"] = [];
  let complete = true;
  for (const rule of options.rules ?? PURGE_RULES) {
    if (Date.now() - started >= budget) {
      complete = false;
      break;
    }
    const client = tables.client(rule.table);
    let rows = 0;
    const inFlight = new Set<Promise<void>>();
    const send = async (partition: string, rowKeys: string[]) => {
      const p = deleteBatch(client, partition, rowKeys).then((n) => void (rows += n));
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p)).catch(() => undefined);
      // Memory stays flat: at most `concurrency` batches are held at once.
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    };
    try {
      await tables.ensure(client);
      const select = ["PartitionKey", "RowKey", ...(rule.keepNewest ? [rule.keepNewest.column] : [])];
      const spared = new Set<string>();
      const pages = client.listEntities<Record<string, unknown>>({ queryOptions: { filter: rule.filter(cutoffs), select } }).byPage({ maxPageSize: 1000 });
      let partition: string | undefined;
      let batch: string[] = [];
      pageLoop: for await (const page of pages) {
        for (const entity of page) {
          const pk = String(entity.partitionKey);
          const rk = String(entity.rowKey);
          if (rule.keep?.(rk)) continue;
          if (rule.keepNewest && !spared.has(pk) && entity[rule.keepNewest.column] === rule.keepNewest.value) {
            spared.add(pk);
            continue;
          }
          if (dryRun) {
            rows++;
            continue;
          }
          if (rule.conditional) {
            await client.deleteEntity(pk, rk, { etag: String(entity.etag ?? "*") }).then(
              () => void rows++,
              (err: unknown) => {
                if (!isNotFound(err) && statusOf(err) !== 412) throw err;
              },
            );
            continue;
          }
          if (pk !== partition || batch.length === BATCH) {
            if (batch.length) await send(partition!, batch);
            partition = pk;
            batch = [];
          }
          batch.push(rk);
        }
        if (Date.now() - started >= budget) {
          complete = false;
          break pageLoop;
        }
      }
      if (batch.length && partition !== undefined) await send(partition, batch);
      await Promise.all(inFlight);
    } catch (err) {
      await Promise.allSettled(inFlight);
      throw storageError(rule.table, `purge the ${rule.name} older than their retention`, err);
    }
    removed.push({ name: rule.name, table: rule.table, rows });
  }
  return { dryRun, removed, total: removed.reduce((n, r) => n + r.rows, 0), complete, durationMs: Date.now() - started };
}
