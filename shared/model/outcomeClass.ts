import type { Outcome } from "./runResult";

/**
 * What each outcome means to the callers that judge runs: telemetry (the request's success
 * flag, the trace's severity, the failed-sync alert), the CLI's exit code, and whether a
 * person must act. One table, typed by Outcome, so that a new outcome does not compile
 * until someone decides each of these (test/unit/outcomeClass.test.ts checks it too).
 *
 * The rule, written once (docs/telemetry.md, docs/operations.md):
 * - success: the run did what a run should, or stopped where it was designed to stop and
 *   will go on by itself or through its own alert (held: MassDriftHeld or
 *   DesiredStateChangedOutside; gone: CustomerGone after 3 in a row; deferred: requeued).
 *   Not a success: a failure, a PUT whose answer was lost (uncertain, until the next run
 *   settles it), a run stopped before it ended (interrupted).
 * - failedSyncAlert: a person must look at this run's error now. uncertain and interrupted
 *   are settled by the next run (a Functions instance scaled in interrupts runs routinely);
 *   held and gone have alerts of their own.
 * - exit: ok 0; attention 2 (not in its desired state, nothing wrong with billing-sync:
 *   drift kept, held, gone); later 3 for sync (busy elsewhere, or throttled and queued
 *   again), 1 for plan; error 1.
 */
export type ExitClass = "ok" | "attention" | "later" | "error";
export type OutcomeSeverity = "info" | "warn" | "error";

export interface OutcomeClass {
  success: boolean;
  severity: OutcomeSeverity;
  failedSyncAlert: boolean;
  /** The run got an access token and called Partner Center (the refresh-token-not-rotated alert counts these). */
  reachedPartnerCenter: boolean;
  exit: ExitClass;
}

const c = (success: boolean, severity: OutcomeSeverity, failedSyncAlert: boolean, reachedPartnerCenter: boolean, exit: ExitClass): OutcomeClass => ({ success, severity, failedSyncAlert, reachedPartnerCenter, exit });

export const OUTCOME_CLASSES: Readonly<Record<Outcome, OutcomeClass>> = {
  "in-sync": c(true, "info", false, true, "ok"),
  corrected: c(true, "info", false, true, "ok"),
  drift: c(true, "warn", false, true, "attention"),
  suspended: c(true, "info", false, false, "ok"),
  "invalid-desired": c(false, "error", true, false, "error"),
  conflict: c(false, "error", true, true, "error"),
  "in-progress": c(true, "info", false, false, "later"),
  failed: c(false, "error", true, true, "error"),
  "not-converged": c(false, "error", true, true, "error"),
  // The account's pace may defer a run before any call: not counted as reaching Partner Center.
  deferred: c(true, "info", false, false, "later"),
  held: c(true, "warn", false, true, "attention"),
  uncertain: c(false, "warn", false, true, "error"),
  // A signal may stop a run before its first call.
  interrupted: c(false, "warn", false, false, "error"),
  gone: c(true, "warn", false, true, "attention"),
};

export function outcomeClass(outcome: Outcome): OutcomeClass {
  return OUTCOME_CLASSES[outcome];
}

/** Outcomes the failed-sync alert fires on (infra/core/alerts.bicep). */
export const FAILED_SYNC_ALERT_OUTCOMES: readonly Outcome[] = (Object.keys(OUTCOME_CLASSES) as Outcome[]).filter((o) => OUTCOME_CLASSES[o].failedSyncAlert);
