import type { TableClient } from "@azure/data-tables";
import { odata } from "@azure/data-tables";
import { isNotFound, statusOf, storageError as tableError, TABLES, type TableFactory } from "./tables";

/**
 * The customers of a sweep whose profile answered 403 or 404, kept where every worker of
 * the Function App can count them: rows of BillingProfileLeases (the table the app already
 * writes), one partition per sweep. The sweep's own row says how many targets it has and
 * when it is over; one row per departed customer says since when. A sweep is closed once:
 * its rows are then deleted.
 */
export interface SweepInfo {
  id: string;
  /** Targets of the sweep. */
  size: number;
  /** When its last message should have run (enqueued, spread, a margin). */
  endsBy: string;
}

const PREFIX = "sweep|";
const HEADER = "~sweep";
const storageError = (action: string, err: unknown) => tableError(TABLES.leases, action, err);

export class DepartureStore {
  private readonly client: TableClient;

  constructor(private readonly tables: TableFactory) {
    this.client = tables.client(TABLES.leases);
  }

  async open(sweep: SweepInfo): Promise<void> {
    try {
      await this.tables.ensure(this.client);
      await this.client.upsertEntity({ partitionKey: PREFIX + sweep.id, rowKey: HEADER, Size: sweep.size, EndsBy: sweep.endsBy }, "Replace");
    } catch (err) {
      throw storageError(`open sweep ${sweep.id}`, err);
    }
  }

  /** Notes one departed customer of the sweep; returns how many the sweep has noted, counting at most `upTo`. */
  async noteGone(sweepId: string, target: string, upTo: number): Promise<number> {
    const partition = PREFIX + sweepId;
    try {
      await this.tables.ensure(this.client);
      await this.client.upsertEntity({ partitionKey: partition, rowKey: target, NotedAt: new Date().toISOString() }, "Replace");
      return (await this.gone(sweepId, upTo)).length;
    } catch (err) {
      throw storageError(`note a departed customer of sweep ${sweepId}`, err);
    }
  }

  /** The departed targets of a sweep, at most `upTo`. */
  async gone(sweepId: string, upTo = Infinity): Promise<string[]> {
    const out: string[] = [];
    const rows = this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${PREFIX + sweepId} and RowKey ne ${HEADER}`, select: ["RowKey"] } });
    for await (const row of rows) {
      out.push(String(row.rowKey));
      if (out.length >= upTo) break;
    }
    return out;
  }

  /** Sweeps opened and not closed whose time is over. */
  async due(now: Date): Promise<SweepInfo[]> {
    const out: SweepInfo[] = [];
    try {
      await this.tables.ensure(this.client);
      const rows = this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey ge ${PREFIX} and PartitionKey lt ${"sweep}"} and RowKey eq ${HEADER}` } });
      for await (const row of rows) {
        const endsBy = String(row.EndsBy);
        if (Date.parse(endsBy) <= now.getTime()) out.push({ id: String(row.partitionKey).slice(PREFIX.length), size: Number(row.Size), endsBy });
      }
      return out;
    } catch (err) {
      throw storageError("list the sweeps to close", err);
    }
  }

  /** Deletes the sweep's rows; the header last, so a close cut short is tried again. */
  async close(sweepId: string, gone: readonly string[]): Promise<void> {
    const partition = PREFIX + sweepId;
    try {
      for (const rowKey of [...gone, HEADER]) {
        await this.client.deleteEntity(partition, rowKey).catch((err: unknown) => {
          if (!isNotFound(err) && statusOf(err) !== 404) throw err;
        });
      }
    } catch (err) {
      throw storageError(`close sweep ${sweepId}`, err);
    }
  }
}
