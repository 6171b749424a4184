import { app, type InvocationContext, type Timer } from "@azure/functions";
import { contextLogger, getEngine } from "../shared/host";

/** Scheduled drift correction of every target. Fails the invocation when a target failed, so the host shows it. */
export async function billingProfileSyncTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  const log = contextLogger(context);
  const runs = await getEngine().syncAll({ trigger: "timer", log });
  const failed = runs.filter((r) => r.error !== null);
  log.info(`Timer sync of ${runs.length} target(s) finished`, { outcomes: runs.map((r) => `${r.target}:${r.outcome}`) });
  if (failed.length > 0) {
    throw new Error(`Billing profile sync failed for ${failed.map((r) => `${r.target} (${r.error?.code}, correlation id ${r.correlationId})`).join(", ")}`);
  }
}

app.timer("billingProfileSyncTimer", { schedule: "%BILLING_SYNC_SCHEDULE%", handler: billingProfileSyncTimer });
