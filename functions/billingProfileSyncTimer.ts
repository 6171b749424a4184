import { app, type InvocationContext, type Timer } from "@azure/functions";
import { handlers } from "./lazyHandlers";

/** Scheduled drift correction of every target (fanned out through the queue in Azure). */
export async function billingProfileSyncTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  return handlers().runTimer(context);
}

app.timer("billingProfileSyncTimer", { schedule: "%BILLING_SYNC_SCHEDULE%", handler: billingProfileSyncTimer });
