import { randomUUID } from "node:crypto";
import { buildPutBody, DEFAULT_CONTEST_POLICY, type DesiredState, type LiveProfile, type NotConvergedField, parseDesiredEntity, planChanges, Redactor, residualAfterPut, resourceOfEntity, type RunResult, splitSuppressed } from "../model";
import { isSyncError, type Logger, SyncError, toSyncError } from "../core";
import type { CallOptions, CallRecord, PartnerCenterClient } from "../partnerCenter";
import { departureOutcome, isDeparture, type SweepTally } from "./departures";
import { checkBeforePut } from "./preflight";
import { fenceFor } from "./fencing";
import { interruptionOf, interruptRun } from "./interruption";
import { pendingHistoryRecord, recordRun } from "./record";
import { answerLost, changesPresent, findUnsettled, mergeChanges, putMayHaveLanded, settleUncertain } from "./uncertainPut";
import type { EngineDeps, ReconcileRequest, RunState } from "./run";
import type { DesiredRow, HistoryRecord, Lease } from "../stores";
import { SweepGate } from "./sweepGate";
import { outOfBandGate, startLogRead } from "./outOfBandRun";

/** At most this many PUTs per run when the ETag keeps going stale. */
export const MAX_PUT_ATTEMPTS = 3;
/** A run is stopped after this long, so that it never outlives its lease. */
export const DEFAULT_RUN_TIMEOUT_IN_MS = 4 * 60 * 1000;
export const DEFAULT_LEASE_DURATION_IN_MS = 5 * 60 * 1000;
/** Runs read back to find fights and not-converged fields. */
const RECENT_RUNS = 200;

export interface ReconcileOptions {
  abortSignal?: AbortSignal;
  /** Logs of this run go here instead of deps.log (the Functions invocation's logger). */
  log?: Logger;
  /**
   * A queue run: throttling that asks to wait longer than this ends the run `deferred`
   * (with retryAfterInMs) for the message to come back later, instead of waiting here.
   */
  maxThrottleWaitInMs?: number;
  /** The sweep this run is part of: a customer's 403/404 is judged against it (departures.ts). */
  sweep?: SweepTally;
}

/**
 * Observe: read and validate the desired row. What it is about and its personal values
 * (valid or not) are noted first, so that even an invalid row's record names its kind.
 */
async function readDesired(deps: EngineDeps, target: string, run: RunState, redactor: Redactor, seen?: (row: DesiredRow) => void): Promise<DesiredState> {
  const row = await deps.desired.get(target);
  if (!row) {
    throw new SyncError("InvalidDesiredState", `There is no desired-state row for target "${target}"; create one with \`billing-sync desired set\`.`);
  }
  run.resource = resourceOfEntity(row.properties);
  redactor.addDesiredProperties(row.properties);
  seen?.(row);
  return parseDesiredEntity(target, row.properties);
}

/** What earlier runs learned about fields the service does not keep: the newest run that planned. */
function rememberedNotConverged(recent: readonly HistoryRecord[]): NotConvergedField[] {
  return recent.find((r) => r.notConverged !== undefined)?.notConverged ?? [];
}

function notConvergedError(fields: readonly NotConvergedField[], sentNow: boolean): SyncError {
  const list = fields.map((f) => `${f.field} (desired ${JSON.stringify(f.desired)}, Partner Center holds ${JSON.stringify(f.service)})`).join("; ");
  const lead = sentNow ? "Partner Center did not keep what was sent" : "Not sent again: Partner Center did not keep this change before";
  return new SyncError(
    "NotConverged",
    `${lead}: ${list}. It is not sent again until the desired or the live value changes; check the value (the service may normalise it) or adopt the live one with \`billing-sync desired adopt\`.`,
  );
}

/**
 * Observe the live profile, diff, and act: PUT the corrected profile with this pass's
 * ETag, then check the answer holds what was sent. A stale ETag means someone wrote after
 * our GET: read again and re-plan, at most MAX_PUT_ATTEMPTS PUTs. Fills `run` as it goes,
 * so a failure keeps what was learned.
 */
async function converge(
  run: RunState,
  desired: DesiredState,
  client: PartnerCenterClient,
  dryRun: boolean,
  callOptions: CallOptions,
  /** Undefined: the run is held (its sweep's PUT limit), nothing goes out. */
  beforePut: () => Promise<readonly NotConvergedField[] | undefined>,
  redactor: Redactor,
  fence?: () => Promise<void>,
  firstRead?: (live: LiveProfile) => Promise<void>,
): Promise<void> {
  const resource = desired.resource;
  for (let putAttempts = 0; ; ) {
    const got = await client.getProfile(resource, callOptions);
    redactor.addProfile(got.profile.body);
    if (firstRead) await firstRead(got.profile);
    firstRead = undefined;
    run.getRequestId = got.requestId;
    run.etagBefore ??= got.profile.etag;
    // No ETag to send back: the PUT cannot be conditional (last writer wins); the record says so.
    run.guarded = got.profile.etag !== undefined;
    // A PUT whose answer was lost (reset, timeout, a gateway's 5xx) may have landed before
    // the retry found the ETag stale: this read says which of its changes are there. Those
    // are ours (PutMade, the profile before the first of them) so the change can be undone.
    if (run.putUnanswered) {
      run.madeChanges = changesPresent(desired, run.madeChanges ?? [], got.profile);
      run.putUnanswered = false;
      if (run.madeChanges.length > 0) Object.assign(run, { putMade: true, putRequestId: run.calls.filter(answerLost).at(-1)?.requestId });
    }
    const made = run.madeChanges ?? [];
    const inSync = () => {
      Object.assign(run, { outcome: made.length > 0 ? "corrected" : "in-sync", etagAfter: got.profile.etag, notConverged: [], changes: made });
    };
    const planned = planChanges(desired, got.profile);
    if (planned.length === 0) return inSync();
    run.changes = mergeChanges(made, planned);
    if (!dryRun && desired.mode === "observe") {
      run.outcome = "drift";
      return;
    }
    // Address, phone and tax changes are checked against the country's rules and the
    // service's address validation first: a value it would refuse or rewrite is not sent.
    const checked = await checkBeforePut(desired, got.profile, planned, client, callOptions);
    run.warnings = [...new Set([...(run.warnings ?? []), ...checked.warnings])];
    Object.assign(run, { violations: checked.violations, addressValidation: checked.addressValidation });
    if (checked.refusal) throw checked.refusal;
    const target = checked.desired;
    const changes = checked.changes;
    // An accepted address suggestion the profile already holds.
    if (changes.length === 0) return inSync();
    run.changes = mergeChanges(made, changes);
    if (dryRun) {
      run.outcome = "drift";
      return;
    }
    // The first PUT that may have landed keeps its before-image: later passes add changes, never replace it.
    if (made.length === 0) run.profileBefore = got.profile.body;
    const remembered = await beforePut();
    if (!remembered) return;
    const { apply, suppressed } = splitSuppressed(changes, remembered, resource.kind);
    run.notConverged = suppressed;
    if (apply.length === 0) {
      run.outcome = "not-converged";
      run.error = notConvergedError(suppressed, false);
      return;
    }
    putAttempts++;
    const sentAt = run.calls.length;
    try {
      const body = buildPutBody(got.profile, apply);
      await fence?.();
      const put = await client.updateProfile(resource, body, { ...callOptions, etag: got.profile.etag });
      redactor.addProfile(put.profile.body);
      const residual = residualAfterPut(target, apply, put.profile);
      Object.assign(run, { changes: mergeChanges(made, apply), putMade: true, putRequestId: put.requestId, etagAfter: put.profile.etag });
      run.notConverged = [...suppressed, ...residual];
      run.outcome = run.notConverged.length > 0 ? "not-converged" : "corrected";
      if (run.notConverged.length > 0) run.error = notConvergedError(run.notConverged, residual.length > 0);
      return;
    } catch (err) {
      if (putMayHaveLanded(run.calls.slice(sentAt), err)) {
        run.madeChanges = mergeChanges(made, apply);
        run.putUnanswered = true;
      }
      if (isSyncError(err) && err.code === "StaleEtag") {
        if (putAttempts < MAX_PUT_ATTEMPTS) continue;
        throw new SyncError("StaleEtag", `The profile kept changing during the run: ${MAX_PUT_ATTEMPTS} updates in a row found a stale ETag.`, {
          statusCode: err.statusCode,
          requestId: err.requestId,
          correlationId: err.correlationId,
        });
      }
      // A 2xx we could not read means the service took the PUT.
      if (isSyncError(err) && err.code === "ResponseParseError") run.putMade = true;
      throw err;
    }
  }
}

function outcomeFor(error: SyncError, options: ReconcileOptions, run: RunState): RunState["outcome"] {
  // Whatever stopped the run, a PUT whose answer never came may have landed: not "deferred", not "failed, no PUT".
  if (run.putUnanswered) return "uncertain";
  if (error.code === "Throttled" && options.maxThrottleWaitInMs !== undefined) return "deferred";
  if (error.code === "InvalidDesiredState") return "invalid-desired";
  if (error.code === "StaleEtag") return "conflict";
  if (error.code === "InProgress") return "in-progress";
  return "failed";
}

async function takeLease(deps: EngineDeps, request: ReconcileRequest, runId: string, now: Date): Promise<Lease | undefined> {
  const lease = await deps.leases!.acquire(request.target, runId, {
    durationInMs: deps.leaseDurationInMs ?? DEFAULT_LEASE_DURATION_IN_MS,
    trigger: request.trigger,
    now,
  });
  if (lease) return lease;
  const holder = await deps.leases!.get(request.target).catch(() => undefined);
  const who = holder ? ` (a ${holder.trigger} run since ${holder.acquiredAt}; the lease ends by ${holder.expiresAt})` : "";
  throw new SyncError(
    "InProgress",
    `A sync of "${request.target}" is already in progress${who}; nothing was called. If that run is gone, \`billing-sync unlock --target ${request.target}\` releases its lease.`,
    { statusCode: 409 },
  );
}

/** One reconcile pass for one target: lease, observe, diff, act, record. Never throws. */
export async function reconcile(request: ReconcileRequest, deps: EngineDeps, options: ReconcileOptions = {}): Promise<RunResult> {
  const now = deps.now ?? (() => new Date());
  const newId = deps.newId ?? randomUUID;
  const started = now();
  const runId = newId();
  const correlationId = newId();
  const dryRun = request.dryRun ?? false;
  const log = options.log ?? deps.log;
  const run: RunState = { outcome: "in-sync", changes: [], putMade: false, calls: [] };
  // Every personal value the run learns: what outside text and the run's error are masked with.
  const redactor = new Redactor();
  let recent: HistoryRecord[] = [];
  // Earlier runs are read in full only when there is something to correct; an in-sync run
  // (the common case) reads only its latest 5 summary rows, beside its lease (findUnsettled).
  let memory: Promise<NotConvergedField[]> | undefined;
  const loadRecent = async () => {
    recent = await deps.history.list(request.target, { since: new Date(started.getTime() - (deps.contestPolicy ?? DEFAULT_CONTEST_POLICY).windowInMs), limit: RECENT_RUNS, columns: "summary" });
    return rememberedNotConverged(recent);
  };
  // Before a PUT: what earlier runs learned, and (at the same time) the write-ahead history
  // row with the profile the PUT replaces. Both are table I/O: without storage, no PUT.
  const gate = new SweepGate(request, { ...deps, log }, now);
  const beforePut = async () => {
    if (!(await gate.admit(run))) return undefined;
    memory ??= loadRecent();
    const facts = { request, runId, correlationId, dryRun, started, finished: now(), run, recent, redactor };
    const [remembered] = await Promise.all([memory, deps.history.add(pendingHistoryRecord(facts))]);
    return remembered;
  };
  let lease: Lease | undefined;
  let desiredRow: DesiredRow | undefined;
  const timeoutInMs = deps.runTimeoutInMs ?? DEFAULT_RUN_TIMEOUT_IN_MS;
  const abortSignal = options.abortSignal ? AbortSignal.any([options.abortSignal, AbortSignal.timeout(timeoutInMs)]) : AbortSignal.timeout(timeoutInMs);

  // An earlier run's PUT whose answer was lost: looked for alongside the first reads, settled after the GET.
  const unsettled = dryRun ? undefined : findUnsettled(deps.history, request.target).catch(() => undefined);
  try {
    // The lease and the desired row are read together (the row is used only if the lease
    // is ours). A plan writes nothing, so it does not need (or block) the lease.
    const logRead = startLogRead(deps, request.target);
    const [leased, desiredRead] = await Promise.allSettled([
      !dryRun && deps.leases ? takeLease(deps, request, runId, started) : Promise.resolve(undefined),
      readDesired(deps, request.target, run, redactor, (row) => (desiredRow = row)),
    ]);
    if (leased.status === "rejected") throw leased.reason;
    lease = leased.value;
    if (desiredRead.status === "rejected") throw desiredRead.reason;
    const desired = desiredRead.value;
    Object.assign(run, { mode: desired.mode, suspended: desired.suspended });
    if (desired.suspended) {
      run.outcome = "suspended";
    } else {
      // An edit made outside billing-sync is said (and under block, nothing is written).
      const held = desiredRow ? await outOfBandGate(deps, desiredRow, run, log, logRead) : false;
      const client = deps.partnerClient(desired.account);
      const callOptions: CallOptions = { correlationId, abortSignal, redactor, onCall: (c: CallRecord) => run.calls.push(c), maxThrottleWaitInMs: options.maxThrottleWaitInMs };
      const firstRead = unsettled
        ? async (live: LiveProfile) => {
            const note = await settleUncertain(deps.history, unsettled, desired, live, runId, log);
            if (note) run.warnings = [...(run.warnings ?? []), note];
          }
        : undefined;
      await converge(run, desired, client, dryRun || held, callOptions, beforePut, redactor, lease && fenceFor(deps.leases!, lease), firstRead);
      if (held && !dryRun) {
        run.outcome = "held";
        run.heldReason = "out-of-band";
      }
    }
  } catch (err) {
    const error = abortSignal.aborted && !options.abortSignal?.aborted
      ? new SyncError("Aborted", `The run was stopped after ${timeoutInMs / 1000} s, so that it never outlives its lease.`)
      : toSyncError(err);
    run.error = error;
    run.outcome = outcomeFor(error, options, run);
    if (run.outcome === "failed" && isDeparture(run.resource, error)) run.outcome = await departureOutcome(request.target, options.sweep).catch(() => "failed" as const);
    if (run.outcome === "deferred") run.retryAfterInMs = error.retryAfterInMs ?? options.maxThrottleWaitInMs;
    // An uncertain queue run comes back for the next run to settle it: not before the service's Retry-After.
    else if (run.outcome === "uncertain" && error.retryAfterInMs !== undefined) run.retryAfterInMs = error.retryAfterInMs;
    const interrupted = interruptionOf(options.abortSignal);
    if (interrupted) interruptRun(run, interrupted);
  }
  await gate.settle(run);
  const released = lease
    ? deps.leases!.release(lease).catch((err: unknown) => log.warn(`Lease of ${request.target} not released; it expires on its own: ${redactor.known(toSyncError(err).message)}`))
    : undefined;
  const [result] = await Promise.all([recordRun({ request, runId, correlationId, dryRun, started, finished: now(), run, recent, redactor }, { ...deps, log }), released]);
  return result;
}
