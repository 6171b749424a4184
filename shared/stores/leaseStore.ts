import { odata, type TableClient } from "@azure/data-tables";
import type { Trigger } from "../model";
import { LeaseExpiryJudge } from "./leaseExpiry";
import { holderProcess } from "./holderProcess";
import { isNotFound, statusOf, storageError as tableError, TABLES, type TableFactory } from "./tables";

export const LEASE_ROW_KEY = "lease";

/** A held lease: its ETag proves we still hold it when we release it. */
export interface Lease {
  target: string;
  holder: string;
  etag: string;
  expiresAt: Date;
  /** How long the lease lasts from its last write (a fence renews it). */
  durationInMs?: number;
}

export interface LeaseInfo {
  holder: string;
  trigger: string;
  acquiredAt: string;
  expiresAt: string;
  expired: boolean;
  /** The holding process as "<host>:<pid>" (see holderProcess), absent in leases taken before it was kept. */
  process?: string;
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
  /** Judges another run's lease ended by the service's clock or our monotonic one, never by comparing clocks. */
  private readonly judge = new LeaseExpiryJudge();

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
      Process: holderProcess(),
    };
    Object.assign(entity, { DurationMs: options.durationInMs });
    // Never "*": a release or a fence with it would act on whoever holds the lease by then.
    const taken = async (etag: string | undefined): Promise<Lease | undefined> => {
      const confirmed = etag ?? (await this.read(target))?.etag;
      if (!confirmed) return undefined;
      this.judge.forget(target);
      return { target, holder, etag: confirmed, expiresAt, durationInMs: options.durationInMs };
    };
    try {
      await this.tables.ensure(this.client);
      return await taken((await this.client.createEntity(entity)).etag);
    } catch (err) {
      if (statusOf(err) !== 409) throw storageError(`take the lease of "${target}"`, err);
    }
    const current = await this.read(target);
    // Released between our create and our read: one more try, then give way.
    if (!current) return this.client.createEntity(entity).then((r) => taken(r.etag), () => undefined);
    // Our own insert landed and its answer was lost: the SDK's retry met our own lease (409).
    if (current.entity.Holder === holder) return { target, holder, etag: current.etag, expiresAt, durationInMs: options.durationInMs };
    const durationInMs = typeof current.entity.DurationMs === "number" ? current.entity.DurationMs : options.durationInMs;
    if (!this.judge.ended({ target, etag: current.etag, timestamp: current.timestamp, serviceDate: current.serviceDate, durationInMs })) return undefined;
    try {
      return await taken((await this.client.updateEntity(entity, "Replace", { etag: current.etag })).etag);
    } catch (err) {
      if (statusOf(err) === 412 || isNotFound(err)) return undefined;
      throw storageError(`take over the expired lease of "${target}"`, err);
    }
  }

  /** The lease row with the service's Timestamp and the Date of the answer (what expiry is judged by). */
  private async read(target: string): Promise<{ etag: string; entity: Record<string, unknown>; timestamp?: string; serviceDate?: string } | undefined> {
    let serviceDate: string | undefined;
    try {
      const entity = await this.client.getEntity<Record<string, unknown>>(target, LEASE_ROW_KEY, {
        onResponse: (response) => (serviceDate = response.headers.get("date") ?? undefined),
      });
      return { etag: entity.etag, entity, timestamp: typeof entity.timestamp === "string" ? entity.timestamp : undefined, serviceDate };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw storageError(`read the lease of "${target}"`, err);
    }
  }

  /**
   * The fence before a PUT: an ETag-conditional write to the run's own lease. It proves the
   * lease is still ours at that moment (no clock involved) and renews it (the service's
   * Timestamp moves). Returns the new ETag, or undefined when the lease is no longer ours.
   */
  async touch(lease: Lease): Promise<string | undefined> {
    const duration = lease.durationInMs ?? lease.expiresAt.getTime() - Date.now();
    try {
      const expiresAt = new Date(Date.now() + duration);
      const { etag } = await this.client.updateEntity({ partitionKey: lease.target, rowKey: LEASE_ROW_KEY, ExpiresAt: expiresAt.toISOString() }, "Merge", { etag: lease.etag });
      return etag;
    } catch (err) {
      if (statusOf(err) === 412 || isNotFound(err)) return undefined;
      throw storageError(`renew the lease of "${lease.target}"`, err);
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
      // Leases only: the table also holds the fan-out's queued marks (queuedTargets.ts) and the sweeps' departure tallies (departureStore.ts).
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
      return { holder: e.Holder, trigger: e.Trigger, acquiredAt: e.AcquiredAt, expiresAt: e.ExpiresAt, expired: Date.parse(e.ExpiresAt) <= now.getTime(), process: e.Process };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw storageError(`read the lease of "${target}"`, err);
    }
  }

  /**
   * Deletes the lease by hand (`billing-sync unlock`), whoever holds it, if it is still the
   * one read (`etag`): false when it was released or taken over meanwhile.
   */
  async releaseByHand(target: string, etag: string): Promise<boolean> {
    try {
      await this.client.deleteEntity(target, LEASE_ROW_KEY, { etag });
      return true;
    } catch (err) {
      if (statusOf(err) === 412 || isNotFound(err)) return false;
      throw storageError(`release the lease of "${target}"`, err);
    }
  }

  /**
   * The lease as it stands, with the ETag releaseByHand needs. Expired is judged by the
   * service's clock (its Timestamp plus DurationMs against the answer's Date) where the row
   * says how long it lasts, as a taker judges it: no comparison with this machine's clock.
   */
  async inspect(target: string, now = new Date()): Promise<(LeaseInfo & { etag: string }) | undefined> {
    await this.tables.ensure(this.client);
    const row = await this.read(target);
    if (!row) return undefined;
    const e = row.entity as Record<string, string>;
    const duration = Number(row.entity.DurationMs);
    const byService = row.timestamp && row.serviceDate && Number.isFinite(duration) ? Date.parse(row.timestamp) + duration <= Date.parse(row.serviceDate) : undefined;
    const expired = byService ?? Date.parse(e.ExpiresAt) <= now.getTime();
    return { holder: e.Holder, trigger: e.Trigger, acquiredAt: e.AcquiredAt, expiresAt: e.ExpiresAt, expired, process: e.Process, etag: row.etag };
  }
}
