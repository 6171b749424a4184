import type { InvocationContext } from "@azure/functions";
import { TableClient } from "@azure/data-tables";
import { QueueServiceClient } from "@azure/storage-queue";
import { TABLES } from "../../shared/stores/tables";
import { TARGET_QUEUE } from "../../shared/stores/targetQueue";
import type { Harness } from "./harness";

/**
 * The Functions host's queue trigger, as far as these tests need it, over Azurite's queue:
 * it receives a batch (batchSize) and fetches the next when the messages in flight fall to
 * the new-batch threshold; a message is hidden while it runs; a handler that throws makes it
 * visible again after visibilityTimeout; past maxDequeueCount it goes to `<queue>-poison`.
 * It calls the real handler with the decoded message, as the host does.
 */
export interface QueueHostOptions {
  connectionString: string;
  queueName: string;
  batchSize: number;
  newBatchThreshold: number;
  maxDequeueCount: number;
  visibilityTimeoutInSeconds: number;
  handler: (message: unknown, context: InvocationContext) => Promise<void>;
  context: () => InvocationContext;
}

export interface QueueHostStats {
  invocations: number;
  failed: number;
  poisoned: number;
}

export async function runQueueHost(options: QueueHostOptions, until: { idleForMs: number; deadlineMs: number }): Promise<QueueHostStats> {
  const service = QueueServiceClient.fromConnectionString(options.connectionString);
  const queue = service.getQueueClient(options.queueName);
  const poison = service.getQueueClient(`${options.queueName}-poison`);
  const stats: QueueHostStats = { invocations: 0, failed: 0, poisoned: 0 };
  const inFlight = new Set<Promise<void>>();
  const deadline = Date.now() + until.deadlineMs;
  let idleSince = Date.now();
  while (Date.now() < deadline) {
    if (inFlight.size <= options.newBatchThreshold) {
      const received = (await queue.receiveMessages({ numberOfMessages: options.batchSize, visibilityTimeout: 600 })).receivedMessageItems;
      for (const m of received) {
        const run = (async () => {
          if (m.dequeueCount > options.maxDequeueCount) {
            await poison.createIfNotExists();
            await poison.sendMessage(m.messageText);
            await queue.deleteMessage(m.messageId, m.popReceipt);
            stats.poisoned++;
            return;
          }
          stats.invocations++;
          try {
            await options.handler(JSON.parse(Buffer.from(m.messageText, "base64").toString("utf8")), options.context());
            await queue.deleteMessage(m.messageId, m.popReceipt);
          } catch {
            stats.failed++;
            await queue.updateMessage(m.messageId, m.popReceipt, undefined, options.visibilityTimeoutInSeconds);
          }
        })();
        inFlight.add(run);
        void run.finally(() => inFlight.delete(run));
      }
      if (received.length > 0) idleSince = Date.now();
    }
    if (inFlight.size === 0 && Date.now() - idleSince >= until.idleForMs) {
      if (((await queue.getProperties()).approximateMessagesCount ?? 0) === 0) break;
    }
    await new Promise((r) => setTimeout(r, inFlight.size > 0 ? 20 : 200));
  }
  await Promise.all(inFlight);
  return stats;
}

/**
 * An empty fan-out queue, and no mark of an earlier sweep (the `queued` rows of
 * BillingProfileLeases); `leases: "all"` removes the run leases too.
 */
export async function drainQueue(h: Harness, options: { leases?: "queued" | "all" } = {}): Promise<void> {
  const queue = QueueServiceClient.fromConnectionString(h.storage.connectionString).getQueueClient(TARGET_QUEUE);
  await queue.createIfNotExists();
  await queue.clearMessages();
  const leases = TableClient.fromConnectionString(h.storage.connectionString, TABLES.leases, { allowInsecureConnection: true });
  for (const row of await h.rawRows(TABLES.leases)) {
    if (options.leases === "all" || row.rowKey === "queued") await leases.deleteEntity(String(row.partitionKey), String(row.rowKey));
  }
}
