import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { contextLogger, getEngine } from "./worker";
export { afterInvocation } from "./worker";
import { errorResponse, parseSyncRequest, runSyncRequest, statusResponse } from "./httpApi";
import { parseTargetMessage } from "../stores";
import { requeueFor } from "./requeue";
import { reportSweepOverrun } from "./sweepReport";
import { inFlightRun, workerInterruption } from "./shutdown";

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
    const sweep = await engine.enqueueAll("timer");
    const { targets, spreadInSeconds, sweepId } = sweep;
    // Names only for a small fan-out: ten thousand of them are no log line.
    log.info(`Queued ${targets.length} target(s) for sync${spreadInSeconds > 0 ? `, spread over ${spreadInSeconds} s` : ""}${sweep.skipped.length ? `; ${sweep.skipped.length} still queued by an earlier sweep` : ""}`, {
      targets: targets.length <= 50 ? targets : undefined,
      count: targets.length,
      spreadInSeconds,
      sweepId,
      skipped: sweep.skipped.length,
    });
    reportSweepOverrun(sweep, log);
    return;
  }
  const interruption = workerInterruption();
  const runs = await inFlightRun(() => engine.syncAll({ trigger: "timer", log, interruption }));
  const failed = runs.filter((r) => r.outcome === "failed" || r.outcome === "conflict" || r.outcome === "invalid-desired");
  log.info(`Timer sync of ${runs.length} target(s) finished`, { outcomes: runs.map((r) => `${r.target}:${r.outcome}`) });
  if (failed.length > 0) {
    throw new Error(`Billing profile sync failed for ${failed.map((r) => `${r.target} (${r.error?.code}, correlation id ${r.correlationId})`).join(", ")}`);
  }
}

/** A queue run waits for the account's pace at most this long; beyond it the message comes back later. */
export const QUEUE_MAX_THROTTLE_WAIT_IN_MS = 10_000;

/**
 * One target from the fan-out queue. A failed or conflicting run throws, so the host
 * retries it (host.json maxDequeueCount) and finally moves it to the poison queue, which
 * status shows; other targets are separate messages and never wait on this one.
 *
 * Throttling is not a failure and is not slept through: a run that would wait longer
 * than QUEUE_MAX_THROTTLE_WAIT_IN_MS ends `deferred`, and the target goes back on the
 * queue behind the account's backlog (requeue.ts; the queue trigger cannot delay its own
 * message, so a new message is sent and this one completes). So does an `uncertain` run,
 * and a run that met another run's lease (visible when that lease ends).
 */
export async function runQueueMessage(message: unknown, context: InvocationContext): Promise<void> {
  const log = contextLogger(context);
  const parsed = parseTargetMessage(message);
  const { target, trigger, dryRun, sweepId } = parsed;
  const engine = getEngine();
  const interruption = workerInterruption();
  // A worker being stopped starts nothing: the message comes back for another instance.
  if (interruption.stopped) throw new Error(`The worker is stopping (${interruption.cause}); ${target} was not started and the host will deliver it again.`);
  // Departed customers are judged over the whole sweep (departures.ts).
  const sweep = sweepId && parsed.sweepSize ? engine.departures.stored({ id: sweepId, size: parsed.sweepSize }) : undefined;
  const run = await inFlightRun(() => engine.syncTarget({ target, trigger, dryRun, sweepId }, { log, maxThrottleWaitInMs: QUEUE_MAX_THROTTLE_WAIT_IN_MS, abortSignal: interruption.abortSignal, sweep }));
  const again = engine.queue ? await requeueFor(engine, parsed, run, log) : undefined;
  if (again) {
    const visibleAt = new Date(Date.now() + again.delayInSeconds * 1000).toISOString();
    if (!dryRun) await engine.queued.mark([{ target, sweepId: parsed.sweepId ?? "", visibleAt }]);
    await engine.queue!.enqueue([{ message: again.message, delayInSeconds: again.delayInSeconds }]);
    log.info(`${dryRun ? "Plan" : "Sync"} of ${target} ${again.why}: queued again, visible in ${again.delayInSeconds} s`, { target, deferrals: again.message.deferrals, requeues: again.message.requeues, delayInSeconds: again.delayInSeconds });
    return;
  }
  if (run.outcome === "failed" || run.outcome === "conflict" || run.outcome === "interrupted") {
    throw new Error(`Sync of ${target} ended ${run.outcome} (${run.error?.code}, correlation id ${run.correlationId}); the host will retry it.`);
  }
  // Done: the next sweep may queue this target again.
  if (!dryRun) await engine.queued.clear(target).catch((err: unknown) => log.warn(`Queued mark of ${target} not cleared; it goes stale on its own: ${String((err as Error).message)}`));
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
    const interruption = workerInterruption();
    return await inFlightRun(() => runSyncRequest(getEngine(), parsed.value, log, interruption));
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
