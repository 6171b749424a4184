import { loadSettings } from "../../shared/config";
import { Engine } from "../../shared/engine/engine";
import { reconcile } from "../../shared/engine/reconcile";
import { ResponseCache } from "../../shared/partnerCenter";
import { type HistoryRecord, LeaseStore, TableFactory } from "../../shared/stores";
import { LEASE_ROW_KEY } from "../../shared/stores/leaseStore";
import { TABLES } from "../../shared/stores/tables";
import { AZURITE_ACCOUNT, AZURITE_KEY } from "../../simulator/azurite";
import { TableClient } from "@azure/data-tables";
import { fastRetry, historyRowOf, startHarness, type Harness } from "../support/harness";
import { startTableFaultProxy, type TableFaultProxy } from "../support/tableFaultProxy";

/**
 * Leases without clock comparison between instances (Azurite, the simulator): a taker
 * whose clock is off neither takes a live lease nor is kept from an ended one; a run whose
 * lease was taken over sends no PUT (the fence); a lease insert whose answer was lost is
 * recognised as the run's own.
 */
let h: Harness;
let relay: TableFaultProxy;
let seq = 0;
const TEN_MINUTES = 10 * 60 * 1000;

beforeAll(async () => {
  h = await startHarness();
  relay = await startTableFaultProxy(Number(new URL(h.storage.tableEndpoint).port));
});
afterAll(async () => {
  await relay.close();
  await h.stop();
});
beforeEach(() => h.resetSimulator());

/** One instance's lease store (its own process, its own sightings). */
const instance = () => new LeaseStore(new TableFactory(loadSettings(h.env).storage));

describe("lease expiry, judged by the service", () => {
  it("an instance whose clock is 10 minutes ahead does not take a live lease", async () => {
    const target = `lj${++seq}`;
    const a = await instance().acquire(target, "run-a", { durationInMs: 60_000, trigger: "timer" });
    expect(a).toBeDefined();
    // Before: B compared its own clock with A's ExpiresAt and took the lease.
    expect(await instance().acquire(target, "run-b", { durationInMs: 60_000, trigger: "timer", now: new Date(Date.now() + TEN_MINUTES) })).toBeUndefined();
  });

  it("an ended lease is taken by an instance whose clock is 10 minutes behind: the service's Timestamp says it ended", async () => {
    const target = `lj${++seq}`;
    await instance().acquire(target, "run-a", { durationInMs: 1_000, trigger: "timer" });
    // The Date header counts whole seconds: past 1 s by the service's clock.
    await new Promise((r) => setTimeout(r, 2_500));
    const b = await instance().acquire(target, "run-b", { durationInMs: 60_000, trigger: "timer", now: new Date(Date.now() - TEN_MINUTES) });
    expect(b).toMatchObject({ holder: "run-b" });
  });

  it("a lease insert whose answer was lost: the retry's 409 meets the run's own lease, and the run goes on", async () => {
    const target = `lj${++seq}`;
    await h.setDesired(target, { PurchaseOrderNumber: "PO-LJ" });
    relay.inject({ method: "POST", path: /^\/devstoreaccount1\/BillingProfileLeases/, afterApply: true, status: 0, errorCode: "", message: "" });
    const storage = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};TableEndpoint=${relay.endpoint(AZURITE_ACCOUNT)};`;
    const engine = new Engine(loadSettings({ ...h.env, BILLING_SYNC_STORAGE: storage }), {
      retry: fastRetry(h.waits),
      responseCache: new ResponseCache(),
      storageRetry: { maxRetries: 2, retryDelayInMs: 50, maxRetryDelayInMs: 100 },
    });
    const run = await engine.syncTarget({ target, trigger: "cli" });
    expect(relay.answered).toBe(1);
    // Before: acquire gave way to its own lease, and the run ended in-progress for 5 minutes.
    expect(run.outcome).toBe("corrected");
    expect(relay.relayed.filter((r) => r.startsWith("POST /devstoreaccount1/BillingProfileLeases"))).toHaveLength(1);
  });
});

describe("the fence before a PUT", () => {
  it("a run whose lease another instance took over sends no PUT", async () => {
    const target = `lj${++seq}`;
    await h.setDesired(target, { PurchaseOrderNumber: "PO-FENCED" });
    const engine = h.engine();
    const leases = TableClient.fromConnectionString(h.storage.connectionString, TABLES.leases, { allowInsecureConnection: true });
    // Another instance takes the lease just before the PUT (as one that judged it ended would).
    const history = Object.create(engine.history) as typeof engine.history;
    history.add = async (record: HistoryRecord) => {
      if (record.putPending) await leases.updateEntity({ partitionKey: target, rowKey: LEASE_ROW_KEY, Holder: "intruder" }, "Replace", { etag: "*" });
      return engine.history.add(record);
    };
    const run = await reconcile({ target, trigger: "cli" }, { ...engine.deps, history });
    expect(run).toMatchObject({ outcome: "in-progress", error: { code: "InProgress" } });
    expect(run.error?.message).toMatch(/no longer this run's .*no PUT was sent/);
    expect(h.sim.count("PUT")).toBe(0);
    expect(await historyRowOf(h, { target, runId: run.runId })).toMatchObject({ Outcome: "in-progress", PutMade: false });
    // The intruder's lease is left alone.
    expect((await leases.getEntity(target, LEASE_ROW_KEY)).Holder).toBe("intruder");
  });

  it("a run that keeps its lease renews it before the PUT (the ETag moves) and releases it after", async () => {
    const target = `lj${++seq}`;
    await h.setDesired(target, { PurchaseOrderNumber: "PO-KEPT" });
    const run = await h.engine().syncTarget({ target, trigger: "cli" });
    expect(run.outcome).toBe("corrected");
    expect((await h.rawRows(TABLES.leases)).filter((r) => r.partitionKey === target)).toEqual([]);
  });
});

describe("the process's call gate", () => {
  it("a run stopped while it waits behind 8 slow calls ends at its timeout, not after them", async () => {
    h.sim.configure({ latencyMs: 2_000 });
    try {
      const slow = h.engine({ runTimeoutInMs: 20_000 });
      for (let i = 0; i < 8; i++) await h.setDesired(`gate${i}`, { PurchaseOrderNumber: "9888" });
      await h.setDesired("gate-waiter", { PurchaseOrderNumber: "9888" });
      const busy = Array.from({ length: 8 }, (_, i) => slow.syncTarget({ target: `gate${i}`, trigger: "cli", dryRun: true }));
      // Every slot taken: the simulator has the 8 GETs (it answers each after 2 s).
      while (h.sim.count("GET") < 8) await new Promise((r) => setTimeout(r, 20));
      const started = Date.now();
      const waiter = await h.engine({ runTimeoutInMs: 500 }).syncTarget({ target: "gate-waiter", trigger: "cli", dryRun: true });
      // Before: it waited for a slot until the slow calls ended (2 s and more).
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(waiter).toMatchObject({ outcome: "failed", error: { code: "Aborted" } });
      await Promise.all(busy);
    } finally {
      h.sim.configure({ latencyMs: 0 });
    }
  });
});
