import type { JsonObject, Logger, SyncError } from "../core";
import type { AccountRef, AddressValidationSummary, ContestPolicy, FieldChange, Mode, NotConvergedField, Outcome, ResourceRef, RuleViolation, RunResult, Trigger } from "../model";
import type { CallRecord, PartnerCenterClient } from "../partnerCenter";
import type { DesiredChangeStore, DesiredStateStore, HistoryRecord, HistoryStore, LeaseStore } from "../stores";

/**
 * The vocabulary of one run, shared by the reconcile loop and its record step: what is
 * asked, what the run depends on, what it learned, and how it finished.
 */

export interface ReconcileRequest {
  target: string;
  trigger: Trigger;
  dryRun?: boolean;
}

export interface EngineDeps {
  desired: DesiredStateStore;
  history: HistoryStore;
  /** One writer per target; without it (tests of the pure flow) runs may overlap. */
  leases?: LeaseStore;
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
}
