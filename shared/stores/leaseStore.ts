import { odata, type TableClient } from "@azure/data-tables";
import type { Trigger } from "../model";
import { isNotFound, statusOf, storageError as tableError, TABLES, type TableFactory } from "./tables";

export const LEASE_ROW_KEY = "lease";

/** A held lease: its ETag proves we still hold it when we release it. */
export interface Lease {
  target: string;
  holder: string;
  etag: string;
  expiresAt: Date;
}

export interface LeaseInfo {
  holder: string;
  trigger: string;
  acquiredAt: string;
  expiresAt: string;
  expired: boolean;
}

export interface AcquireOptions {
  durationInMs: number;
  trigger: Trigger;
  now?: Date;
}

const storageError = (action: string, err: unknown) => tableError(TABLES.leases, action, err);

/**
 * BillingProfileLeases: one entity per target while a run holds it. Taken by creating
 * the entity, or, once expired, by an ETag-conditional replace; released by an
 * ETag-conditional delete. Whoever loses a race gets `undefined`, never an error.
 */
export class LeaseStore {
  private readonly client: TableClient;

  constructor(private readonly tables: TableFactory) {
    this.client = tables.client(TABLES.leases);
  }

  async acquire(target: string, holder: string, options: AcquireOptions): Promise<Lease | undefined> {
    const now = options.now ?? new Date();
    const expiresAt = new Date(now.getTime() + options.durationInMs);
    const entity = {
      partitionKey: target,
      rowKey: LEASE_ROW_KEY,
      Holder: holder,
      Trigger: options.trigger,
      AcquiredAt: now.toISOString(),
      ExpiresAt: expiresAt.toISOString(),
    };
    const taken = (etag: string | undefined): Lease => ({ target, holder, etag: etag ?? "*", expiresAt });
    try {
      await this.tables.ensure(this.client);
      return taken((await this.client.createEntity(entity)).etag);
    } catch (err) {
      if (statusOf(err) !== 409) throw storageError(`take the lease of "${target}"`, err);
    }
    let current: { etag: string; ExpiresAt?: unknown };
    try {
      current = await this.client.getEntity<{ ExpiresAt?: string }>(target, LEASE_ROW_KEY);
    } catch (err) {
      // Released between our create and our read: one more try, then give way.
      if (isNotFound(err)) return this.client.createEntity(entity).then((r) => taken(r.etag), () => undefined);
      throw storageError(`read the lease of "${target}"`, err);
    }
    if (Date.parse(String(current.ExpiresAt)) > now.getTime()) return undefined;
    try {
      return taken((await this.client.updateEntity(entity, "Replace", { etag: current.etag })).etag);
    } catch (err) {
      if (statusOf(err) === 412 || isNotFound(err)) return undefined;
      throw storageError(`take over the expired lease of "${target}"`, err);
    }
  }

  /** Deletes the lease if it is still ours; a lease already taken over or gone is left alone. */
  async release(lease: Lease): Promise<void> {
    try {
      await this.client.deleteEntity(lease.target, LEASE_ROW_KEY, { etag: lease.etag });
    } catch (err) {
      if (statusOf(err) !== 412 && !isNotFound(err)) throw storageError(`release the lease of "${lease.target}"`, err);
    }
  }

  /** Leases held now (the table holds a row only while a run holds one, so this is a small read). */
  async listHeld(now = new Date()): Promise<(LeaseInfo & { target: string })[]> {
    const held: (LeaseInfo & { target: string })[] = [];
    try {
      await this.tables.ensure(this.client);
      // Leases only: the table also holds the sweeps' departure tallies (sweepStore.ts).
      for await (const e of this.client.listEntities<Record<string, string>>({ queryOptions: { filter: odata`RowKey eq ${LEASE_ROW_KEY}` } })) {
        const expired = Date.parse(e.ExpiresAt) <= now.getTime();
        if (!expired) held.push({ target: String(e.partitionKey), holder: e.Holder, trigger: e.Trigger, acquiredAt: e.AcquiredAt, expiresAt: e.ExpiresAt, expired });
      }
      return held;
    } catch (err) {
      throw storageError("list the leases", err);
    }
  }

  async get(target: string, now = new Date()): Promise<LeaseInfo | undefined> {
    try {
      await this.tables.ensure(this.client);
      const e = await this.client.getEntity<Record<string, string>>(target, LEASE_ROW_KEY);
      return { holder: e.Holder, trigger: e.Trigger, acquiredAt: e.AcquiredAt, expiresAt: e.ExpiresAt, expired: Date.parse(e.ExpiresAt) <= now.getTime() };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw storageError(`read the lease of "${target}"`, err);
    }
  }
}
