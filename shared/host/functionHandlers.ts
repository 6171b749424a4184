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
    const targets = await engine.enqueueAll("timer");
    log.info(`Queued ${targets.length} target(s) for sync`, { targets });
    return;
  }
  const runs = await engine.syncAll({ trigger: "timer", log });
  const failed = runs.filter((r) => r.outcome === "failed" || r.outcome === "conflict" || r.outcome === "invalid-desired");
  log.info(`Timer sync of ${runs.length} target(s) finished`, { outcomes: runs.map((r) => `${r.target}:${r.outcome}`) });
  if (failed.length > 0) {
    throw new Error(`Billing profile sync failed for ${failed.map((r) => `${r.target} (${r.error?.code}, correlation id ${r.correlationId})`).join(", ")}`);
  }
}

/**
 * One target from the fan-out queue. A failed or conflicting run throws, so the host
 * retries it (host.json maxDequeueCount) and finally moves it to the poison queue, which
 * status shows; other targets are separate messages and never wait on this one.
 */
export async function runQueueMessage(message: unknown, context: InvocationContext): Promise<void> {
  const log = contextLogger(context);
  const { target, trigger, dryRun } = parseTargetMessage(message);
  const run = await getEngine().syncTarget({ target, trigger, dryRun }, { log });
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

/** GET /api/status: per target, the latest run and what status shows. */
export async function handleStatus(context: InvocationContext): Promise<HttpResponseInit> {
  const log = contextLogger(context);
  try {
    return await statusResponse(getEngine(), log);
  } catch (err) {
    return errorResponse(err, log);
  }
}
