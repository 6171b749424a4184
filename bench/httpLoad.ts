import { HttpRequest, InvocationContext } from "@azure/functions";
import { entityFromDocument } from "../shared/model";
import { Engine } from "../shared/engine";
import { mapWithConcurrency } from "../shared/core";
import { loadSettings } from "../shared/config";
import { startAzurite } from "../simulator/azurite";
import { PartnerCenterSimulator } from "../simulator/server";
import { syncHttp } from "../functions/syncHttp";
import { figure, randomToken } from "./lib";

const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 50);
const TARGETS = Number(process.env.BENCH_HTTP_TARGETS ?? 30);
const REQUESTS = Number(process.env.BENCH_HTTP_REQUESTS ?? 6);

/**
 * What a holder of the function key can make one Functions process do: REQUESTS concurrent
 * untargeted `POST /api/sync {"dryRun":true}` through the exported HTTP handler, against
 * TARGETS targets, with and without the fan-out queue configured. Prints the Partner Center
 * GETs the HTTP invocations made and the most requests the simulator had in flight at once.
 */
export async function httpLoad(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const queue of [false, true]) {
    const storage = await startAzurite({ queue });
    const token = randomToken();
    const sim = new PartnerCenterSimulator({ token, latencyMs: LATENCY_MS });
    const url = await sim.start();
    const env: Record<string, string> = { PARTNER_CENTER_BASE_URL: url, PARTNER_CENTER_AUTH: "static", PARTNER_CENTER_ACCESS_TOKEN: token, BILLING_SYNC_STORAGE: storage.connectionString };
    const saved = { ...process.env };
    try {
      const admin = new Engine(loadSettings(env));
      const targets = Array.from({ length: TARGETS }, (_, i) => `http-${String(i).padStart(3, "0")}`);
      await mapWithConcurrency(targets, 8, (t) => admin.desired.upsert(t, entityFromDocument(t, { PurchaseOrderNumber: "PO-HTTP-LOAD" })));
      Object.assign(process.env, env, queue ? { AzureWebJobsStorage: storage.connectionString } : {});
      if (!queue) delete process.env.AzureWebJobsStorage;
      sim.resetRequests();
      const context = new InvocationContext({ functionName: "sync", invocationId: "bench", logHandler: () => {} });
      const post = () =>
        syncHttp(new HttpRequest({ method: "POST", url: "http://localhost/api/sync", headers: { "content-type": "application/json" }, body: { string: '{"dryRun":true}' } }), context);
      const responses = await Promise.all(Array.from({ length: REQUESTS }, post));
      const name = `http_${REQUESTS}x_untargeted_dry_run_${TARGETS}_targets_${queue ? "queue" : "no_queue"}`;
      figure(`${name}_partner_center_gets`, sim.count("GET"), "requests");
      figure(`${name}_max_in_flight`, sim.maxInFlight, "requests");
      process.stdout.write(`# ${name}: statuses ${responses.map((r) => r.status ?? 200).join(",")}\n`);
      out[`gets_${queue ? "queue" : "no_queue"}`] = sim.count("GET");
      out[`in_flight_${queue ? "queue" : "no_queue"}`] = sim.maxInFlight;
    } finally {
      process.env = saved;
      await sim.stop();
      await storage.stop();
    }
  }
  return out;
}

if (require.main === module) {
  httpLoad().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}
