import { app, type InvocationContext, type Timer } from "@azure/functions";
import { handlers } from "./lazyHandlers";

/** Daily: history rows older than the retention settings, and expired lease rows, are deleted (Table Storage has no time-to-live). */
export async function billingProfilePurgeTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  return handlers().runPurge(context);
}

// 02:30 UTC, off the hour the sync timer runs on by default.
app.timer("billingProfilePurgeTimer", { schedule: "0 30 2 * * *", handler: billingProfilePurgeTimer });
