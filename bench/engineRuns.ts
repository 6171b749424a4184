import { entityFromDocument } from "../shared/model";
import { Engine } from "../shared/engine";
import { loadSettings } from "../shared/config";
import { PartnerCenterSimulator } from "../simulator/server";
import { figure, median, randomToken } from "./lib";

const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 50);
const RUNS = Number(process.env.BENCH_OVERHEAD_RUNS ?? 30);

/**
 * Calls per run as the simulator counts them (every Partner Center endpoint), and engine
 * overhead per run: wall time minus the simulator's injected latency per call. Table
 * Storage is Azurite in its own process; its round trips count as overhead (they are the
 * engine's own I/O). An address change costs the country's rules (kept a day per country
 * and process) and one address validation (kept a day per address) before GET and PUT.
 */
export async function engineRuns(connectionString: string): Promise<Record<string, number>> {
  const token = randomToken();
  const sim = new PartnerCenterSimulator({ token, latencyMs: LATENCY_MS });
  const url = await sim.start();
  // The pace out of the way (as in the fan-out): with `auto` the account starts at 500 calls a
  // minute, one per 120 ms after a burst of ten, and back-to-back runs of 50 ms calls would
  // measure that wait as engine overhead (it was most of the drift figure's rise to 23.6 ms).
  const engine = new Engine(
    loadSettings({ PARTNER_CENTER_BASE_URL: url, PARTNER_CENTER_AUTH: "static", PARTNER_CENTER_ACCESS_TOKEN: token, BILLING_SYNC_STORAGE: connectionString, PARTNER_CENTER_CALLS_PER_MINUTE: "600000" }),
  );
  const out: Record<string, number> = {};
  try {
    await engine.desired.upsert("bench-insync", entityFromDocument("bench-insync", { PurchaseOrderNumber: "9888", Address: { City: "Redmond" } }));
    await engine.desired.upsert("bench-drift", entityFromDocument("bench-drift", { PurchaseOrderNumber: "PO-BENCH", Address: { City: "Redmond" } }));
    const drifted = () => sim.write({ purchaseOrderNumber: "9888" });

    const calls = async (name: string, target: string, before: () => void) => {
      before();
      sim.resetRequests();
      await engine.syncTarget({ target, trigger: "cli" });
      out[name] = sim.count();
      figure(name, out[name], "calls");
    };
    await engine.syncTarget({ target: "bench-insync", trigger: "cli" }); // warm: tables exist, connections open
    await calls("calls_in_sync", "bench-insync", () => {});
    await calls("calls_drift", "bench-drift", drifted);
    await calls("calls_stale_etag_once", "bench-drift", () => {
      drifted();
      sim.inject({ method: "PUT", fault: { kind: "concurrentWrite", set: { billingDay: 6 } } });
    });
    // Address changes: the first of the process asks the rules of US; a new address asks its
    // validation; the same address again (drifted back) asks neither.
    const address = (city: string) => engine.desired.upsert("bench-address", entityFromDocument("bench-address", { Address: { City: city } }));
    const addressDrift = () => sim.write({ "address.city": "Drifted" });
    await address("Bench City 1");
    await calls("calls_drift_address_first", "bench-address", addressDrift);
    await address("Bench City 2");
    await calls("calls_drift_address_rules_kept", "bench-address", addressDrift);
    await calls("calls_drift_address_verdict_kept", "bench-address", addressDrift);

    const overhead = async (name: string, target: string, before: () => void) => {
      const samples: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        before();
        sim.resetRequests();
        const started = process.hrtime.bigint();
        await engine.syncTarget({ target, trigger: "cli" });
        const wall = Number(process.hrtime.bigint() - started) / 1e6;
        samples.push(wall - sim.count() * LATENCY_MS);
      }
      out[name] = median(samples);
      figure(name, out[name], "ms");
    };
    await overhead("engine_overhead_in_sync_median", "bench-insync", () => {});
    await overhead("engine_overhead_drift_median", "bench-drift", drifted);
    await Promise.all(["bench-insync", "bench-drift", "bench-address"].map((t) => engine.desired.delete(t)));
    return out;
  } finally {
    await sim.stop();
  }
}
