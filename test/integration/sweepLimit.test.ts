import { HttpRequest, InvocationContext, type Timer } from "@azure/functions";
import { QueueServiceClient } from "@azure/storage-queue";
import { runCli } from "../../cli/main";
import { renderRun } from "../../cli/views";
import { billingProfileSyncQueue } from "../../functions/billingProfileSyncQueue";
import { billingProfileSyncTimer } from "../../functions/billingProfileSyncTimer";
import { syncHttp } from "../../functions/syncHttp";
import { mapWithConcurrency } from "../../shared/core/pool";
import { streamLogger } from "../../shared/core/logger";
import { Engine } from "../../shared/engine/engine";
import type { FinishedRun } from "../../shared/engine/run";
import { MASS_DRIFT_HELD_EVENT } from "../../shared/engine/sweepGate";
import { loadSettings } from "../../shared/config/settings";
import { ResponseCache } from "../../shared/partnerCenter/responseCache";
import { TABLES, TableFactory } from "../../shared/stores/tables";
import { SweepStore } from "../../shared/stores/sweepStore";
import { reconcile } from "../../shared/engine/reconcile";
import { parseStorage } from "../../shared/config/settings";
import { parseTargetMessage, TARGET_QUEUE } from "../../shared/stores/targetQueue";
import { describeRun } from "../../shared/telemetry/records";
import { fastRetry, historyRows, startHarness, type Harness } from "../support/harness";

/**
 * The sweep's PUT limit at enforcement time (issue 19, item 4): one timer firing with its
 * queue runs makes at most BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP PUTs, counted in one
 * BillingProfileSweeps row by every instance. Azurite (tables and queue) and the
 * simulator, which counts the PUTs it received; the handlers are called as the host calls them.
 */
let h: Harness;
const TARGETS = 100;
const LIMIT = 20;
const CONCURRENT = 50;
const logged: string[] = [];
const context = () => new InvocationContext({ functionName: "test", invocationId: "inv", logHandler: (level, ...args) => void logged.push(`${level} ${args.join(" ")}`) });
const timer = { isPastDue: false, scheduleStatus: { last: "", next: "", lastUpdated: "" } } as Timer;
const queue = () => QueueServiceClient.fromConnectionString(h.storage.connectionString).getQueueClient(TARGET_QUEUE);
const target = (i: number) => `customer-${h.sim.customers().id(i)}`;
const firstName = (i: number) => String(h.sim.customers().profile(i).firstName ?? "");

async function drift(tag: string, indexes: number[]): Promise<void> {
  await mapWithConcurrency(indexes, 16, (i) => h.setDesired(target(i), { CustomerId: h.sim.customers().id(i), FirstName: `${tag}${i}` }));
}

/** An engine of its own: another instance of the app, with its own limit setting. */
function instance(extra: Record<string, string> = {}, onRunFinished?: (run: FinishedRun) => void): Engine {
  return new Engine(loadSettings({ ...h.env, ...extra }), { log: streamLogger((l) => h.output.push(l)), retry: fastRetry([]), responseCache: new ResponseCache(), onRunFinished });
}

async function receiveAll(count: number): Promise<Record<string, unknown>[]> {
  const all: Record<string, unknown>[] = [];
  while (all.length < count) {
    const got = (await queue().receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 })).receivedMessageItems;
    if (got.length === 0) break;
    // The host hands the decoded JSON to the function: do the same.
    all.push(...got.map((m) => JSON.parse(Buffer.from(m.messageText, "base64").toString("utf8")) as Record<string, unknown>));
  }
  return all;
}

async function sweepRow(sweepId: string): Promise<Record<string, unknown> | undefined> {
  return (await h.rawRows(TABLES.sweeps)).find((r) => r.partitionKey === sweepId);
}

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: { ...h.env } });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  h = await startHarness({ customers: TARGETS }, { queue: true });
  h.env.BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP = String(LIMIT);
  // The pace out of the way: every message of a fan-out visible at once (the spread is queueHost.test.ts's).
  h.env.PARTNER_CENTER_CALLS_PER_MINUTE = "600000";
  h.useProcessEnv({ AzureWebJobsStorage: h.storage.connectionString, PARTNER_CENTER_CALLS_PER_MINUTE: "600000" });
  await queue().createIfNotExists();
}, 60_000);
afterAll(() => h.stop());

let sweepId = "";

describe("a timer sweep of 100 drifted targets with a limit of 20", () => {
  it(`makes exactly ${LIMIT} PUTs under ${CONCURRENT} concurrent queue runs on two instances; the other ${TARGETS - LIMIT} end held, with one MassDriftHeld`, async () => {
    await drift("Sweep", Array.from({ length: TARGETS }, (_, i) => i));
    h.sim.resetRequests();
    await billingProfileSyncTimer(timer, context());
    const messages = await receiveAll(TARGETS);
    expect(messages).toHaveLength(TARGETS);
    // The sweep id travels in every message of the firing, and nothing else shares it.
    sweepId = String(messages[0].sweepId);
    expect(sweepId).toMatch(/^\d{8}T\d{6}Z-timer-[0-9a-f]{8}$/);
    expect(messages.every((m) => m.sweepId === sweepId)).toBe(true);
    expect(await sweepRow(sweepId)).toMatchObject({ PutLimit: LIMIT, PutsMade: 0, Targets: TARGETS });

    // Half the messages through the Functions handler (this worker's engine), half through a second instance.
    const other = instance();
    const started = Date.now();
    await mapWithConcurrency(messages, CONCURRENT, async (m, i) => {
      if (i % 2 === 0) await billingProfileSyncQueue(m, context());
      else {
        const parsed = parseTargetMessage(m);
        await other.syncTarget({ target: parsed.target, trigger: "queue", sweepId: parsed.sweepId });
      }
    });
    const seconds = (Date.now() - started) / 1000;

    const puts = h.sim.count("PUT");
    const rows = (await historyRows(h)).filter((r) => r.SweepId === sweepId);
    const held = rows.filter((r) => r.Outcome === "held");
    // The figures of the done-when: printed for the closing note.
    console.log(`sweep limit: ${TARGETS} drifted targets, limit ${LIMIT}, ${CONCURRENT} concurrent runs on 2 instances: ${puts} PUTs, ${held.length} held, ${seconds.toFixed(1)} s`);
    expect(puts).toBe(LIMIT);
    expect(rows).toHaveLength(TARGETS);
    expect(rows.filter((r) => r.Outcome === "corrected")).toHaveLength(LIMIT);
    expect(held).toHaveLength(TARGETS - LIMIT);
    for (const row of held) expect(row).toMatchObject({ HeldReason: "sweep-limit", PutMade: false, ChangedFields: "FirstName" });
    expect(await sweepRow(sweepId)).toMatchObject({ PutLimit: LIMIT, PutsMade: LIMIT, Alerted: true });
    // Held: nothing written at Partner Center.
    const corrected = Array.from({ length: TARGETS }, (_, i) => i).filter((i) => firstName(i) === `Sweep${i}`);
    expect(corrected).toHaveLength(LIMIT);
    // One alert for the sweep, not one per target.
    const alerts = [...logged, ...h.output].filter((l) => l.includes("mass drift:") && l.includes(sweepId));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toContain(`mass drift: ${LIMIT + 1} targets differ from their desired state (at least: sweep ${sweepId} made its limit of ${LIMIT} PUTs`);
  }, 120_000);

  it("approve --sweep lets the held targets be corrected on their next run, though the next sweep has its own limit", async () => {
    const approved = await cli("approve", "--sweep", sweepId, "--reason", "new billing contact for every customer", "--json");
    expect(approved.code).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ sweeps: [{ sweepId, putLimit: LIMIT, putsMade: LIMIT }], reason: "new billing contact for every customer" });
    expect(JSON.parse(String((await sweepRow(sweepId))?.Approvals))).toEqual([expect.objectContaining({ reason: "new billing contact for every customer" })]);
    h.sim.resetRequests();
    const runs = await instance().syncAll({ trigger: "cli" });
    expect(h.sim.count("PUT")).toBe(TARGETS - LIMIT);
    expect(runs.filter((r) => r.outcome === "corrected")).toHaveLength(TARGETS - LIMIT);
    expect(runs.filter((r) => r.outcome === "held")).toHaveLength(0);
    for (let i = 0; i < TARGETS; i++) expect(firstName(i)).toBe(`Sweep${i}`);
  }, 120_000);
});

describe("held, one target at a time", () => {
  it("the first held run raises MassDriftHeld (telemetry); approve --target lets that target through and no other", async () => {
    const finished: FinishedRun[] = [];
    const one = instance({ BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP: "1" }, (run) => void finished.push(run));
    await drift("One", [0, 1, 2]);
    const sweep = await one.startSweep("timer", 3);
    const run = (i: number) => one.syncTarget({ target: target(i), trigger: "queue", sweepId: sweep });
    expect((await run(0)).outcome).toBe("corrected");
    const held1 = await run(1);
    expect(held1).toMatchObject({ outcome: "held", heldReason: "sweep-limit", sweepId: sweep, changes: [expect.objectContaining({ field: "FirstName" })] });
    expect((await run(2)).outcome).toBe("held");
    expect(renderRun(held1, { color: false })).toContain(`Held: 1 field to change, nothing written: sweep ${sweep} reached its PUT limit. \`billing-sync approve --sweep ${sweep}\``);
    const events = finished.flatMap((f) => describeRun(f, "http://x").events).filter((e) => e.name === MASS_DRIFT_HELD_EVENT);
    expect(events).toEqual([{ name: MASS_DRIFT_HELD_EVENT, dimensions: expect.objectContaining({ sweepId: sweep, putLimit: "1", targetsDiffering: "2", message: expect.stringMatching(/^mass drift: 2 targets differ from their desired state/) }) }]);

    const approved = await cli("approve", "--target", target(1));
    expect(approved).toMatchObject({ code: 0, stdout: expect.stringContaining(`Approved ${target(1)}, held by sweep ${sweep}`) });
    expect((await run(1)).outcome).toBe("corrected");
    expect((await run(2)).outcome).toBe("held");
    expect([firstName(0), firstName(1), firstName(2)]).toEqual(["One0", "One1", `Sweep2`]);
    // A targeted run is part of no sweep: no limit.
    expect((await one.syncTarget({ target: target(2), trigger: "cli" })).outcome).toBe("corrected");
  });

  it("a slot whose PUT is not made is given back: only PUTs that went out count", async () => {
    const one = instance({ BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP: "1" });
    // The service keeps company names in capitals: the second run finds nothing new to send.
    h.sim.configure({ rewrite: (p) => void (typeof p.companyName === "string" && (p.companyName = p.companyName.toUpperCase())) });
    try {
      await h.setDesired(target(5), { CustomerId: h.sim.customers().id(5), CompanyName: "lower case ltd" });
      expect((await one.syncTarget({ target: target(5), trigger: "cli" })).outcome).toBe("not-converged");
      const sweep = await one.startSweep("timer", 2);
      h.sim.resetRequests();
      expect((await one.syncTarget({ target: target(5), trigger: "queue", sweepId: sweep })).outcome).toBe("not-converged");
      expect(h.sim.count("PUT")).toBe(0);
      expect(await sweepRow(sweep)).toMatchObject({ PutsMade: 0, Alerted: false });
      await drift("Slot", [6]);
      expect((await one.syncTarget({ target: target(6), trigger: "queue", sweepId: sweep })).outcome).toBe("corrected");
    } finally {
      h.sim.configure({ rewrite: undefined });
      await h.setDesired(target(5), { CustomerId: h.sim.customers().id(5), FirstName: firstName(5) });
    }
  });

  it("an untargeted CLI sync is a sweep: past its limit it exits 2 and says held; approve --all clears every held sweep", async () => {
    // A smaller fleet for the two whole syncs of this test: 13 customers.
    const admin = instance();
    await mapWithConcurrency(Array.from({ length: TARGETS - 13 }, (_, i) => i + 13), 16, (i) => admin.desired.delete(target(i)));
    await drift("Cli", [10, 11, 12]);
    const env = { BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP: "2" };
    let stdout = "";
    const code = await runCli(["sync", "--json"], { stdout: (t) => void (stdout += t), stderr: () => {}, env: { ...h.env, ...env } });
    const runs = JSON.parse(stdout).runs as { outcome: string; sweepId?: string }[];
    expect(code).toBe(2);
    expect(runs.filter((r) => r.outcome === "held")).toHaveLength(1);
    expect(runs.filter((r) => r.outcome === "corrected")).toHaveLength(2);
    expect(new Set(runs.map((r) => r.sweepId)).size).toBe(1);
    const all = await cli("approve", "--all", "--json");
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout).sweeps.map((s: { sweepId: string }) => s.sweepId)).toContain(runs[0].sweepId);
    expect((await cli("approve", "--all")).stdout).toBe("No sweep has held targets waiting for approval.\n");
    const again = await runCli(["sync"], { stdout: () => {}, stderr: () => {}, env: { ...h.env, ...env } });
    expect(again).toBe(0);
  });

  it("without the sweep's row (storage out of reach) no PUT goes out: the run fails naming the table", async () => {
    await drift("Dark", [7]);
    const engine = instance();
    const dark = new TableFactory(parseStorage({ BILLING_SYNC_STORAGE: h.storage.connectionString.replace(/TableEndpoint=http:\/\/127\.0\.0\.1:\d+/, "TableEndpoint=http://127.0.0.1:9") }), { maxRetries: 0 });
    h.sim.resetRequests();
    const run = await reconcile({ target: target(7), trigger: "queue", sweepId: "20261207T030000Z-timer-00000000" }, { ...engine.deps, sweeps: new SweepStore(dark) });
    expect(run).toMatchObject({ outcome: "failed", error: { code: "StorageError", message: expect.stringContaining("BillingProfileSweeps") } });
    expect(h.sim.count("PUT")).toBe(0);
    expect(firstName(7)).not.toBe("Dark7");
  });

  it("approve refuses an unknown sweep, a target with nothing held, and no or two scopes", async () => {
    expect(await cli("approve", "--sweep", "no-such-sweep")).toMatchObject({ code: 1, stderr: expect.stringContaining('There is no sweep "no-such-sweep"') });
    expect(await cli("approve", "--target", target(40))).toMatchObject({ code: 1, stderr: expect.stringContaining("has no held run to approve") });
    expect(await cli("approve")).toMatchObject({ code: 1, stderr: expect.stringContaining("exactly one of --sweep") });
    expect(await cli("approve", "--all", "--target", target(1))).toMatchObject({ code: 1 });
  });

  it("an untargeted POST /api/sync is a sweep: its queued messages carry one new sweep id; a dry run's carry none", async () => {
    await queue().clearMessages();
    // The earlier tests' sweeps left their targets marked queued (one sweep at a time): their messages are gone now.
    const engine = instance();
    await Promise.all((await engine.listTargets()).map((t) => engine.queued.clear(t)));
    const post = (body: unknown) =>
      syncHttp(new HttpRequest({ method: "POST", url: "http://localhost/api/sync", body: { string: JSON.stringify(body) }, headers: { "content-type": "application/json" } }), context());
    expect((await post({})).status).toBe(202);
    const synced = await receiveAll(13);
    expect(new Set(synced.map((m) => m.sweepId)).size).toBe(1);
    expect(await sweepRow(String(synced[0].sweepId))).toMatchObject({ Trigger: "http", Targets: synced.length, PutLimit: LIMIT });
    await queue().clearMessages();
    expect((await post({ dryRun: true })).status).toBe(202);
    expect((await receiveAll(13)).every((m) => m.sweepId === undefined && m.dryRun === true)).toBe(true);
  });

  it("a queue message's sweep id is checked like input", () => {
    expect(parseTargetMessage({ target: "default", sweepId: "20261207T030000Z-timer-1a2b3c4d" }).sweepId).toBe("20261207T030000Z-timer-1a2b3c4d");
    expect(() => parseTargetMessage({ target: "default", sweepId: "../other" })).toThrow(/sweepId/);
    expect(() => parseTargetMessage({ target: "default", sweepId: 7 })).toThrow(/sweepId/);
  });
});
