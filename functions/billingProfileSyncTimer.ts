import { app, type InvocationContext, type Timer } from "@azure/functions";
import { contextLogger, getEngine } from "../shared/host";

/**
 * Scheduled drift correction of every target. With the fan-out queue (always in Azure)
 * it only queues one message per target, so the platform scales out and each target
 * retries on its own; without it (local) the targets run here, and the invocation fails
 * when one did, so the host shows it.
 */
export async function billingProfileSyncTimer(_timer: Timer, context: InvocationContext): Promise<void> {
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

app.timer("billingProfileSyncTimer", { schedule: "%BILLING_SYNC_SCHEDULE%", handler: billingProfileSyncTimer });
