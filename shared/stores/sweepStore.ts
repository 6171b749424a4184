import { odata, type TableClient } from "@azure/data-tables";
import { isNotFound, isPreconditionFailed, statusOf, storageError as tableError, TABLES, type TableFactory } from "./tables";

export const SWEEP_ROW_KEY = "sweep";

/** One approval of held targets (`billing-sync approve`). */
export interface SweepApproval {
  at: string;
  /** A target's approval; absent: the whole sweep. */
  target?: string;
  reason?: string;
}

/** One sweep as kept in BillingProfileSweeps: its PUT limit and how much of it is used. */
export interface Sweep {
  sweepId: string;
  trigger: string;
  createdAt: string;
  /** Targets the sweep was started for. */
  targets: number;
  /** PUTs the whole sweep may make (BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP). */
  putLimit: number;
  /** Slots reserved: PUTs made or about to go out; a slot whose PUT is not made is given back. */
  putsMade: number;
  /**
   * True once a run was held at the limit (it raised the sweep's one MassDriftHeld alert).
   * Held runs are not counted here: each would be one more write racing for this row;
   * their history rows (outcome held, SweepId) count them.
   */
  alerted: boolean;
  /** The whole sweep's held targets are approved. */
  approved: boolean;
  approvals: SweepApproval[];
}

/** What a reservation found: a slot, or the limit reached (then `firstHeld` for the run that raises the alert). */
export type Reservation = { granted: true } | { granted: false; sweep: Sweep; firstHeld: boolean };

/** ETag races lost in a row before a counter update gives up (50 runs of one sweep at once win in far fewer). */
const MAX_ATTEMPTS = 200;

const storageError = (action: string, err: unknown) => tableError(TABLES.sweeps, action, err);

function fromEntity(e: Record<string, unknown>): Sweep {
  let approvals: SweepApproval[] = [];
  try {
    approvals = typeof e.Approvals === "string" ? (JSON.parse(e.Approvals) as SweepApproval[]) : [];
  } catch {
    approvals = [];
  }
  return {
    sweepId: String(e.partitionKey),
    trigger: String(e.Trigger ?? ""),
    createdAt: String(e.CreatedAt ?? ""),
    targets: Number(e.Targets ?? 0),
    putLimit: Number(e.PutLimit ?? 0),
    putsMade: Number(e.PutsMade ?? 0),
    alerted: e.Alerted === true,
    approved: e.Approved === true,
    approvals,
  };
}

function toEntity(s: Sweep): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  return {
    partitionKey: s.sweepId,
    rowKey: SWEEP_ROW_KEY,
    Trigger: s.trigger,
    CreatedAt: s.createdAt,
    Targets: s.targets,
    PutLimit: s.putLimit,
    PutsMade: s.putsMade,
    Alerted: s.alerted,
    Approved: s.approved,
    Approvals: JSON.stringify(s.approvals),
  };
}

/** A short pause between lost ETag races, spread so that racing runs do not meet again at once. */
const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 + attempt * 2)));

/**
 * BillingProfileSweeps: PartitionKey = sweep id, one row per sweep. Every instance and
 * queue run of a sweep counts its PUTs in this row, each change an ETag-conditional
 * replace (a lost race reads again), so the limit holds across processes.
 */
export class SweepStore {
  private readonly client: TableClient;

  constructor(private readonly tables: TableFactory) {
    this.client = tables.client(TABLES.sweeps);
  }

  /** Creates the sweep's row; an existing row (a retried timer, another helper's start) is kept as it is. */
  async create(sweep: Omit<Sweep, "putsMade" | "alerted" | "approved" | "approvals">): Promise<void> {
    try {
      await this.tables.ensure(this.client);
      await this.client.createEntity(toEntity({ ...sweep, putsMade: 0, alerted: false, approved: false, approvals: [] }));
    } catch (err) {
      if (statusOf(err) === 409) return;
      throw storageError(`start sweep ${sweep.sweepId}`, err);
    }
  }

  async get(sweepId: string): Promise<Sweep | undefined> {
    try {
      await this.tables.ensure(this.client);
      return fromEntity(await this.client.getEntity(sweepId, SWEEP_ROW_KEY));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw storageError(`read sweep ${sweepId}`, err);
    }
  }

  /** Sweeps that held targets and are not yet approved as a whole (what `approve --all` lets through). */
  async listHeld(): Promise<Sweep[]> {
    const out: Sweep[] = [];
    try {
      await this.tables.ensure(this.client);
      for await (const e of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`Alerted eq ${true}` } })) {
        const sweep = fromEntity(e);
        if (!sweep.approved) out.push(sweep);
      }
      return out;
    } catch (err) {
      throw storageError("list the sweeps", err);
    }
  }

  /**
   * Read, change, write back with the ETag read; a lost race starts again. `change`
   * returns undefined to leave the row alone. A missing row is made with `missing()`.
   */
  private async update<T>(sweepId: string, action: string, change: (sweep: Sweep) => { next?: Sweep; answer: T }, missing: () => Sweep | undefined): Promise<T> {
    await this.tables.ensure(this.client).catch((err: unknown) => {
      throw storageError(action, err);
    });
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let current: Sweep;
      let etag: string | undefined;
      try {
        const e = await this.client.getEntity<Record<string, unknown>>(sweepId, SWEEP_ROW_KEY);
        current = fromEntity(e);
        etag = e.etag;
      } catch (err) {
        if (!isNotFound(err)) throw storageError(action, err);
        const made = missing();
        if (!made) throw storageError(action, err);
        current = made;
      }
      const { next, answer } = change(current);
      if (!next) return answer;
      try {
        if (etag === undefined) await this.client.createEntity(toEntity(next));
        else await this.client.updateEntity(toEntity(next), "Replace", { etag });
        return answer;
      } catch (err) {
        if (!isPreconditionFailed(err)) throw storageError(action, err);
        await backoff(attempt);
      }
    }
    throw storageError(action, Object.assign(new Error("contention"), { code: "TooManyConcurrentUpdates" }));
  }

  /**
   * Takes one PUT slot of the sweep before a PUT. At the limit nothing is written, but for
   * the first held run, which marks the row alerted and is told so (it raises the sweep's
   * one alert): past the limit a held run costs one read. A sweep whose row is missing
   * (its start was not recorded) gets one with `fallback.putLimit`.
   */
  reserve(sweepId: string, fallback: { putLimit: number; trigger: string; now: Date }): Promise<Reservation> {
    return this.update<Reservation>(
      sweepId,
      `reserve a PUT of sweep ${sweepId}`,
      (sweep) => {
        if (sweep.approved || sweep.putsMade < sweep.putLimit) return { next: { ...sweep, putsMade: sweep.putsMade + 1 }, answer: { granted: true } };
        if (sweep.alerted) return { answer: { granted: false, sweep, firstHeld: false } };
        const next = { ...sweep, alerted: true };
        return { next, answer: { granted: false, sweep: next, firstHeld: true } };
      },
      () => ({ sweepId, trigger: fallback.trigger, createdAt: fallback.now.toISOString(), targets: 0, putLimit: fallback.putLimit, putsMade: 0, alerted: false, approved: false, approvals: [] }),
    );
  }

  /** Gives back a slot whose PUT was not made (the run found nothing to send, or failed before it). */
  giveBack(sweepId: string): Promise<void> {
    return this.update<void>(
      sweepId,
      `give back a PUT of sweep ${sweepId}`,
      (sweep) => ({ next: sweep.putsMade > 0 ? { ...sweep, putsMade: sweep.putsMade - 1 } : undefined, answer: undefined }),
      () => undefined,
    );
  }

  /** Records an approval: of the whole sweep, or of one of its targets. Undefined when there is no such sweep. */
  async approve(sweepId: string, approval: SweepApproval): Promise<Sweep | undefined> {
    if (!(await this.get(sweepId))) return undefined;
    return this.update<Sweep>(
      sweepId,
      `approve sweep ${sweepId}`,
      (sweep) => {
        const next = { ...sweep, approved: sweep.approved || approval.target === undefined, approvals: [...sweep.approvals, approval] };
        return { next, answer: next };
      },
      () => undefined,
    );
  }
}

/** Whether an approval of this sweep lets `target` through (the whole sweep, or the target by name). */
export function approves(sweep: Sweep | undefined, target: string): boolean {
  return !!sweep && (sweep.approved || sweep.approvals.some((a) => a.target === target));
}
