import { isSyncError, type SyncError } from "../core";
import type { Outcome, ResourceRef } from "../model";
import type { HistoryStore, DepartureStore } from "../stores";
import { type ChangeLogDeps, type WriteContext, writeDesiredRow } from "./desiredWrite";

/**
 * Customers leave: a tenant is deleted, a relationship ends. Their profile then answers
 * 403 or 404, forever. Such a run ends `gone` (not `failed`: no alert per run), and after
 * GONE_RUNS_TO_SUSPEND of them in a row the target is suspended with the reason "customer
 * gone since DATE", one CustomerGone event telling it.
 *
 * But a partner whose own access broke (consent withdrawn, a role removed, the wrong
 * tenant) gets 403 from every customer at once. So departures are judged per sweep (a
 * timer firing with its queue messages, or an untargeted sync): when more than
 * ACCESS_SHARE of a sweep's targets answered 403/404, it is the partner's access: the runs
 * from there on fail as before, and the sweep suspends nothing. Suspensions are made only
 * when a sweep closes (the end of an untargeted sync; for queue sweeps, the next fan-out
 * after their time is over), from what the whole sweep saw. The first runs of a sweep that
 * lost access (up to ACCESS_SHARE of it) end `gone` before the sweep can tell; since that
 * sweep suspends nothing, they cost no more than a failed run would.
 */
export const GONE_RUNS_TO_SUSPEND = 3;
export const ACCESS_SHARE = 0.2;
export const CUSTOMER_GONE_EVENT = "CustomerGone";
/** The command of a suspension's change-log entry. */
export const SUSPENSION_COMMAND = "departed-customer suspension";

/** A sweep's count of departed customers: in memory for a sweep of one process, in a table for a queue sweep. */
export interface SweepTally {
  readonly size: number;
  /** Notes the target; returns how many the sweep noted (at most `upTo`). */
  noteGone(target: string, upTo: number): Promise<number>;
  gone(): Promise<string[]>;
}

export class MemorySweep implements SweepTally {
  private readonly targets = new Set<string>();
  constructor(readonly size: number) {}
  async noteGone(target: string): Promise<number> {
    this.targets.add(target);
    return this.targets.size;
  }
  async gone(): Promise<string[]> {
    return [...this.targets];
  }
}

export class StoredSweep implements SweepTally {
  constructor(
    private readonly store: DepartureStore,
    readonly id: string,
    readonly size: number,
  ) {}
  noteGone(target: string, upTo: number): Promise<number> {
    return this.store.noteGone(this.id, target, upTo);
  }
  gone(): Promise<string[]> {
    return this.store.gone(this.id);
  }
}

/** More than this many departures in a sweep of `size` targets is the partner's access. */
export function accessLimit(size: number): number {
  return Math.floor(size * ACCESS_SHARE);
}

/**
 * A customer's profile answered 403 or 404: what a departed customer looks like. Partner
 * Center's own answer only (Forbidden, NotFound): a 403 of Key Vault or Entra is an
 * AuthError, the partner's credentials, not the customer.
 */
export function isDeparture(resource: ResourceRef | undefined, error: SyncError): boolean {
  return resource?.kind.name === "customer-billing-profile" && ((error.code === "Forbidden" && error.statusCode === 403) || (error.code === "NotFound" && error.statusCode === 404));
}

/**
 * The outcome of a run whose customer answered 403/404: `gone`, or `failed` when its
 * sweep already has more departures than a sweep of customers leaving could explain.
 * A run outside a sweep (one target) has only its own answer: `gone`.
 */
export async function departureOutcome(target: string, sweep: SweepTally | undefined): Promise<Outcome> {
  if (!sweep) return "gone";
  const limit = accessLimit(sweep.size);
  const noted = await sweep.noteGone(target, limit + 1);
  return noted > limit ? "failed" : "gone";
}

export interface DepartureDeps extends ChangeLogDeps {
  history: HistoryStore;
  /** Who writes a suspension (the app's own storage identity) and via what: its change-log entry. */
  writeContext: () => Promise<WriteContext>;
  /** One CustomerGone per suspension (telemetry). */
  onEvent?: (name: string, dimensions: Record<string, string>) => void;
  now?: () => Date;
}

export interface SweepVerdict {
  gone: number;
  size: number;
  /** More than ACCESS_SHARE: the partner's access, nothing suspended. */
  access: boolean;
  suspended: { target: string; since: string }[];
}

/**
 * Closes a sweep: unless it saw the partner's access fail, every target it saw depart
 * whose last GONE_RUNS_TO_SUSPEND runs all ended `gone` is suspended.
 */
export async function closeSweep(sweep: SweepTally, deps: DepartureDeps): Promise<SweepVerdict> {
  const gone = await sweep.gone();
  const verdict: SweepVerdict = { gone: gone.length, size: sweep.size, access: gone.length > accessLimit(sweep.size), suspended: [] };
  if (verdict.access) return verdict;
  for (const target of gone) {
    const since = await goneSince(deps.history, target);
    if (since === undefined) continue;
    if (await suspendDepartedCustomer(deps, target, since, await deps.writeContext())) {
      verdict.suspended.push({ target, since });
      deps.onEvent?.(CUSTOMER_GONE_EVENT, { target, goneSince: since, runs: String(GONE_RUNS_TO_SUSPEND) });
    }
  }
  return verdict;
}

/** When the target's streak of `gone` runs began, if its last GONE_RUNS_TO_SUSPEND runs all ended so. */
export async function goneSince(history: HistoryStore, target: string): Promise<string | undefined> {
  const recent = await history.list(target, { limit: 20, columns: "summary" });
  let since: string | undefined;
  let streak = 0;
  for (const r of recent) {
    if (r.outcome !== "gone") break;
    streak++;
    since = r.startedAt;
  }
  return streak >= GONE_RUNS_TO_SUSPEND ? since : undefined;
}

/**
 * The one write of a departure: the desired row's Suspended flag and its reason, through
 * the change log's write path like any other write (so a run's out-of-band check finds
 * the row as the log says), conditional on the row's ETag (a row edited meanwhile is left
 * alone: the next sweep decides again). False when the row is gone or already suspended.
 */
export async function suspendDepartedCustomer(deps: ChangeLogDeps, target: string, since: string, context: WriteContext): Promise<boolean> {
  const row = await deps.desired.get(target);
  if (!row || row.properties.Suspended === true) return false;
  const reason = `customer gone since ${since.slice(0, 10)}`;
  try {
    const outcome = await writeDesiredRow(deps, { target, before: row, after: { ...row.properties, Suspended: true, SuspendedReason: reason } }, { ...context, command: SUSPENSION_COMMAND, reason });
    return outcome.written;
  } catch (err) {
    // Edited meanwhile: left alone. Anything else (no write access to the table) is told.
    if (isSyncError(err) && err.code === "StaleEtag") return false;
    throw err;
  }
}
