import { app, type InvocationContext } from "@azure/functions";
import { contextLogger, getEngine } from "../shared/host";
import { parseTargetMessage, TARGET_QUEUE } from "../shared/queue";

/**
 * One target from the fan-out queue. A failed or conflicting run throws, so the host
 * retries it (host.json maxDequeueCount) and finally moves it to the poison queue, which
 * status shows; other targets are separate messages and never wait on this one.
 */
export async function billingProfileSyncQueue(message: unknown, context: InvocationContext): Promise<void> {
  const log = contextLogger(context);
  const { target, trigger } = parseTargetMessage(message);
  const run = await getEngine().syncTarget({ target, trigger }, { log });
  if (run.outcome === "failed" || run.outcome === "conflict") {
    throw new Error(`Sync of ${target} ended ${run.outcome} (${run.error?.code}, correlation id ${run.correlationId}); the host will retry it.`);
  }
}

app.storageQueue("billingProfileSyncQueue", { queueName: TARGET_QUEUE, connection: "AzureWebJobsStorage", handler: billingProfileSyncQueue });
