import { app, type InvocationContext } from "@azure/functions";
import { handlers } from "./lazyHandlers";

/** One target from the fan-out queue; throws on failure so the host retries, then poisons. */
export async function billingProfileSyncQueue(message: unknown, context: InvocationContext): Promise<void> {
  return handlers().runQueueMessage(message, context);
}

// The queue name is a literal here so this file loads nothing from shared/ at start-up.
app.storageQueue("billingProfileSyncQueue", { queueName: "billing-sync-targets", connection: "AzureWebJobsStorage", handler: billingProfileSyncQueue });
