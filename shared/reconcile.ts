import { randomUUID } from "node:crypto";
import { parseDesiredEntity, type DesiredState } from "./desired";
import { buildPutBody, planChanges, type FieldChange } from "./diff";
import { isSyncError, toSyncError, SyncError } from "./errors";
import type { JsonObject } from "./json";
import type { Logger } from "./logger";
import { maskChanges } from "./mask";
import type { CallOptions, CallRecord, PartnerCenterClient } from "./partnerClient";
import type { Outcome, RunError, RunResult, Trigger } from "./runResult";
import type { DesiredStateStore } from "./stores/desiredStore";
import type { HistoryRecord, HistoryStore } from "./stores/historyStore";

/** At most this many PUTs per run when the ETag keeps going stale. */
export const MAX_PUT_ATTEMPTS = 3;

export interface ReconcileRequest {
  target: string;
  trigger: Trigger;
  dryRun?: boolean;
}

export interface EngineDeps {
  desired: DesiredStateStore;
  history: HistoryStore;
  partnerClient(target: string): PartnerCenterClient;
  log: Logger;
  now?: () => Date;
  newId?: () => string;
  /** Sees every finished run with its calls, before the result is returned (telemetry). */
  onRunFinished?: (run: FinishedRun) => void;
}

export interface ReconcileOptions {
  abortSignal?: AbortSignal;
  /** Logs of this run go here instead of deps.log (the Functions invocation's logger). */
  log?: Logger;
}

/** The whole run, unmasked, as the recording step sees it. */
export interface FinishedRun {
  result: RunResult;
  record: HistoryRecord;
  calls: CallRecord[];
  /** Unmasked changes: for the history writer and the restore path only. */
  changes: FieldChange[];
  error?: SyncError;
}

/** What the act step learned; accumulated over the stale-ETag loop. */
interface Pass {
  outcome: Outcome;
  changes: FieldChange[];
  etagBefore?: string;
  etagAfter?: string;
  profileBefore?: JsonObject;
  getRequestId?: string;
  putRequestId?: string;
  putMade: boolean;
  error?: SyncError;
}

function outcomeForError(error: SyncError): Outcome {
  if (error.code === "InvalidDesiredState") return "invalid-desired";
  if (error.code === "StaleEtag") return "conflict";
  if (error.code === "InProgress") return "in-progress";
  return "failed";
}

function runError(error: SyncError, correlationId: string): RunError {
  return {
    code: error.code,
    message: error.message,
    status: error.statusCode,
    correlationId: error.correlationId ?? correlationId,
    requestId: error.requestId,
  };
}

/** Observe: read and validate the desired row. */
async function readDesired(deps: EngineDeps, target: string): Promise<DesiredState> {
  const row = await deps.desired.get(target);
  if (!row) {
    throw new SyncError("InvalidDesiredState", `There is no desired-state row for target "${target}"; create one with \`billing-sync desired set\`.`);
  }
  return parseDesiredEntity(target, row.properties);
}

/**
 * Observe the live profile, diff, and act: PUT the corrected profile with this pass's
 * ETag. A stale ETag means someone wrote after our GET: read again and re-plan, at most
 * MAX_PUT_ATTEMPTS PUTs. Fills `pass` as it goes, so a failure keeps what was learned.
 */
async function converge(
  pass: Pass,
  desired: DesiredState,
  client: PartnerCenterClient,
  dryRun: boolean,
  callOptions: CallOptions,
  calls: readonly CallRecord[],
): Promise<void> {
  for (let putAttempts = 0; ; ) {
    const got = await client.getBillingProfile(callOptions);
    pass.getRequestId = got.requestId;
    pass.etagBefore ??= got.profile.etag;
    const changes = planChanges(desired, got.profile);
    if (changes.length === 0) {
      // A PUT whose answer was lost (reset, timeout) may have landed before the retry found
      // the ETag stale: then the profile is in sync because of us.
      const landedUnseen = calls.some((c) => c.method === "PUT" && (c.errorCode === "NetworkError" || c.errorCode === "Timeout"));
      pass.outcome = landedUnseen ? "corrected" : "in-sync";
      pass.etagAfter = got.profile.etag;
      return;
    }
    pass.changes = changes;
    if (dryRun || desired.mode === "observe") {
      pass.outcome = "drift";
      return;
    }
    putAttempts++;
    pass.profileBefore = got.profile.body;
    try {
      const put = await client.updateBillingProfile(buildPutBody(got.profile, changes), callOptions);
      Object.assign(pass, { outcome: "corrected", putMade: true, putRequestId: put.requestId, etagAfter: put.profile.etag });
      return;
    } catch (err) {
      if (isSyncError(err) && err.code === "StaleEtag") {
        if (putAttempts < MAX_PUT_ATTEMPTS) continue;
        throw new SyncError("StaleEtag", `The profile kept changing during the run: ${MAX_PUT_ATTEMPTS} updates in a row found a stale ETag.`, {
          statusCode: err.statusCode,
          requestId: err.requestId,
          correlationId: err.correlationId,
        });
      }
      // A 2xx we could not read means the service took the PUT.
      pass.putMade = isSyncError(err) && err.code === "ResponseParseError";
      throw err;
    }
  }
}

/** One reconcile pass for one target: observe, diff, act, record. Never throws. */
export async function reconcile(request: ReconcileRequest, deps: EngineDeps, options: ReconcileOptions = {}): Promise<RunResult> {
  const now = deps.now ?? (() => new Date());
  const newId = deps.newId ?? randomUUID;
  const started = now();
  const runId = newId();
  const correlationId = newId();
  const dryRun = request.dryRun ?? false;
  const calls: CallRecord[] = [];
  const pass: Pass = { outcome: "in-sync", changes: [], putMade: false };

  try {
    const desired = await readDesired(deps, request.target);
    if (desired.suspended) {
      pass.outcome = "suspended";
    } else {
      const client = deps.partnerClient(request.target);
      const callOptions = { correlationId, abortSignal: options.abortSignal, onCall: (c: CallRecord) => calls.push(c) };
      await converge(pass, desired, client, dryRun, callOptions, calls);
    }
  } catch (err) {
    pass.error = toSyncError(err);
    pass.outcome = outcomeForError(pass.error);
  }

  const log = options.log ?? deps.log;
  return record({ request, runId, correlationId, dryRun, started, durationMs: now().getTime() - started.getTime(), calls, pass }, { ...deps, log });
}

interface RunFacts {
  request: ReconcileRequest;
  runId: string;
  correlationId: string;
  dryRun: boolean;
  started: Date;
  durationMs: number;
  calls: CallRecord[];
  pass: Pass;
}

/** Record: the history row (failures included), the log line, the caller's result. */
async function record(facts: RunFacts, deps: EngineDeps): Promise<RunResult> {
  const { pass, request } = facts;
  const requestIds = [...new Set(facts.calls.map((c) => c.requestId))];
  const masked = maskChanges(pass.changes);
  const error = pass.error ? runError(pass.error, facts.correlationId) : null;
  const historyRecord: HistoryRecord = {
    runId: facts.runId,
    target: request.target,
    trigger: request.trigger,
    dryRun: facts.dryRun,
    outcome: pass.outcome,
    changedFields: pass.changes.map((c) => c.field),
    changes: masked,
    correlationId: facts.correlationId,
    requestIds,
    getRequestId: pass.getRequestId,
    putRequestId: pass.putRequestId,
    putMade: pass.putMade,
    etagBefore: pass.etagBefore,
    etagAfter: pass.etagAfter,
    profileBefore: pass.putMade ? pass.profileBefore : undefined,
    error,
    startedAt: facts.started.toISOString(),
    durationMs: facts.durationMs,
  };
  let recorded = true;
  try {
    await deps.history.add(historyRecord);
  } catch (err) {
    recorded = false;
    deps.log.error(`Run ${facts.runId} of ${request.target} could not be recorded in history: ${toSyncError(err).message}`, {
      runId: facts.runId,
      target: request.target,
      outcome: pass.outcome,
      correlationId: facts.correlationId,
      requestIds,
    });
  }
  const result: RunResult = {
    runId: facts.runId,
    target: request.target,
    trigger: request.trigger,
    dryRun: facts.dryRun,
    outcome: pass.outcome,
    changes: masked,
    correlationId: facts.correlationId,
    requestIds,
    durationMs: facts.durationMs,
    error,
    recorded,
  };
  const level = error ? "warn" : "info";
  deps.log[level](`Run ${facts.runId} of ${request.target}: ${pass.outcome}${error ? ` (${error.code}: ${error.message})` : ""}`, {
    runId: facts.runId,
    target: request.target,
    trigger: request.trigger,
    outcome: pass.outcome,
    changedFields: historyRecord.changedFields,
    correlationId: facts.correlationId,
    requestIds,
  });
  deps.onRunFinished?.({ result, record: historyRecord, calls: facts.calls, changes: pass.changes, error: pass.error });
  return result;
}
