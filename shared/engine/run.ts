import type { JsonObject, Logger, SyncError } from "../core";
import type { AccountRef, AddressValidationSummary, ContestPolicy, FieldChange, Mode, NotConvergedField, Outcome, ResourceRef, RuleViolation, RunResult, Trigger } from "../model";
import type { CallRecord, PartnerCenterClient } from "../partnerCenter";
import type { DesiredChangeStore, DesiredStateStore, HistoryRecord, HistoryStore, LeaseStore, SweepStore } from "../stores";

/**
 * The vocabulary of one run, shared by the reconcile loop and its record step: what is
 * asked, what the run depends on, what it learned, and how it finished.
 */

export interface ReconcileRequest {
  target: string;
  trigger: Trigger;
  dryRun?: boolean;
  /** The sweep this run is part of (its PUTs count against the sweep's limit); absent for a targeted run. */
  sweepId?: string;
}

export interface EngineDeps {
  desired: DesiredStateStore;
  history: HistoryStore;
  /** One writer per target; without it (tests of the pure flow) runs may overlap. */
  leases?: LeaseStore;
  /** The PUT counters of sweeps; without it (tests of the pure flow) a sweep has no limit. */
  sweeps?: SweepStore;
  /** BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP, for a sweep whose row was never made. */
  maxCorrectionsPerSweep?: number;
  partnerClient(account: AccountRef): PartnerCenterClient;
  log: Logger;
  now?: () => Date;
  newId?: () => string;
  contestPolicy?: ContestPolicy;
  leaseDurationInMs?: number;
  runTimeoutInMs?: number;
  /** Sees every finished run with its calls, before the result is returned (telemetry). */
  onRunFinished?: (run: FinishedRun) => void;
  /** The change log: a row changed outside billing-sync is found by comparing with it (./outOfBand). */
  changes?: DesiredChangeStore;
  /** BILLING_SYNC_OUT_OF_BAND (default warn). */
  outOfBand?: "warn" | "block";
  onEvent?: (name: string, dimensions: Record<string, string>) => void;
}

/** What a run learned, filled in as it goes; the record step turns it into history and a result. */
export interface RunState {
  outcome: Outcome;
  /** What the desired row is about; unknown only when there was no row to read. */
  resource?: ResourceRef;
  /** A deferred run: when to try again. */
  retryAfterInMs?: number;
  /** Unmasked; masked before they leave the engine. */
  changes: FieldChange[];
  calls: CallRecord[];
  putMade: boolean;
  etagBefore?: string;
  etagAfter?: string;
  profileBefore?: JsonObject;
  getRequestId?: string;
  putRequestId?: string;
  /** A PUT is about to go out (the write-ahead row); the final record clears it. */
  putPending?: boolean;
  /** What this run's PUTs whose answers were lost may have changed (see uncertainPut.ts). */
  madeChanges?: FieldChange[];
  /** The latest PUT's answer was lost and no read since has said whether it landed. */
  putUnanswered?: boolean;
  mode?: Mode;
  suspended?: boolean;
  notConverged?: NotConvergedField[];
  /** False when the profile read had no Attributes.Etag: a PUT of this run is unconditional. */
  guarded?: boolean;
  /** Things an operator should know that did not stop the run (no ETag, a rule not checked...). */
  warnings?: string[];
  /** Desired values that break the country's rules (the run then ends invalid-desired). */
  violations?: RuleViolation[];
  /** What POST /v1/validations/address answered, when the run changed the address. */
  addressValidation?: AddressValidationSummary;
  error?: SyncError;
  /** A held run: which guard held it. */
  heldReason?: string;
  /** Custom events the run raises besides its own records (MassDriftHeld, once per sweep). */
  events?: RunEvent[];
}

/** A custom telemetry event a run raises; dimensions hold ids, names and counts only. */
export interface RunEvent {
  name: string;
  dimensions: Record<string, string>;
}

/** The whole run, unmasked, as the recording step sees it. */
export interface FinishedRun {
  result: RunResult;
  record: HistoryRecord;
  calls: CallRecord[];
  /** Unmasked changes: for the restore path only. */
  changes: FieldChange[];
  /** Unmasked: `result` and `record` hold its masked message. */
  error?: SyncError;
  /** Every personal value the run knew (desired row, profiles read): what telemetry masks with. */
  personalValues: readonly string[];
  /** Custom events beyond the run's own (see RunState.events). */
  events?: RunEvent[];
}
