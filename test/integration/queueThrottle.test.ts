import { InvocationContext, type Timer } from "@azure/functions";
import { QueueServiceClient } from "@azure/storage-queue";
import { billingProfileSyncQueue } from "../../functions/billingProfileSyncQueue";
import { billingProfileSyncTimer } from "../../functions/billingProfileSyncTimer";
import { TARGET_QUEUE } from "../../shared/stores/targetQueue";
import { fanOutTargetsPerMinute } from "../../shared/engine/budget";
import { historyRowOf, historyRows, startHarness, type Harness } from "../support/harness";
import { drainQueue } from "../support/queueHost";

/**
 * Throttling in Azure's shape: the queue trigger does not sleep through a Retry-After; the
 * run ends `deferred` and the target goes back on the queue, visible later. The timer
 * spreads a fan-out larger than a minute of the account's calls. Azurite's queue service
 * and the simulator; the handlers are called as the host calls them.
 */
let h: Harness;
const logged: string[] = [];
const context = () => new InvocationContext({ functionName: "test", invocationId: "inv", logHandler: (level, ...args) => void logged.push(`${level} ${args.join(" ")}`) });
const timer = { isPastDue: false, scheduleStatus: { last: "", next: "", lastUpdated: "" } } as Timer;
const queue = () => QueueServiceClient.fromConnectionString(h.storage.connectionString).getQueueClient(TARGET_QUEUE);

beforeAll(async () => {
  h = await startHarness({ customers: 4 }, { queue: true });
  h.useProcessEnv({ AzureWebJobsStorage: h.storage.connectionString });
});
afterAll(() => h.stop());

const drain = () => drainQueue(h);

describe("a throttled queue run", () => {
  it("is deferred, not slept through: the target goes back on the queue for Retry-After, and the invocation succeeds", async () => {
    await drain();
    const id = h.sim.customers().id(0);
    await h.setDesired(`customer-${id}`, { CustomerId: id, FirstName: "Robin" });
    h.sim.inject({ method: "GET", on: "customer", fault: { kind: "throttle", retryAfterSeconds: 45 } });
    const started = Date.now();
    await billingProfileSyncQueue({ target: `customer-${id}`, trigger: "timer" }, context());
    expect(Date.now() - started).toBeLessThan(5_000);
    const [row] = await historyRows(h, `customer-${id}`);
    expect(row).toMatchObject({ Outcome: "deferred", ErrorCode: "Throttled", ErrorStatus: 429, PutMade: false });
    // Queued again, and not visible yet: it comes back after the 45 s.
    expect((await queue().getProperties()).approximateMessagesCount).toBe(1);
    expect((await queue().peekMessages()).peekedMessageItems).toHaveLength(0);
    expect(logged.join("\n")).toMatch(new RegExp(`Sync of customer-${id} throttled \\(0 message\\(s\\) ahead at \\d+ calls a minute\\): queued again, visible in 45 s`));
    expect(h.sim.count("PUT")).toBe(0);
  });

  it("while the account is paused for a Retry-After, other targets of this process are deferred without a call", async () => {
    await drain();
    h.sim.resetRequests();
    const id = h.sim.customers().id(1);
    await h.setDesired(`customer-${id}`, { CustomerId: id, FirstName: "Robin" });
    await billingProfileSyncQueue({ target: `customer-${id}`, trigger: "timer" }, context());
    expect(h.sim.count()).toBe(0);
    const [row] = await historyRows(h, `customer-${id}`);
    expect(row).toMatchObject({ Outcome: "deferred", ErrorCode: "Throttled", RequestIds: "[]" });
    expect((await queue().getProperties()).approximateMessagesCount).toBe(1);
  });

  it("a message deferred for longer than the deferral limit completes with a warning, and is never poisoned", async () => {
    await drain();
    const id = h.sim.customers().id(2);
    await h.setDesired(`customer-${id}`, { CustomerId: id });
    logged.length = 0;
    const firstDeferredAt = new Date(Date.now() - 25 * 3_600_000).toISOString();
    await billingProfileSyncQueue({ target: `customer-${id}`, trigger: "timer", deferrals: 400, firstDeferredAt }, context());
    expect(logged.join("\n")).toMatch(new RegExp(`Sync of customer-${id} deferred since ${firstDeferredAt}, past 24 h: not queued again; the next sweep queues it`));
    expect((await queue().getProperties()).approximateMessagesCount).toBe(0);
  });
});

describe("the timer's fan-out", () => {
  it("spreads more targets than a minute of calls over the time they need: the first visible now, the rest later", async () => {
    // A fresh process engine with a budget of 6 calls a minute (1.1 a target): 9 targets need 99 s.
    h.useProcessEnv({ AzureWebJobsStorage: h.storage.connectionString, PARTNER_CENTER_CALLS_PER_MINUTE: "6" });
    await drain();
    const targets = (await h.engine().listTargets()).length;
    for (let i = targets; i < 9; i++) await h.setDesired(`spread-${i}`, { PurchaseOrderNumber: "9888" });
    const count = (await h.engine().listTargets()).length;
    logged.length = 0;
    await billingProfileSyncTimer(timer, context());
    expect((await queue().getProperties()).approximateMessagesCount).toBe(count);
    const visible = (await queue().peekMessages({ numberOfMessages: 32 })).peekedMessageItems;
    expect(visible.length).toBeGreaterThanOrEqual(1);
    expect(visible.length).toBeLessThan(count);
    const spread = Math.floor(((count - 1) * (count / fanOutTargetsPerMinute(6)) * 60_000) / count / 1000);
    expect(logged.join("\n")).toContain(`Queued ${count} target(s) for sync, spread over ${spread} s`);
  });

  it("a fan-out within a minute of calls is spread too, at the budget's pace: the first few visible now", async () => {
    h.useProcessEnv({ AzureWebJobsStorage: h.storage.connectionString, PARTNER_CENTER_CALLS_PER_MINUTE: "auto" });
    await drain();
    logged.length = 0;
    await billingProfileSyncTimer(timer, context());
    const count = (await h.engine().listTargets()).length;
    // 250 a minute, 1.1 calls a target: a message every 0.264 s, in whole seconds.
    const perSecond = fanOutTargetsPerMinute(250) / 60;
    expect((await queue().peekMessages({ numberOfMessages: 32 })).peekedMessageItems).toHaveLength(Math.ceil(perSecond));
    expect(logged.join("\n")).toContain(`spread over ${Math.floor((count - 1) / perSecond)} s`);
  });
});

describe("a short Retry-After in a queue run", () => {
  it("is waited out in the run (under the queue's longest wait) and the run corrects", async () => {
    h.useProcessEnv({ AzureWebJobsStorage: h.storage.connectionString, PARTNER_CENTER_CALLS_PER_MINUTE: "auto", BILLING_SYNC_SCHEDULE: "0 */5 * * * *" });
    await drain();
    const id = h.sim.customers().id(3);
    await h.setDesired(`customer-${id}`, { CustomerId: id, FirstName: "Robin" });
    h.sim.inject({ method: "GET", on: "customer", fault: { kind: "throttle", retryAfterSeconds: 1 } });
    await billingProfileSyncQueue({ target: `customer-${id}`, trigger: "timer" }, context());
    const rows = await historyRows(h, `customer-${id}`);
    expect(rows[0]).toMatchObject({ Outcome: "corrected" });
    expect((await queue().getProperties()).approximateMessagesCount).toBe(0);
    expect(await historyRowOf(h, { target: `customer-${id}`, runId: rows[0].RunId as string })).toBeDefined();
  });
});
