import { join } from "node:path";
import { entityFromDocument } from "../shared/model";
import { Engine } from "../shared/engine";
import { mapWithConcurrency } from "../shared/core";
import { loadSettings } from "../shared/config";
import { PartnerCenterSimulator } from "../simulator/server";
import { figure, randomToken, ROOT, runNode } from "./lib";

const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 50);
/** The CLI's default (8) and a wide fan-out (50). */
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? "8,50").split(",").map(Number);

/**
 * Fan-out of in-sync targets (one call each) at a fixed latency: targets per second
 * against the ideal C / (calls per target x latency), and the engine process's peak RSS.
 */
export async function fanout(connectionString: string, sizes: number[]): Promise<Record<string, number>> {
  const token = randomToken();
  const sim = new PartnerCenterSimulator({ token, latencyMs: LATENCY_MS });
  const url = await sim.start();
  // The pace out of the way (the highest limit the setting takes): this measures how well the
  // engine overlaps calls and table I/O. With "auto" one account's calls start at 500 a minute
  // (the published limit), far below C / latency; bench/customers.ts measures the pace.
  // The bench measures the fan-out of corrections: the sweep's PUT limit (a safety guard) is lifted.
  const env = { PARTNER_CENTER_BASE_URL: url, PARTNER_CENTER_AUTH: "static", PARTNER_CENTER_ACCESS_TOKEN: token, BILLING_SYNC_STORAGE: connectionString, PARTNER_CENTER_CALLS_PER_MINUTE: "600000", BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP: "1000000" };
  const admin = new Engine(loadSettings(env));
  const out: Record<string, number> = {};
  let written = 0;
  try {
    for (const size of sizes) {
      const targets = Array.from({ length: size }, (_, i) => `fan-${String(i).padStart(5, "0")}`).slice(written);
      await mapWithConcurrency(targets, 32, (t) => admin.desired.upsert(t, entityFromDocument(t, { PurchaseOrderNumber: "9888" })));
      written = Math.max(written, size);
      for (const concurrency of CONCURRENCIES) {
        sim.resetRequests();
        const report = JSON.parse(await runNode([join(ROOT, "dist", "bench", "fanoutWorker.js")], { ...env, BENCH_CONCURRENCY: String(concurrency) })) as {
          targets: number;
          elapsedMs: number;
          maxRssMiB: number;
          cpuMs: number;
          outcomes: Record<string, number>;
        };
        const callsPerTarget = sim.count() / report.targets;
        const perSecond = report.targets / (report.elapsedMs / 1000);
        const ideal = concurrency / (callsPerTarget * (LATENCY_MS / 1000));
        const name = `fanout_${size}_c${concurrency}`;
        figure(`${name}_targets_per_second`, perSecond, "targets/s");
        figure(`${name}_ideal_targets_per_second`, ideal, "targets/s");
        figure(`${name}_fraction_of_ideal`, perSecond / ideal, "ratio");
        figure(`${name}_calls_per_target`, callsPerTarget, "calls");
        figure(`${name}_engine_cpu_per_target`, report.cpuMs / report.targets, "ms");
        figure(`${name}_peak_rss`, report.maxRssMiB, "MiB");
        if (report.outcomes["in-sync"] !== report.targets) process.stdout.write(`# ${name}: outcomes ${JSON.stringify(report.outcomes)}\n`);
        out[`fraction_${size}_c${concurrency}`] = perSecond / ideal;
        out[`rss_${size}_c${concurrency}`] = report.maxRssMiB;
      }
    }
    return out;
  } finally {
    await sim.stop();
  }
}
