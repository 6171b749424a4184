import type { AddressValidationSummary } from "./addressValidation";
import type { RuleViolation } from "./countryRules";
import type { FieldChange } from "./diff";

export const OUTCOMES = [
  "in-sync",
  "corrected",
  "drift",
  "suspended",
  "invalid-desired",
  "conflict",
  "in-progress",
  "failed",
  "not-converged",
  // Throttled in a queue run: Partner Center asked to wait (or the account's pace would), so the run
  // ended before anything was written and its message comes back after retryAfterInMs.
  "deferred",
  // Read and planned, nothing written: a guard held it (heldReason says which: the sweep's PUT limit,
  // or a desired row changed outside billing-sync under BILLING_SYNC_OUT_OF_BAND=block) until an operator lets it through.
  "held",
  // A PUT went out and its answer was lost (reset, timeout, the run stopped, a 429 on the retry):
  // it may have landed. The row keeps the profile before it; the next run reads the live profile
  // and records whether the change is there (ResolvedBy, PutMade). Restorable either way.
  "uncertain",
  // Stopped by a signal (Ctrl-C, SIGTERM, an instance scaled in) or released by hand (unlock):
  // the record says whether a PUT went out without an answer.
  "interrupted",
  // A customer's profile answered 403 or 404: the customer left the partner (shared/engine/departures.ts).
  "gone",
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export type Trigger = "timer" | "http" | "cli" | "queue";

export interface RunError {
  code: string;
  message: string;
  status?: number;
  /** Partner Center's or Entra's own code (2055, 900421, AADSTS700082...), when it gave one. */
  serviceCode?: string;
  correlationId?: string;
  requestId?: string;
}

/** What a run returns to its caller (CLI --json, HTTP): personal values masked. */
export interface RunResult {
  runId: string;
  target: string;
  /**
   * What the target's desired row is about: `{ kind: "partner-billing-profile" }`, or
   * `{ kind: "customer-billing-profile", customerTenantId }`. Absent when there was no row.
   */
  resource?: { kind: string } & Record<string, string>;
  trigger: Trigger;
  dryRun: boolean;
  outcome: Outcome;
  changes: FieldChange[];
  correlationId: string;
  requestIds: string[];
  durationMs: number;
  error: RunError | null;
  /** False when the history row could not be written (the run is then reported on stderr and telemetry). */
  recorded: boolean;
  /** Fields corrected again and again within the contest window (someone keeps reverting them). */
  contested?: { field: string; count: number; since: string }[];
  /** Fields Partner Center did not keep as sent (values masked where personal). */
  notConverged?: { field: string; desired: string; service: string }[];
  /**
   * false when the profile Partner Center returned had no ETag: a PUT of this run went out
   * (or would go out) unconditionally, last writer wins. Absent when it had one, or was not read.
   */
  guarded?: boolean;
  /** What an operator should know that did not stop the run (an unguarded PUT, a rule not checked...). */
  warnings?: string[];
  /** Desired values that break the rules of the profile's country (the run is invalid-desired). */
  violations?: RuleViolation[];
  /** What Partner Center's address validation answered, when the run changed the address (suggestions masked). */
  addressValidation?: AddressValidationSummary;
  /** A deferred run: when its queue message comes back. */
  retryAfterInMs?: number;
  /** The sweep the run belonged to (an untargeted sync, a timer firing); absent for a targeted run. */
  sweepId?: string;
  /** A held run: which guard held it ("sweep-limit": the sweep's PUT limit was reached). */
  heldReason?: HeldReason;
}

/** Why a run ended `held`; "sweep-limit": its sweep had made BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP PUTs. */
export type HeldReason = "sweep-limit" | (string & {});

export interface MultiRunResult {
  runs: RunResult[];
}
