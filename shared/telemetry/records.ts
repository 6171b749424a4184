import { getPath, type SyncError } from "../core";
import { FAILED_SYNC_ALERT_OUTCOMES, isPersonal, kindNamed, maskKnownValues, type Outcome, outcomeClass, PERSONAL_PROFILE_PATHS, RESOURCE_KINDS } from "../model";
import type { CallRecord } from "../partnerCenter";
import type { FinishedRun } from "../engine";

/**
 * What one finished run becomes in Application Insights, as plain data: the record names
 * and dimensions of CONTRACTS.md, built without any OpenTelemetry code so that they can be
 * tested alone. Dimensions carry ids, names and codes only; the one free text (an error's
 * message and stack) goes through the masking function with the run's personal values.
 */
export const RUN_RECORD = "BillingProfileSyncRun";
export const DRIFT_CORRECTED_EVENT = "BillingProfileDriftCorrected";
export const DRIFT_DETECTED_EVENT = "BillingProfileDriftDetected";
export const DRIFTED_FIELDS_METRIC = "BillingProfileDriftedFields";

/**
 * Outcomes the failed-sync alert fires on. The run's request record is unsuccessful for these
 * and also for uncertain and interrupted (shared/model/outcomeClass.ts has the rule).
 */
export const FAILED_OUTCOMES: ReadonlySet<Outcome> = new Set(FAILED_SYNC_ALERT_OUTCOMES);

export type Dimensions = Record<string, string>;
export type Severity = "info" | "warn" | "error";

export interface TimedRecord {
  name: string;
  startTime: Date;
  endTime: Date;
  success: boolean;
  dimensions: Dimensions;
}

export interface DependencyRecord extends TimedRecord {
  method: CallRecord["method"];
  url: string;
  status?: number;
}

export interface ExceptionRecord {
  type: string;
  message: string;
  stack: string;
  dimensions: Dimensions;
}

export interface RunTelemetry {
  /** The run itself, the root of its operation (a request record). */
  run: TimedRecord;
  dependencies: DependencyRecord[];
  /** The `BillingProfileSyncRun` trace. */
  trace: { message: string; severity: Severity; time: Date; dimensions: Dimensions };
  exception?: ExceptionRecord;
  events: { name: string; dimensions: Dimensions }[];
  /** For BillingProfileDriftedFields; absent when the run never compared (suspended, invalid desired, failed GET). */
  driftedFields?: number;
  target: string;
}

const COMPARED: ReadonlySet<Outcome> = new Set(["in-sync", "drift", "corrected"]);

function str(value: string | number | boolean | undefined | null): string {
  return value === undefined || value === null ? "" : String(value);
}

/**
 * Every personal value the run held: the run's own set (its desired row and every profile
 * it read, changed or not: the same values its result and history were masked with), and
 * for good measure the changed fields' values and the profile read before a PUT.
 */
export function personalValues(run: FinishedRun): string[] {
  const values: string[] = [...(run.personalValues ?? [])];
  const kind = kindNamed(run.record.resourceKind);
  for (const change of run.changes) if (isPersonal(change.field, kind)) values.push(change.from, change.to);
  const before = run.record.profileBefore;
  if (before) {
    for (const path of PERSONAL_PROFILE_PATHS) {
      const value = getPath(before, path);
      if (typeof value === "string") values.push(value);
    }
  }
  return [...new Set(values.filter((v) => v !== ""))];
}

/** The last answer's MS-CV and MS-ServerId: the PUT's when there was one. */
function lastServiceIds(calls: readonly CallRecord[]): { msCv: string; msServerId: string } {
  const answered = [...calls].reverse().find((c) => c.msCv !== undefined || c.msServerId !== undefined);
  return { msCv: str(answered?.msCv), msServerId: str(answered?.msServerId) };
}

function severityOf(outcome: Outcome): Severity {
  return outcomeClass(outcome).severity;
}

function exceptionOf(error: SyncError, base: Dimensions, scrub: (text: string) => string): ExceptionRecord {
  const message = scrub(error.message);
  return {
    type: `SyncError.${error.code}`,
    message,
    // The stack's first line repeats the message; frames are file paths of this app.
    stack: scrub(error.stack ?? `SyncError: ${error.message}`),
    dimensions: {
      ...base,
      code: error.code,
      statusCode: str(error.statusCode),
      serviceCode: scrub(str(error.serviceCode)),
      correlationId: str(error.correlationId ?? base.correlationId),
      requestId: str(error.requestId),
    },
  };
}

function dependencyOf(call: CallRecord, apiBaseUrl: string, base: Dimensions): DependencyRecord {
  const startTime = new Date(call.startedAt);
  return {
    name: call.operation,
    method: call.method,
    url: `${apiBaseUrl}${call.path}`,
    status: call.status,
    startTime,
    endTime: new Date(startTime.getTime() + call.durationMs),
    success: call.errorCode === undefined && call.status !== undefined && call.status < 400,
    dimensions: {
      ...base,
      correlationId: call.correlationId,
      requestId: call.requestId,
      attempt: String(call.attempt),
      msCv: str(call.msCv),
      msServerId: str(call.msServerId),
      errorCode: str(call.errorCode),
    },
  };
}

/**
 * `resourceKind`, and the instance id under its kind's dimension (`customerTenantId`): ids,
 * never personal. Every key dimension is present (empty when not this kind) so that queries
 * can rely on the column.
 */
function resourceDimensions(resource: FinishedRun["result"]["resource"]): Dimensions {
  const out: Dimensions = { resourceKind: resource?.kind ?? "" };
  for (const kind of RESOURCE_KINDS) if (kind.key) out[kind.key.dimension] = resource?.[kind.key.dimension] ?? "";
  return out;
}

/** The records of one finished run. Pure: the same run always gives the same records. */
export function describeRun(run: FinishedRun, apiBaseUrl: string): RunTelemetry {
  const { result, record, calls, error } = run;
  const startTime = new Date(record.startedAt);
  const endTime = new Date(startTime.getTime() + result.durationMs);
  const known = personalValues(run);
  const scrub = (text: string) => maskKnownValues(text, known);
  // Every record of a run carries these (DESIGN.md, "Telemetry names").
  const base: Dimensions = {
    runId: result.runId,
    target: result.target,
    ...resourceDimensions(result.resource),
    trigger: result.trigger,
    outcome: result.outcome,
    dryRun: String(result.dryRun),
    correlationId: result.correlationId,
    getRequestId: str(record.getRequestId),
    putRequestId: str(record.putRequestId),
    // A run of a sweep names it (the mass-drift alert counts a sweep's held runs by it).
    ...(result.sweepId !== undefined ? { sweepId: result.sweepId } : {}),
    ...(result.heldReason !== undefined ? { heldReason: result.heldReason } : {}),
  };
  const changedFields = record.changedFields.join(",");
  // Exactly the dimensions of CONTRACTS.md: the alerts query them.
  const traceDimensions: Dimensions = {
    ...base,
    changedFields,
    ...lastServiceIds(calls),
    errorCode: str(result.error?.code),
    errorStatus: str(result.error?.status),
    serviceCode: scrub(str(error?.serviceCode)),
  };
  const eventDimensions: Dimensions = { ...base, changedFields };
  const events: RunTelemetry["events"] = [];
  if (record.putMade || result.outcome === "corrected") events.push({ name: DRIFT_CORRECTED_EVENT, dimensions: eventDimensions });
  else if (record.changedFields.length > 0) events.push({ name: DRIFT_DETECTED_EVENT, dimensions: eventDimensions });
  // MassDriftHeld, once per sweep: ids, counts and a message built from them only.
  for (const event of run.events ?? []) events.push({ name: event.name, dimensions: { ...base, ...event.dimensions } });
  return {
    target: result.target,
    run: { name: RUN_RECORD, startTime, endTime, success: outcomeClass(result.outcome).success, dimensions: base },
    dependencies: calls.map((c) => dependencyOf(c, apiBaseUrl, base)),
    trace: { message: RUN_RECORD, severity: severityOf(result.outcome), time: endTime, dimensions: traceDimensions },
    // A run that found the target busy is an expected state, not an exception.
    exception: error && error.code !== "InProgress" ? exceptionOf(error, base, scrub) : undefined,
    events,
    driftedFields: COMPARED.has(result.outcome) || record.changedFields.length > 0 ? record.changedFields.length : undefined,
  };
}
