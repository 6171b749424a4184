import { SyncError } from "../core";
import type { CallRecord } from "../partnerCenter";
import type { RunState } from "./run";

/**
 * A stop asked from outside the run (Ctrl-C, SIGTERM when the host scales an instance in):
 * first no new run starts, then the runs in flight get a grace period to finish and record,
 * then their Partner Center calls are aborted and each ends `interrupted`, releasing its
 * lease. The abort's reason is an `Interrupted` SyncError, so a run can tell this stop from
 * its own timeout or a caller that went away.
 */
export class Interruption {
  private readonly starting = new AbortController();
  private readonly running = new AbortController();
  private graceTimer?: NodeJS.Timeout;
  /** When stop() was first called. */
  stoppedAt?: Date;
  /** What asked for the stop (SIGINT, SIGTERM, …), for messages. */
  cause?: string;

  /** Aborted once the runs in flight must stop: pass it to every run. */
  get abortSignal(): AbortSignal {
    return this.running.signal;
  }

  get stopped(): boolean {
    return this.starting.signal.aborted;
  }

  get aborted(): boolean {
    return this.running.signal.aborted;
  }

  /** No new run starts; the runs in flight are aborted after `graceInMs`. Called again, it changes nothing. */
  stop(cause: string, graceInMs: number): void {
    if (this.stopped) return;
    this.cause = cause;
    this.stoppedAt = new Date();
    this.starting.abort();
    this.graceTimer = setTimeout(() => this.abortNow(), graceInMs);
    this.graceTimer.unref();
  }

  /** The runs in flight stop now. */
  abortNow(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    if (!this.stopped) this.starting.abort();
    if (!this.aborted) this.running.abort(new SyncError("Interrupted", `The run was stopped (${this.cause ?? "interrupted"}) before it finished.`));
  }
}

/**
 * A run that wrote "a PUT is about to go out" (in-progress, putPending) and holds no lease
 * any more died without recording how it ended: status shows it `interrupted`, not running.
 */
export function outcomeShown<R extends { runId: string; outcome: string; putPending?: boolean }>(record: R, holders: ReadonlySet<string>): R {
  return record.outcome === "in-progress" && record.putPending === true && !holders.has(record.runId) ? { ...record, outcome: "interrupted" } : record;
}

/** The Interruption's error, when `signal` was aborted by one; undefined for any other abort. */
export function interruptionOf(signal: AbortSignal | undefined): SyncError | undefined {
  const reason: unknown = signal?.aborted ? signal.reason : undefined;
  return reason instanceof SyncError && reason.code === "Interrupted" ? reason : undefined;
}

/** The PUT this run sent and got no answer to: the one whose outcome nobody knows. */
export function unansweredPut(calls: readonly CallRecord[]): CallRecord | undefined {
  const last = calls.filter((c) => c.method === "PUT").at(-1);
  return last && last.sent === true && last.status === undefined ? last : undefined;
}

/**
 * How an interrupted run ends: `interrupted`, saying whether a PUT went out without an
 * answer. Such a PUT may have landed: the row keeps putPending (and so the profile before
 * it, for restore), never `in-progress`; the next run reads the profile and tells.
 */
export function interruptRun(run: RunState, interruption: SyncError): void {
  const put = unansweredPut(run.calls);
  // A PUT sent and not answered may have landed: that run is `uncertain` (the next run reads the
  // profile and settles it, restore works from the kept before-image), stopped by the signal.
  run.outcome = put || run.putUnanswered ? "uncertain" : "interrupted";
  if (put) {
    run.putUnanswered = true;
    run.putRequestId = put.requestId;
  }
  const what = put
    ? `A PUT was sent (request id ${put.requestId}) and no answer came before the stop: the profile may or may not hold the change; the next run reads it and tells.`
    : run.putMade
      ? "Its PUT was answered before the stop."
      : "No PUT was sent.";
  run.error = new SyncError("Interrupted", `${interruption.message} ${what}`);
}
