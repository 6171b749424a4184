import { HttpRequest, InvocationContext } from "@azure/functions";
import { QueueServiceClient } from "@azure/storage-queue";
import { billingProfileSyncQueue } from "../../functions/billingProfileSyncQueue";
import { syncHttp } from "../../functions/syncHttp";
import type { RunResult } from "../../shared/model/runResult";
import { DEFAULT_PARTNER_CENTER_CALL_LIMIT } from "../../shared/partnerCenter/callGate";
import { TARGET_QUEUE } from "../../shared/stores/targetQueue";
import { AZURITE_ACCOUNT, AZURITE_KEY } from "../../simulator/azurite";
import { historyRows, startHarness, type Harness } from "../support/harness";
import { startTableFaultProxy, type TableFaultProxy } from "../support/tableFaultProxy";

/**
 * What a holder of the function key can make one Functions process do: six concurrent
 * untargeted POST /api/sync {"dryRun": true} against 30 targets (the case), called
 * as the host calls the handler. With the fan-out queue (Azure) they only queue; without
 * it, the process-wide gate holds Partner Center to 8 requests in flight and identical dry
 * runs share one run per target. The simulator counts the requests it had in flight at once.
 */
const TARGETS = Array.from({ length: 30 }, (_, i) => `load-${String(i).padStart(2, "0")}`);
const REQUESTS = 6;
let h: Harness;
let relay: TableFaultProxy;

function context(lines: string[] = []): InvocationContext {
  return new InvocationContext({ functionName: "sync", invocationId: "inv-load", logHandler: (level, ...args) => void lines.push(`${level} ${args.join(" ")}`) });
}

const post = (body: string) =>
  syncHttp(new HttpRequest({ method: "POST", url: "http://localhost/api/sync", headers: { "content-type": "application/json" }, body: { string: body } }), context());

/** Desired-row listings the relay has answered: one per untargeted request. */
const listings = () => relay.relayed.filter((r) => /^GET \/devstoreaccount1\/BillingProfileDesired\(\)\?.*RowKey eq 'billing-profile'/.test(r)).length;

beforeAll(async () => {
  h = await startHarness({ latencyMs: 50 }, { queue: true });
  relay = await startTableFaultProxy(Number(new URL(h.storage.tableEndpoint).port));
  for (const target of TARGETS) await h.setDesired(target, { PurchaseOrderNumber: "PO-LOAD" });
  // Table traffic through the relay, so that the test can see when each request has listed the targets.
  h.useProcessEnv({ BILLING_SYNC_STORAGE: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};TableEndpoint=${relay.endpoint(AZURITE_ACCOUNT)};` });
});
afterAll(async () => {
  await relay.close();
  await h.stop();
});
beforeEach(() => {
  h.resetSimulator();
  delete process.env.AzureWebJobsStorage;
});

describe("six concurrent untargeted dry runs over HTTP", () => {
  it("with the fan-out queue: each answers 202 with the targets and where to follow them; no Partner Center call in the HTTP invocations", async () => {
    process.env.AzureWebJobsStorage = h.storage.connectionString;
    const responses = await Promise.all(Array.from({ length: REQUESTS }, () => post('{"dryRun":true}')));
    expect(h.sim.count()).toBe(0);
    for (const response of responses) {
      expect(response).toMatchObject({ status: 202, headers: { Location: "/api/status" } });
      expect(response.jsonBody).toEqual({ queued: TARGETS, dryRun: true, status: "/api/status", message: "30 target(s) queued; each runs on its own. Follow them with GET /api/status." });
    }
    const queue = QueueServiceClient.fromConnectionString(h.storage.connectionString).getQueueClient(TARGET_QUEUE);
    expect((await queue.getProperties()).approximateMessagesCount).toBe(REQUESTS * TARGETS.length);

    // The queue function runs each message as what was asked: a dry run, recorded as an HTTP one.
    const [message] = (await queue.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;
    const decoded = JSON.parse(Buffer.from(message.messageText, "base64").toString("utf8"));
    expect(decoded).toMatchObject({ trigger: "http", dryRun: true });
    await billingProfileSyncQueue(decoded, context());
    expect([h.sim.count("GET"), h.sim.count("PUT")]).toEqual([1, 0]);
    expect((await historyRows(h, decoded.target))[0]).toMatchObject({ Trigger: "http", DryRun: true, Outcome: "drift" });
    await queue.clearMessages();
  });

  it("without the queue: at most the process-wide limit in flight, and one GET per target for all six", async () => {
    // No GET is answered before all six requests have listed the targets: then every run they ask for overlaps.
    const listed = new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (listings() >= REQUESTS) {
          clearInterval(poll);
          setTimeout(resolve, 50);
        }
      }, 5);
    });
    const before = listings();
    h.sim.configure({ beforeAnswer: () => (listings() - before >= REQUESTS ? undefined : listed) });
    try {
      const responses = await Promise.all(Array.from({ length: REQUESTS }, () => post('{"dryRun":true}')));
      expect(responses.map((r) => r.status ?? 200)).toEqual(Array(REQUESTS).fill(200));
      expect(h.sim.count("GET")).toBe(TARGETS.length);
      expect(h.sim.count("PUT")).toBe(0);
      expect(h.sim.maxInFlight).toBeLessThanOrEqual(DEFAULT_PARTNER_CENTER_CALL_LIMIT);
      expect(h.sim.maxInFlight).toBeGreaterThan(1);
      // The six answers are one set of runs: the same run id per target in each.
      const runIds = responses.map((r) => (r.jsonBody as { runs: RunResult[] }).runs.map((run) => `${run.target}:${run.runId}`));
      for (const ids of runIds) expect(ids).toEqual(runIds[0]);
      expect((runIds[0] as string[]).map((id) => id.split(":")[0])).toEqual(TARGETS);
    } finally {
      h.sim.configure({ beforeAnswer: undefined });
    }
  });

  it("the gate is the process's: two engines (say a CLI command and the worker) fanning out at once stay within it together", async () => {
    const [a, b] = [h.engine(), h.engine()];
    const runs = await Promise.all([a.syncAll({ trigger: "cli", dryRun: true }), b.syncAll({ trigger: "cli", dryRun: true })]);
    expect(runs.flat().filter((r) => r.outcome === "drift")).toHaveLength(2 * TARGETS.length);
    expect(h.sim.count("GET")).toBe(2 * TARGETS.length);
    expect(h.sim.maxInFlight).toBeLessThanOrEqual(DEFAULT_PARTNER_CENTER_CALL_LIMIT);
  });

  it("a targeted request runs at once, as before, even with the queue", async () => {
    process.env.AzureWebJobsStorage = h.storage.connectionString;
    const response = await post('{"target":"load-00","dryRun":true}');
    expect(response).toMatchObject({ status: 200, jsonBody: { target: "load-00", outcome: "drift", dryRun: true } });
    expect(h.sim.count("GET")).toBe(1);
  });
});
