import { TableClient } from "@azure/data-tables";
import { HttpRequest, InvocationContext, type Timer } from "@azure/functions";
import { QueueServiceClient } from "@azure/storage-queue";
import { runCli } from "../../cli/main";
import { billingProfileSyncQueue } from "../../functions/billingProfileSyncQueue";
import { billingProfileSyncTimer } from "../../functions/billingProfileSyncTimer";
import { syncHttp } from "../../functions/syncHttp";
import { StaticTokenCredential } from "../../shared/auth/staticCredential";
import type { RunResult } from "../../shared/model/runResult";
import { encodeMessage, POISON_QUEUE, TARGET_QUEUE } from "../../shared/stores/targetQueue";
import { TABLES } from "../../shared/stores/tables";
import { planAdopt, planRestore, applyDesiredEdit } from "../../shared/engine/undo";
import { fastRetry, historyRows, startHarness, type Harness } from "../support/harness";

let h: Harness;
const logged: string[] = [];
const context = () => new InvocationContext({ functionName: "test", invocationId: "inv", logHandler: (level, ...args) => void logged.push(`${level} ${args.join(" ")}`) });
const timer = { isPastDue: false, scheduleStatus: { last: "", next: "", lastUpdated: "" } } as Timer;

beforeAll(async () => {
  h = await startHarness({}, { queue: true });
  h.useProcessEnv();
});
afterAll(() => h.stop());
beforeEach(() => {
  h.resetSimulator();
  h.sim.configure({ latencyMs: 0, rewrite: undefined });
});

const DESIRED = { PurchaseOrderNumber: "PO-SAFE" };

describe("one writer per target", () => {
  it("10 concurrent syncs of one target from mixed triggers make exactly one PUT; the others are in-progress with no call", async () => {
    await h.setDesired("race", DESIRED);
    h.sim.configure({ latencyMs: 60 });
    const http = () =>
      syncHttp(new HttpRequest({ method: "POST", url: "http://localhost/api/sync", headers: { "content-type": "application/json" }, body: { string: '{"target":"race"}' } }), context()).then(
        (r) => ({ status: r.status, ...(r.jsonBody as RunResult) }),
      );
    const cli = async () => {
      let out = "";
      const code = await runCli(["sync", "--target", "race", "--json"], { stdout: (t) => void (out += t), stderr: () => {}, env: h.env });
      return { code, ...(JSON.parse(out) as RunResult) };
    };
    // Separate engines stand for separate processes and instances: only the lease table is shared.
    const engines = [h.engine(), h.engine(), h.engine()];
    const runs = await Promise.all([
      ...engines.map((e) => e.syncTarget({ target: "race", trigger: "cli" })),
      http(),
      http(),
      http(),
      cli(),
      cli(),
      h.engine().syncTarget({ target: "race", trigger: "queue" }),
      h.engine().syncTarget({ target: "race", trigger: "timer" }),
    ]);
    expect(h.sim.count("PUT")).toBe(1);
    const outcomes = runs.map((r) => r.outcome);
    expect(outcomes.filter((o) => o === "corrected")).toHaveLength(1);
    expect(outcomes.every((o) => ["corrected", "in-progress", "in-sync"].includes(o))).toBe(true);
    expect(outcomes.filter((o) => o === "in-progress").length).toBeGreaterThanOrEqual(5);
    // in-progress runs called nothing: every GET belongs to a run that held the lease
    expect(h.sim.count("GET")).toBe(outcomes.filter((o) => o !== "in-progress").length);
    for (const r of runs.filter((r) => r.outcome === "in-progress")) {
      expect(r.requestIds).toEqual([]);
      expect(r.error?.message).toMatch(/already in progress/);
    }
    expect(runs.filter((r) => "status" in r && r.outcome === "in-progress").every((r) => (r as { status: number }).status === 409)).toBe(true);
    expect(runs.filter((r) => "code" in r && r.outcome === "in-progress").every((r) => (r as { code: number }).code === 3)).toBe(true);
    const rows = await historyRows(h, "race");
    expect(rows).toHaveLength(10);
    expect((await h.rawRows(TABLES.leases)).filter((r) => r.partitionKey === "race")).toHaveLength(0);
  });

  it("a lease held by a live run blocks; a crashed holder's expired lease is taken over", async () => {
    await h.setDesired("crashed", DESIRED);
    const leases = TableClient.fromConnectionString(h.storage.connectionString, TABLES.leases, { allowInsecureConnection: true });
    const lease = (expiresAt: Date) => ({ partitionKey: "crashed", rowKey: "lease", Holder: "dead-run", Trigger: "timer", AcquiredAt: new Date(0).toISOString(), ExpiresAt: expiresAt.toISOString() });
    await leases.upsertEntity(lease(new Date(Date.now() + 60_000)), "Replace");
    const blocked = await h.engine().syncTarget({ target: "crashed", trigger: "cli" });
    expect(blocked.outcome).toBe("in-progress");
    expect(h.sim.count()).toBe(0);
    const status = (await h.engine().status()).find((s) => s.target === "crashed");
    expect(status?.running).toMatchObject({ holder: "dead-run", trigger: "timer" });

    // Ended by the service's clock (its Timestamp, a 1 s lease), not by the ExpiresAt the holder wrote.
    await leases.upsertEntity({ ...lease(new Date(Date.now() + 60_000)), DurationMs: 1_000 }, "Replace");
    await new Promise((r) => setTimeout(r, 2_500));
    const taken = await h.engine().syncTarget({ target: "crashed", trigger: "cli" });
    expect(taken.outcome).toBe("corrected");
    expect(h.sim.count("PUT")).toBe(1);
    await expect(leases.getEntity("crashed", "lease")).rejects.toMatchObject({ statusCode: 404 });
  });

  it("a plan neither needs nor blocks the lease", async () => {
    await h.setDesired("planned", DESIRED);
    h.sim.configure({ latencyMs: 40 });
    const [plan, sync] = await Promise.all([
      h.engine().syncTarget({ target: "planned", trigger: "cli", dryRun: true }),
      h.engine().syncTarget({ target: "planned", trigger: "cli" }),
    ]);
    expect([plan.outcome, sync.outcome]).toEqual(["drift", "corrected"]);
  });
});

describe("convergence", () => {
  it("a service that rewrites a field: not-converged once, then no PUT until the desired or live value changes", async () => {
    await h.setDesired("rewrite", { Address: { City: "Seattle" } });
    h.sim.configure({ rewrite: (p) => void ((p.address as Record<string, unknown>).city = String((p.address as Record<string, unknown>).city).toUpperCase()) });
    const engine = h.engine();
    const first = await engine.syncTarget({ target: "rewrite", trigger: "timer" });
    expect(first.outcome).toBe("not-converged");
    expect(first.notConverged).toEqual([{ field: "Address_City", desired: "Seattle", service: "SEATTLE" }]);
    expect(first.error?.message).toMatch(/Partner Center did not keep what was sent: Address_City \(desired "Seattle", Partner Center holds "SEATTLE"\)/);
    expect(h.sim.count("PUT")).toBe(1);

    const second = await engine.syncTarget({ target: "rewrite", trigger: "timer" });
    expect(second.outcome).toBe("not-converged");
    expect(second.error?.message).toMatch(/Not sent again/);
    // The country's rules and the address's validation were asked once (kept a day), before the first PUT.
    expect([h.sim.count("GET", undefined, "profile"), h.sim.count("PUT"), h.sim.count("GET", undefined, "countryRules"), h.sim.count("POST", undefined, "addressValidation")]).toEqual([2, 1, 1, 1]);

    await h.setDesired("rewrite", { Address: { City: "Bellevue" } });
    expect((await engine.syncTarget({ target: "rewrite", trigger: "timer" })).outcome).toBe("not-converged");
    expect(h.sim.count("PUT")).toBe(2);

    h.sim.write({ "address.city": "Tacoma" });
    expect((await engine.syncTarget({ target: "rewrite", trigger: "timer" })).outcome).toBe("not-converged");
    expect(h.sim.count("PUT")).toBe(3);

    const status = (await engine.status()).find((s) => s.target === "rewrite");
    expect(status?.notConverged).toEqual([{ field: "Address_City", desired: "Bellevue", service: "BELLEVUE" }]);
    const rows = (await historyRows(h, "rewrite")).filter((r) => r.Outcome === "not-converged");
    expect(rows).toHaveLength(4);
  });

  it("a writer that keeps reverting a field is reported as contested after the threshold", async () => {
    await h.setDesired("fight", DESIRED);
    const engine = h.engine();
    const results: RunResult[] = [];
    for (let i = 0; i < 3; i++) {
      h.sim.write({ purchaseOrderNumber: `HAND-${i}` });
      results.push(await engine.syncTarget({ target: "fight", trigger: "timer" }));
    }
    expect(results.map((r) => r.outcome)).toEqual(["corrected", "corrected", "corrected"]);
    expect(results[1].contested).toBeUndefined();
    expect(results[2].contested).toEqual([{ field: "PurchaseOrderNumber", count: 3, since: expect.any(String) }]);
    const latest = (await h.engine().history.list("fight", { limit: 1 }))[0];
    expect(latest.contested).toEqual(results[2].contested);
    const status = (await engine.status()).find((s) => s.target === "fight");
    expect(status?.contested).toEqual([{ field: "PurchaseOrderNumber", count: 3, since: results[2].contested![0].since }]);
    let human = "";
    await runCli(["status"], { stdout: (t) => void (human += t), stderr: () => {}, env: h.env });
    expect(human).toMatch(/CONTESTED: PurchaseOrderNumber corrected 3 times since/);
  });
});

describe("restore and adopt", () => {
  it("restore puts back, as desired values, what the profile held before a run's PUT: plan first, then sync", async () => {
    await h.setDesired("undo", { PurchaseOrderNumber: "PO-NEW", PrimaryContact: { Email: "new@contoso.example" }, Address: { City: "Redmond" } });
    const engine = h.engine();
    const bad = await engine.syncTarget({ target: "undo", trigger: "cli" });
    expect(bad.outcome).toBe("corrected");

    const edit = await planRestore(engine, bad.runId);
    expect(edit.desiredChanges).toEqual([
      { field: "PrimaryContact_Email", from: "n***@***", to: "a***@***" },
      { field: "PurchaseOrderNumber", from: "PO-NEW", to: "9888" },
    ]);
    expect(edit.plan.map((c) => c.field)).toEqual(["PrimaryContact_Email", "PurchaseOrderNumber"]);
    expect((await engine.desired.get("undo"))?.properties.PurchaseOrderNumber).toBe("PO-NEW");

    let out = "";
    const code = await runCli(["restore", "--run", bad.runId, "--apply"], { stdout: (t) => void (out += t), stderr: () => {}, env: h.env });
    expect(code).toBe(0);
    expect(out).toMatch(/desired state changed/);
    expect(h.sim.getProfile()).toMatchObject({ purchaseOrderNumber: "9888", primaryContact: { email: "avery.former@contoso.example" } });
    expect((await engine.desired.get("undo"))?.properties).toMatchObject({ PurchaseOrderNumber: "9888", Address_City: "Redmond" });
    expect(out).not.toContain("avery.former@contoso.example");
  });

  it("restore works from the row a run wrote just before its PUT, when its final record was lost", async () => {
    await h.setDesired("undo3", { PurchaseOrderNumber: "PO-LOST" });
    const engine = h.engine();
    const lost = await engine.syncTarget({ target: "undo3", trigger: "cli" });
    // Make the stored record what a run leaves when storage fails at its final write: the
    // write-ahead row (a real one is kept by the fault matrix's storage-outage case).
    const [row] = await engine.history.list("undo3", { limit: 1 });
    await engine.history.add({ ...row, outcome: "in-progress", putMade: false, putPending: true });
    const edit = await planRestore(engine, lost.runId, "undo3");
    expect(edit.desiredChanges).toEqual([{ field: "PurchaseOrderNumber", from: "PO-LOST", to: "9888" }]);
    const status = (await engine.status()).find((s) => s.target === "undo3");
    // No lease holds that run any more: status shows it interrupted, not running (issue 23).
    expect(status?.lastRun).toMatchObject({ outcome: "interrupted", putPending: true, restorable: true });
  });

  it("restore of a run that changed nothing says so", async () => {
    await h.setDesired("undo2", { PurchaseOrderNumber: "9888" });
    const run = await h.engine().syncTarget({ target: "undo2", trigger: "cli" });
    await expect(planRestore(h.engine(), run.runId, "undo2")).rejects.toThrow(/made no change \(outcome in-sync\); there is nothing to restore/);
    await expect(planRestore(h.engine(), "no-such-run")).rejects.toThrow(/No run no-such-run in the history/);
  });

  it("adopt takes a hand change into the desired row, after showing the plan", async () => {
    await h.setDesired("adopt", { PurchaseOrderNumber: "9888", Address: { City: "Redmond" } });
    h.sim.write({ purchaseOrderNumber: "HAND-EDIT", "address.city": "Kirkland" });
    let out = "";
    const planCode = await runCli(["desired", "adopt", "--target", "adopt", "--field", "PurchaseOrderNumber"], { stdout: (t) => void (out += t), stderr: () => {}, env: h.env });
    expect(planCode).toBe(2);
    expect(out).toContain('~ PurchaseOrderNumber: "9888" → "HAND-EDIT"');
    expect(out).toContain("Nothing written");
    expect(out).toMatch(/Then a sync changes 1 field\(s\)/);
    expect((await h.engine().desired.get("adopt"))?.properties.PurchaseOrderNumber).toBe("9888");

    const all = await planAdopt(h.engine(), "adopt");
    expect(all.desiredChanges.map((c) => c.field)).toEqual(["Address_City", "PurchaseOrderNumber"]);
    expect(all.plan).toEqual([]);
    await applyDesiredEdit(h.engine(), all);
    expect((await h.engine().syncTarget({ target: "adopt", trigger: "cli", dryRun: true })).outcome).toBe("in-sync");
  });

  it("adopt refuses a live value that fails validation, naming the field, and writes nothing", async () => {
    await h.setDesired("adoptbad", { PrimaryContact: { Email: "billing@contoso.example" } });
    h.sim.write({ "primaryContact.email": "not-an-address" });
    await expect(planAdopt(h.engine(), "adoptbad")).rejects.toThrow(/PrimaryContact_Email is not a valid e-mail address/);
    expect((await h.engine().desired.get("adoptbad"))?.properties.PrimaryContact_Email).toBe("billing@contoso.example");
  });

  it("an edit made from a stale read of the desired row is refused", async () => {
    await h.setDesired("adoptrace", { PurchaseOrderNumber: "9888" });
    h.sim.write({ purchaseOrderNumber: "HAND" });
    const edit = await planAdopt(h.engine(), "adoptrace");
    await h.setDesired("adoptrace", { PurchaseOrderNumber: "OTHER-EDITOR" });
    await expect(applyDesiredEdit(h.engine(), edit)).rejects.toThrow(/changed while it was being edited/);
  });
});

describe("many accounts", () => {
  it("50 targets with 5 failing: 45 corrected, 5 failed, each with its history row", async () => {
    const tokens: Record<string, string> = {};
    for (let i = 0; i < 50; i++) {
      const ref = `acct-${i}`;
      tokens[ref] = `${h.token}-${i}`;
      h.sim.addAccount(ref, tokens[ref]);
      await h.setDesired(`many-${String(i).padStart(2, "0")}`, { ...DESIRED, CredentialRef: ref });
      if (i % 10 === 3) h.sim.inject({ account: ref, times: 100, fault: { kind: "status", status: 500 } });
    }
    // 45 corrections in one sweep: past the default PUT limit (10% of the targets, at least 10), lifted here.
    h.env.BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP = "50";
    const engine = h.engine({ credentialFor: (account) => new StaticTokenCredential(tokens[account.credentialRef ?? ""]), retry: fastRetry([]) });
    delete h.env.BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP;
    const runs = (await engine.syncAll({ trigger: "cli", concurrency: 10 })).filter((r) => r.target.startsWith("many-"));
    expect(runs).toHaveLength(50);
    const failed = runs.filter((r) => r.outcome === "failed").map((r) => r.target);
    expect(failed).toEqual(["many-03", "many-13", "many-23", "many-33", "many-43"]);
    expect(runs.filter((r) => r.outcome === "corrected")).toHaveLength(45);
    for (let i = 0; i < 50; i++) {
      expect(h.sim.getProfile(`acct-${i}`).purchaseOrderNumber).toBe(i % 10 === 3 ? "9888" : "PO-SAFE");
    }
    const rows = await historyRows(h);
    for (const r of runs) expect(rows.filter((row) => row.RunId === r.runId)).toHaveLength(1);
  });
});

describe("queue fan-out", () => {
  const queues = () => QueueServiceClient.fromConnectionString(h.storage.connectionString);

  it("the timer queues one message per target and the queue function runs each; a failure throws for the host to retry", async () => {
    process.env.AzureWebJobsStorage = h.storage.connectionString;
    // A budget so large the fan-out's spread is under a second: every message visible now.
    process.env.PARTNER_CENTER_CALLS_PER_MINUTE = "600000";
    try {
      await billingProfileSyncTimer(timer, context());
      const queue = queues().getQueueClient(TARGET_QUEUE);
      const targets = await h.engine().listTargets();
      const received = await queue.receiveMessages({ numberOfMessages: 32 });
      const all = [...received.receivedMessageItems];
      while (all.length < targets.length) {
        const more = await queue.receiveMessages({ numberOfMessages: 32 });
        if (more.receivedMessageItems.length === 0) break;
        all.push(...more.receivedMessageItems);
      }
      // The host hands the decoded JSON to the function: do the same.
      const messages = all.map((m) => JSON.parse(Buffer.from(m.messageText, "base64").toString("utf8")));
      expect(messages.map((m) => m.target).sort()).toEqual(targets);
      expect(messages.every((m) => m.trigger === "timer")).toBe(true);

      await h.setDesired("queued", DESIRED);
      await billingProfileSyncQueue({ target: "queued", trigger: "timer" }, context());
      expect(h.sim.getProfile().purchaseOrderNumber).toBe("PO-SAFE");
      const row = (await historyRows(h, "queued"))[0];
      expect(row).toMatchObject({ Trigger: "timer", Outcome: "corrected" });

      h.sim.inject({ method: "GET", times: 10, fault: { kind: "status", status: 403 } });
      await expect(billingProfileSyncQueue({ target: "queued", trigger: "timer" }, context())).rejects.toThrow(/Sync of queued ended failed \(Forbidden/);
      await expect(billingProfileSyncQueue({ target: "../etc" }, context())).rejects.toThrow(/is not allowed/);
    } finally {
      delete process.env.AzureWebJobsStorage;
      delete process.env.PARTNER_CENTER_CALLS_PER_MINUTE;
    }
  });

  it("a poison message (what the host leaves after its retries) is visible in status", async () => {
    // The Functions host's dequeue-count bookkeeping cannot run here; this puts in the
    // poison queue exactly what the host would move there.
    process.env.AzureWebJobsStorage = h.storage.connectionString;
    try {
      await h.setDesired("poisoned", DESIRED);
      const poison = queues().getQueueClient(POISON_QUEUE);
      await poison.createIfNotExists();
      await poison.sendMessage(encodeMessage({ target: "poisoned", trigger: "timer", enqueuedAt: new Date().toISOString() }));
      let out = "";
      // More targets than status shows one by one by now (issue 15): the summary counts, --target shows it in full.
      await runCli(["status", "--target", "poisoned", "--json"], { stdout: (t) => void (out += t), stderr: () => {}, env: { ...h.env, AzureWebJobsStorage: h.storage.connectionString } });
      const status = JSON.parse(out).targets.find((t: { target: string }) => t.target === "poisoned");
      expect(status.poison).toHaveLength(1);
      let human = "";
      await runCli(["status", "--target", "poisoned"], { stdout: (t) => void (human += t), stderr: () => {}, env: { ...h.env, AzureWebJobsStorage: h.storage.connectionString } });
      expect(human).toMatch(/poisoned: .*\n(.*\n)* {2}POISON: 1 queued run\(s\) failed after every retry/);
      let summary = "";
      await runCli(["status"], { stdout: (t) => void (summary += t), stderr: () => {}, env: { ...h.env, AzureWebJobsStorage: h.storage.connectionString } });
      expect(summary).toMatch(/^POISON: 1 queued run\(s\) failed after every retry$/m);
    } finally {
      delete process.env.AzureWebJobsStorage;
    }
  });
});

describe("status", () => {
  it("keeps pauses visible: observe and suspended with since when, and the next scheduled run", async () => {
    await h.setDesired("paused", { ...DESIRED, Suspended: true });
    const engine = h.engine();
    const first = await engine.syncTarget({ target: "paused", trigger: "timer" });
    await engine.syncTarget({ target: "paused", trigger: "timer" });
    await h.setDesired("watched", { ...DESIRED, Mode: "observe" });
    const watched = await engine.syncTarget({ target: "watched", trigger: "timer" });
    const status = await engine.status(new Date("2026-11-22T10:30:00Z"));
    const paused = status.find((s) => s.target === "paused");
    expect(paused).toMatchObject({ suspended: true, suspendedSince: (await engine.history.get("paused", first.runId))?.startedAt, nextScheduledRun: "2026-11-22T11:00:00.000Z" });
    expect(status.find((s) => s.target === "watched")).toMatchObject({ mode: "observe", observeSince: (await engine.history.get("watched", watched.runId))?.startedAt });
    expect(status.find((s) => s.target === "race")).toMatchObject({ lastCorrection: { fields: ["PurchaseOrderNumber"] } });
  });
});
