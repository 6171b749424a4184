import { type ContestedField, DEFAULT_CONTEST_POLICY, desiredHashesOf, findContested, isPersonal, maskChanges, type Redactor, type RunError, type RunResult } from "../model";
import { type Logger, PRODUCT_VERSION, type SyncError, toSyncError } from "../core";
import type { EngineDeps, ReconcileRequest, RunState } from "./run";
import type { HistoryRecord } from "../stores";

export interface RunFacts {
  request: ReconcileRequest;
  runId: string;
  correlationId: string;
  dryRun: boolean;
  started: Date;
  finished: Date;
  run: RunState;
  /** Earlier runs of the target within the contest window, newest first. */
  recent: HistoryRecord[];
  /** The run's personal values: its error leaves the engine only masked with them. */
  redactor: Redactor;
}

/**
 * Where the run's error becomes the message of the result, the history row, the log line
 * and (through FinishedRun.personalValues) telemetry: masked once, here, with every
 * personal value the run knows, whichever layer built the error.
 */
function runError(error: SyncError, correlationId: string, redactor: Redactor): RunError {
  return {
    code: error.code,
    message: redactor.known(error.message),
    status: error.statusCode,
    serviceCode: error.serviceCode === undefined ? undefined : redactor.known(error.serviceCode),
    correlationId: error.correlationId ?? correlationId,
    requestId: error.requestId,
  };
}

function contestedNow(facts: RunFacts, changedFields: string[], deps: EngineDeps): ContestedField[] {
  const current = { outcome: facts.run.outcome, dryRun: facts.dryRun, changedFields, startedAt: facts.started.toISOString(), desiredHashes: desiredHashesOf(facts.run.changes, facts.run.resource?.kind) };
  return findContested([current, ...facts.recent], facts.finished, deps.contestPolicy ?? DEFAULT_CONTEST_POLICY);
}

/** The run's warnings, the unguarded one first: a profile without an ETag is written unconditionally. */
function warningsOf(run: RunState): string[] {
  const unguarded =
    run.guarded === false
      ? [
          run.putMade || run.putPending
            ? "The profile Partner Center returned has no ETag (Attributes.Etag): the update went out unconditionally, so a change someone made at the same moment would be overwritten (last writer wins)."
            : "The profile Partner Center returned has no ETag (Attributes.Etag): an update would go out unconditionally (last writer wins).",
        ]
      : [];
  return [...unguarded, ...(run.warnings ?? [])];
}

/** The personal values a PUT sent, unmasked, for the history row alone (see HistoryRecord.valuesSent). */
function personalValuesSent(run: RunFacts["run"]): Record<string, string> | undefined {
  const personal = run.changes.filter((c) => isPersonal(c.field, run.resource?.kind));
  return personal.length ? Object.fromEntries(personal.map((c) => [c.field, c.to])) : undefined;
}

function historyRecord(facts: RunFacts, contested: ContestedField[]): HistoryRecord {
  const { run, request } = facts;
  // Warnings may carry a service's text (an address validation message): masked with the run's values too.
  const warnings = warningsOf(run).map((w) => facts.redactor.known(w));
  return {
    runId: facts.runId,
    target: request.target,
    resourceKind: run.resource?.kind.name,
    resourceId: run.resource?.id,
    trigger: request.trigger,
    dryRun: facts.dryRun,
    outcome: run.outcome,
    changedFields: run.changes.map((c) => c.field),
    changes: maskChanges(run.changes, run.resource?.kind),
    correlationId: facts.correlationId,
    // A request that never left (connection refused, no such host) has an id no server saw.
    requestIds: [...new Set(run.calls.filter((c) => c.sent !== false).map((c) => c.requestId))],
    getRequestId: run.getRequestId,
    putRequestId: run.putRequestId,
    putMade: run.putMade,
    putPending: run.putPending,
    etagBefore: run.etagBefore,
    etagAfter: run.etagAfter,
    profileBefore: run.putMade || run.putPending || run.putUnanswered ? run.profileBefore : undefined,
    valuesSent: run.putMade || run.putPending || run.putUnanswered ? personalValuesSent(run) : undefined,
    error: run.error ? runError(run.error, facts.correlationId, facts.redactor) : null,
    startedAt: facts.started.toISOString(),
    durationMs: facts.finished.getTime() - facts.started.getTime(),
    mode: run.mode,
    suspended: run.suspended,
    notConverged: run.notConverged,
    contested,
    guarded: run.guarded === false ? false : undefined,
    warnings: warnings.length ? warnings : undefined,
    violations: run.violations?.length ? run.violations : undefined,
    addressValidation: run.addressValidation,
    version: PRODUCT_VERSION,
    sweepId: request.sweepId,
    heldReason: run.heldReason,
    // What the PUT enforced, per field: a later run tells a fight from a change of the desired state by it.
    desiredHashes: run.putMade || run.putPending ? desiredHashesOf(run.changes, run.resource?.kind) : undefined,
  };
}

/** What the run was about, as the result and telemetry name it: the kind, and the instance's id under its dimension name. */
export function resourceOf(run: RunState): RunResult["resource"] {
  const resource = run.resource;
  if (!resource) return undefined;
  const { kind, id } = resource;
  return { kind: kind.name, ...(kind.key && id !== undefined ? { [kind.key.dimension]: id } : {}) };
}

/**
 * Written just before a PUT, in the row the run's final record then replaces: if the
 * final write fails (storage gone after the PUT), the row still says a PUT was about to go
 * out and keeps the profile it replaces, so `restore` can undo it.
 */
export function pendingHistoryRecord(facts: RunFacts): HistoryRecord {
  return historyRecord({ ...facts, run: { ...facts.run, outcome: "in-progress", putPending: true, putMade: false } }, []);
}

/** Record: the history row (failures included), the log line, the caller's result. */
export async function recordRun(facts: RunFacts, deps: EngineDeps & { log: Logger }): Promise<RunResult> {
  const { run, request } = facts;
  const changedFields = run.changes.map((c) => c.field);
  const contested = contestedNow(facts, changedFields, deps);
  // An interrupted run keeps putPending when its PUT went out unanswered (see interruption.ts).
  const record = historyRecord({ ...facts, run: { ...run, putPending: run.outcome === "interrupted" && run.putPending === true } }, contested);
  const { requestIds, changes: masked, error, durationMs } = record;
  let recorded = true;
  try {
    await deps.history.add(record);
  } catch (err) {
    recorded = false;
    deps.log.error(`Run ${facts.runId} of ${request.target} could not be recorded in history: ${facts.redactor.known(toSyncError(err).message)}`, {
      runId: facts.runId,
      target: request.target,
      outcome: run.outcome,
      changedFields,
      correlationId: facts.correlationId,
      requestIds,
    });
  }
  const resource = resourceOf(run);
  const result: RunResult = {
    runId: facts.runId,
    target: request.target,
    ...(resource ? { resource } : {}),
    trigger: request.trigger,
    dryRun: facts.dryRun,
    outcome: run.outcome,
    changes: masked,
    correlationId: facts.correlationId,
    requestIds,
    durationMs,
    error,
    recorded,
    ...(contested.length ? { contested } : {}),
    ...(run.retryAfterInMs !== undefined ? { retryAfterInMs: run.retryAfterInMs } : {}),
    ...(request.sweepId !== undefined ? { sweepId: request.sweepId } : {}),
    ...(run.heldReason !== undefined ? { heldReason: run.heldReason } : {}),
    ...(run.notConverged?.length ? { notConverged: run.notConverged.map(({ field, desired, service }) => ({ field, desired, service })) } : {}),
    ...(record.guarded === false ? { guarded: false } : {}),
    ...(record.warnings ? { warnings: record.warnings } : {}),
    ...(record.violations ? { violations: record.violations } : {}),
    ...(record.addressValidation ? { addressValidation: record.addressValidation } : {}),
  };
  const level = error ? "warn" : "info";
  const properties = {
    runId: facts.runId,
    target: request.target,
    trigger: request.trigger,
    outcome: run.outcome,
    changedFields,
    correlationId: facts.correlationId,
    requestIds,
    ...(record.guarded === false ? { guarded: false } : {}),
  };
  deps.log[level](`Run ${facts.runId} of ${request.target}: ${run.outcome}${error ? ` (${error.code}: ${error.message})` : ""}`, properties);
  for (const warning of record.warnings ?? []) deps.log.warn(`Run ${facts.runId} of ${request.target}: ${warning}`, properties);
  deps.onRunFinished?.({ result, record, calls: run.calls, changes: run.changes, error: run.error, personalValues: facts.redactor.values, events: run.events });
  return result;
}
