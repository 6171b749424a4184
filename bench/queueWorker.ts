import { InvocationContext } from "@azure/functions";
import { QueueServiceClient } from "@azure/storage-queue";
import { runQueueMessage } from "../shared/host";
import { TARGET_QUEUE } from "../shared/stores";

/**
 * One Function App instance's queue trigger, as the host runs it (host.json: batches of 16,
 * a 30 s visibility timeout, base64 messages): receives, runs each message through the
 * real handler (a fresh engine per process, its own rate controller at the budget), and
 * deletes it when the handler succeeds. Says "ready" on stderr once it polls (a warm
 * instance: the timer fires after), and exits when the queue is empty after it ran something
 * (spread messages not yet visible count as there). Prints how many messages it ran, as JSON.
 */
const BATCH = 16;

async function main(): Promise<void> {
  const queue = QueueServiceClient.fromConnectionString(process.env.AzureWebJobsStorage!).getQueueClient(TARGET_QUEUE);
  const context = () => new InvocationContext({ functionName: "billingProfileSyncQueue", invocationId: "bench", logHandler: () => undefined });
  let ran = 0;
  let failed = 0;
  await runQueueMessage({ target: "warm-up" }, context()).catch(() => undefined); // loads the engine, as a warm instance has
  process.stderr.write("ready\n");
  for (;;) {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: BATCH, visibilityTimeout: 30 });
    if (receivedMessageItems.length === 0) {
      if (ran + failed > 0 && (await queue.getProperties()).approximateMessagesCount === 0) break;
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    await Promise.all(
      receivedMessageItems.map(async (m) => {
        try {
          await runQueueMessage(JSON.parse(Buffer.from(m.messageText, "base64").toString("utf8")), context());
          await queue.deleteMessage(m.messageId, m.popReceipt);
          ran++;
        } catch {
          failed++; // the host would retry it after the visibility timeout
        }
      }),
    );
  }
  process.stdout.write(JSON.stringify({ ran, failed }));
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
