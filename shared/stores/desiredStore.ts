import { odata, type TableClient } from "@azure/data-tables";
import { SyncError } from "../core";
import { refuseReplacementCharacter } from "./replacementCharacter";
import { isNotFound, statusOf, storageError as tableError, TABLES, type TableFactory } from "./tables";

export const DESIRED_ROW_KEY = "billing-profile";

export interface DesiredRow {
  target: string;
  /** The row's properties as stored, not yet validated. */
  properties: Record<string, unknown>;
  etag: string;
}

const storageError = (action: string, err: unknown) => tableError(TABLES.desired, action, err);

/** BillingProfileDesired: one row per target, PartitionKey = target, RowKey = "billing-profile". */
export class DesiredStateStore {
  private readonly client: TableClient;

  constructor(private readonly tables: TableFactory) {
    this.client = tables.client(TABLES.desired);
  }

  async get(target: string): Promise<DesiredRow | undefined> {
    try {
      await this.tables.ensure(this.client);
      const entity = await this.client.getEntity<Record<string, unknown>>(target, DESIRED_ROW_KEY);
      const { partitionKey: _p, rowKey: _r, etag, timestamp: _t, ...properties } = entity;
      delete properties["odata.metadata"];
      return { target, properties, etag: etag as string };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw storageError(`read the desired state of "${target}"`, err);
    }
  }

  async listTargets(): Promise<string[]> {
    try {
      await this.tables.ensure(this.client);
      const targets: string[] = [];
      const rows = this.client.listEntities({ queryOptions: { filter: odata`RowKey eq ${DESIRED_ROW_KEY}`, select: ["PartitionKey"] } });
      for await (const row of rows) targets.push(row.partitionKey as string);
      return targets.sort();
    } catch (err) {
      throw storageError("list targets", err);
    }
  }

  /**
   * Target names in order after `after` (exclusive), at most `pageSize`, and whether more
   * follow: a page of /api/status.
   */
  async targetPage(options: { pageSize: number; after?: string }): Promise<{ targets: string[]; more: boolean }> {
    const filter = options.after === undefined ? odata`RowKey eq ${DESIRED_ROW_KEY}` : odata`RowKey eq ${DESIRED_ROW_KEY} and PartitionKey gt ${options.after}`;
    const targets: string[] = [];
    try {
      await this.tables.ensure(this.client);
      const rows = this.client.listEntities({ queryOptions: { filter, select: ["PartitionKey"] } });
      for await (const row of rows) {
        if (targets.length === options.pageSize) return { targets, more: true };
        targets.push(row.partitionKey as string);
      }
      return { targets, more: false };
    } catch (err) {
      throw storageError("list targets", err);
    }
  }

  /**
   * Every row, in target order, read page by page (ten thousand rows are ten requests).
   * `select` trims the properties read (PartitionKey always comes).
   */
  async *rows(options: { select?: string[] } = {}): AsyncGenerator<DesiredRow> {
    try {
      await this.tables.ensure(this.client);
      const select = options.select ? ["PartitionKey", ...options.select] : undefined;
      const entities = this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`RowKey eq ${DESIRED_ROW_KEY}`, select } });
      for await (const entity of entities) {
        const { partitionKey, rowKey: _r, etag, timestamp: _t, ...properties } = entity;
        delete properties["odata.metadata"];
        yield { target: partitionKey as string, properties, etag: etag as string };
      }
    } catch (err) {
      throw storageError("list the desired rows", err);
    }
  }

  /**
   * Replaces the whole row: a property left out stops being managed. With `etag`, the
   * write happens only if nobody changed the row since it was read.
   */
  async upsert(target: string, properties: Record<string, unknown>, options: { etag?: string } = {}): Promise<string | undefined> {
    refuseReplacementCharacter(target, properties);
    const entity = { ...properties, partitionKey: target, rowKey: DESIRED_ROW_KEY };
    try {
      await this.tables.ensure(this.client);
      const written = options.etag ? await this.client.updateEntity(entity, "Replace", { etag: options.etag }) : await this.client.upsertEntity(entity, "Replace");
      return written.etag;
    } catch (err) {
      const status = statusOf(err);
      if (options.etag && status === 412) {
        throw new SyncError("StaleEtag", `The desired state of "${target}" changed while it was being edited; read it again and retry.`, {
          statusCode: 412,
        });
      }
      throw storageError(`write the desired state of "${target}"`, err);
    }
  }

  /** Writes a new row; false (nothing written) when the target already has one. */
  async create(target: string, properties: Record<string, unknown>): Promise<boolean> {
    return (await this.createRow(target, properties)) !== undefined;
  }

  /** Like create; the new row's ETag, undefined (nothing written) when the target already has one. */
  async createRow(target: string, properties: Record<string, unknown>): Promise<string | undefined> {
    refuseReplacementCharacter(target, properties);
    try {
      await this.tables.ensure(this.client);
      return (await this.client.createEntity({ ...properties, partitionKey: target, rowKey: DESIRED_ROW_KEY })).etag ?? "";
    } catch (err) {
      if (statusOf(err) === 409) return undefined;
      throw storageError(`write the desired state of "${target}"`, err);
    }
  }

  /** With `etag`, only if nobody changed the row since it was read (else StaleEtag). */
  async delete(target: string, options: { etag?: string } = {}): Promise<void> {
    try {
      await this.client.deleteEntity(target, DESIRED_ROW_KEY, options.etag ? { etag: options.etag } : undefined);
    } catch (err) {
      if (options.etag && statusOf(err) === 412) {
        throw new SyncError("StaleEtag", `The desired state of "${target}" changed while it was being deleted; read it again and retry.`, { statusCode: 412 });
      }
      if (!isNotFound(err)) throw storageError(`delete the desired state of "${target}"`, err);
    }
  }
}
