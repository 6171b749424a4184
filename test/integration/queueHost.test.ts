import { InvocationContext, type Timer } from "@azure/functions";
import { QueueServiceClient } from "@azure/storage-queue";
import { billingProfileSyncQueue } from "../../functions/billingProfileSyncQueue";
import { billingProfileSyncTimer } from "../../functions/billingProfileSyncTimer";
import { loadSettings } from "../../shared/config";
import { getEngine } from "../../shared/host/worker";
import { LeaseStore, TableFactory } from "../../shared/stores";
import { TABLES } from "../../shared/stores/tables";
import { encodeMessage, POISON_QUEUE, TARGET_QUEUE } from "../../shared/stores/targetQueue";
import { historyRows, startHarness, type Harness } from "../support/harness";
import { drainQueue, runQueueHost } from "../support/queueHost";

/**
 * The fan-out under the host's rules (test/support/queueHost.ts: batch 16, new batch at 8,
 * maxDequeueCount 3, visibility) driving the real handlers, on Azurite and the simulator.
 */
let h: Harness;
const logged: string[] = [];
const context = () => new InvocationContext({ functionName: "test", invocationId: "inv", logHandler: (level, ...args) => void logged.push(`${level} ${args.join(" ")}`) });
const timer = { isPastDue: false, scheduleStatus: { last: "", next: "", lastUpdated: "" } } as Timer;
const service = () => QueueServiceClient.fromConnectionString(h.storage.connectionString);
const queue = () => service().getQueueClient(TARGET_QUEUE);

beforeAll(async () => {
  h = await startHarness({}, { queue: true });
  h.useProcessEnv({ AzureWebJobsStorage: h.storage.connectionString });
});
afterAll(() => h.stop());

const drain = () => drainQueue(h, { leases: "all" });

const host = () => ({
  connectionString: h.storage.connectionString,
  queueName: TARGET_QUEUE,
  batchSize: 16,
  newBatchThreshold: 8,
  maxDequeueCount: 3,
  visibilityTimeoutInSeconds: 1,
  handler: billingProfileSyncQueue,
  context,
});

describe("a queue run that meets a held lease", () => {
  it("re-queues its target, visible when the lease ends; status counts it in-progress, not never-run; then it runs", async () => {
    await drain();
    const target = "qh-held";
    await h.setDesired(target, { PurchaseOrderNumber: "PO-QH" });
    // A crashed holder's lease, 2 s long.
    await new LeaseStore(new TableFactory(loadSettings(h.env).storage)).acquire(target, "crashed-run", { durationInMs: 2_000, trigger: "timer" });
    logged.length = 0;
    await billingProfileSyncQueue({ target, trigger: "timer" }, context());
    expect(logged.join("\n")).toMatch(/Sync of qh-held another run holds its lease: queued again, visible in [12] s/);
    expect((await queue().getProperties()).approximateMessagesCount).toBe(1);
    expect((await queue().peekMessages()).peekedMessageItems).toHaveLength(0);
    // Before: the message completed and the target waited for the next tick, shown as never-run.
    expect((await getEngine().statusSummary()).byOutcome).toEqual({ "in-progress": 1 });

    const stats = await runQueueHost(host(), { idleForMs: 500, deadlineMs: 20_000 });
    expect(stats).toMatchObject({ failed: 0, poisoned: 0 });
    const outcomes = (await historyRows(h, target)).map((r) => r.Outcome);
    expect(outcomes).toContain("corrected");
    expect(outcomes.filter((o) => o === "in-progress").length).toBeLessThanOrEqual(1 + 3);
    expect((await getEngine().statusSummary()).byOutcome).toEqual({ corrected: 1 });
    // Done: no queued mark left, the next sweep queues it again.
    expect((await h.rawRows(TABLES.leases)).filter((r) => r.partitionKey === target)).toEqual([]);
  });
});

describe("one sweep at a time", () => {
  it("two timer ticks over a backlog leave one message per target, and a sweep that cannot finish in its interval says so", async () => {
    // A budget of 6 calls a minute (6/1.1 targets: a GET each, a PUT now and then), a tick every minute: 10 targets need 110 s (111, rounded up).
    h.useProcessEnv({ AzureWebJobsStorage: h.storage.connectionString, PARTNER_CENTER_CALLS_PER_MINUTE: "6", BILLING_SYNC_SCHEDULE: "0 * * * * *" });
    await drain();
    for (let i = (await getEngine().listTargets()).length; i < 10; i++) await h.setDesired(`qh-backlog-${i}`, { PurchaseOrderNumber: "9888" });
    logged.length = 0;
    await billingProfileSyncTimer(timer, context());
    expect((await queue().getProperties()).approximateMessagesCount).toBe(10);
    expect(logged.join("\n")).toMatch(/Sweep \S+: 10 target\(s\) need 111 s at the account's rate, more than the schedule's 60 s/);
    await billingProfileSyncTimer(timer, context());
    // Before: 20 messages for 10 targets.
    expect((await queue().getProperties()).approximateMessagesCount).toBe(10);
    expect(logged.join("\n")).toContain("Queued 0 target(s) for sync; 10 still queued by an earlier sweep");
    // The spread is the schedule's interval (60 s at most), not what is left until the next tick.
    const visible = (await queue().peekMessages({ numberOfMessages: 32 })).peekedMessageItems;
    expect(visible.length).toBeGreaterThanOrEqual(1);
    expect(visible.length).toBeLessThan(10);
    h.useProcessEnv({ AzureWebJobsStorage: h.storage.connectionString, PARTNER_CENTER_CALLS_PER_MINUTE: "auto", BILLING_SYNC_SCHEDULE: "0 */5 * * * *" });
  });
});

describe("the poison queue", () => {
  it("is read in full: 40 poisoned targets show as 40, and the 40th target's status shows its message", async () => {
    const poison = service().getQueueClient(POISON_QUEUE);
    await poison.createIfNotExists();
    await poison.clearMessages();
    for (let i = 1; i <= 40; i++) await poison.sendMessage(encodeMessage({ target: `qh-poison-${i}`, trigger: "timer", enqueuedAt: "" }));
    await h.setDesired("qh-poison-40", { PurchaseOrderNumber: "9888" });
    const engine = getEngine();
    // Before: one peek, 32 at most.
    expect((await engine.statusSummary()).poison).toBe(40);
    expect((await engine.targetStatus("qh-poison-40")).poison).toHaveLength(1);
    await poison.clearMessages();
  });
});

describe("a queue run whose PUT answer was lost", () => {
  // Last in this file: the 429 pauses the process engine's account for 300 s.
  it("ends uncertain (not deferred), keeps the profile before, and its target is queued again for the next run to settle", async () => {
    await drain();
    h.resetSimulator();
    const target = "qh-lost";
    await h.setDesired(target, { PurchaseOrderNumber: "PO-QUEUE" });
    h.sim.inject({ method: "PUT", afterApply: true, fault: { kind: "reset" } });
    h.sim.inject({ method: "PUT", fault: { kind: "throttle", retryAfterSeconds: 300 } });
    logged.length = 0;
    await billingProfileSyncQueue({ target, trigger: "timer" }, context());
    const [row] = await historyRows(h, target);
    // Before: deferred, "nothing was written", with no profile before.
    expect(row).toMatchObject({ Outcome: "uncertain", ErrorCode: "Throttled", PutMade: false });
    expect(JSON.parse(String(row.ProfileBefore))).toMatchObject({ purchaseOrderNumber: "9888" });
    expect(h.sim.getProfile().purchaseOrderNumber).toBe("PO-QUEUE");
    expect((await queue().getProperties()).approximateMessagesCount).toBe(1);
    expect(logged.join("\n")).toMatch(/Sync of qh-lost throttled .*: queued again, visible in (29\d|30\d) s/);
  });
});
