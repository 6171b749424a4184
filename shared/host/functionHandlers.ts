import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { contextLogger, getEngine } from "./worker";
export { afterInvocation } from "./worker";
import { errorResponse, parseSyncRequest, runSyncRequest, statusResponse } from "./httpApi";
import { parseTargetMessage } from "../stores";

/**
 * What the triggers do. functions/*.ts load this on their first invocation, so that the
 * worker indexes the functions without loading the engine (Table, HTTP and Partner Center
 * clients): that keeps the entry's import, and so the cold start, small.
 */

/**
 * Scheduled drift correction of every target. With the fan-out queue (always in Azure)
 * it only queues one message per target, so the platform scales out and each target
 * retries on its own; without it (local) the targets run here, and the invocation fails
 * when one did, so the host shows it.
 */
export async function runTimer(context: InvocationContext): Promise<void> {
  const log = contextLogger(context);
  const engine = getEngine();
  if (engine.queue) {
    const { targets, spreadInSeconds } = await engine.enqueueAll("timer");
    // Names only for a small fan-out: ten thousand of them are no log line.
    log.info(`Queued ${targets.length} target(s) for sync${spreadInSeconds > 0 ? `, spread over ${spreadInSeconds} s` : ""}`, {
      targets: targets.length <= 50 ? targets : undefined,
      count: targets.length,
      spreadInSeconds,
    });
    return;
  }
  const runs = await engine.syncAll({ trigger: "timer", log });
  const failed = runs.filter((r) => r.outcome === "failed" || r.outcome === "conflict" || r.outcome === "invalid-desired");
  log.info(`Timer sync of ${runs.length} target(s) finished`, { outcomes: runs.map((r) => `${r.target}:${r.outcome}`) });
  if (failed.length > 0) {
    throw new Error(`Billing profile sync failed for ${failed.map((r) => `${r.target} (${r.error?.code}, correlation id ${r.correlationId})`).join(", ")}`);
  }
}

/** A queue run waits for the account's pace at most this long; beyond it the message comes back later. */
export const QUEUE_MAX_THROTTLE_WAIT_IN_MS = 10_000;
/** Put back at most this many times; then the run fails for the host's retries and poison queue. */
export const MAX_DEFERRALS = 24;

/**
 * One target from the fan-out queue. A failed or conflicting run throws, so the host
 * retries it (host.json maxDequeueCount) and finally moves it to the poison queue, which
 * status shows; other targets are separate messages and never wait on this one.
 *
 * Throttling is not a failure and is not slept through: a run that would wait longer
 * than QUEUE_MAX_THROTTLE_WAIT_IN_MS ends `deferred`, and the target goes back on the
 * queue visible after Retry-After (the queue trigger cannot delay its own message, so a
 * new message is sent and this one completes).
 */
export async function runQueueMessage(message: unknown, context: InvocationContext): Promise<void> {
  const log = contextLogger(context);
  const parsed = parseTargetMessage(message);
  const { target, trigger, dryRun } = parsed;
  const engine = getEngine();
  const sweep = parsed.sweep && engine.sweeps.stored(parsed.sweep);
  const run = await engine.syncTarget({ target, trigger, dryRun }, { log, maxThrottleWaitInMs: QUEUE_MAX_THROTTLE_WAIT_IN_MS, sweep });
  if (run.outcome === "deferred") {
    const deferrals = (parsed.deferrals ?? 0) + 1;
    if (deferrals > MAX_DEFERRALS || !engine.queue) {
      throw new Error(`Sync of ${target} was throttled ${deferrals} time(s) in a row (correlation id ${run.correlationId}); the host will retry it.`);
    }
    const delayInSeconds = Math.max(1, Math.ceil((run.retryAfterInMs ?? QUEUE_MAX_THROTTLE_WAIT_IN_MS) / 1000));
    await engine.queue.enqueue([{ message: { ...parsed, deferrals }, delayInSeconds }]);
    log.info(`${dryRun ? "Plan" : "Sync"} of ${target} throttled: queued again, visible in ${delayInSeconds} s`, { target, deferrals, delayInSeconds });
    return;
  }
  if (run.outcome === "failed" || run.outcome === "conflict") {
    throw new Error(`Sync of ${target} ended ${run.outcome} (${run.error?.code}, correlation id ${run.correlationId}); the host will retry it.`);
  }
}

/**
 * POST /api/sync {target?, dryRun?}: a manual sync, same engine as the timer. Without a
 * target and with the fan-out queue (always in Azure) it only queues the targets (202).
 */
export async function handleSync(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const log = contextLogger(context);
  const parsed = await parseSyncRequest(request);
  if (!parsed.ok) return parsed.response;
  try {
    return await runSyncRequest(getEngine(), parsed.value, log);
  } catch (err) {
    return errorResponse(err, log);
  }
}

/** GET /api/status: a page of per-target statuses, a summary on request, or one target. */
export async function handleStatus(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const log = contextLogger(context);
  try {
    return await statusResponse(getEngine(), log, request.query);
  } catch (err) {
    return errorResponse(err, log);
  }
}
