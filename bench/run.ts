import { coldStart } from "./coldStart";
import { customersBench, customersGoals } from "./customers";
import { engineRuns } from "./engineRuns";
import { fanout } from "./fanout";
import { httpLoad } from "./httpLoad";
import { startAzuriteProcess } from "./lib";
import { packageSize } from "./packageSize";
import { queueWorkersBench, queueWorkersGoals } from "./queueWorkers";
import { limitsGoals, limitsTable, rateLimitsBench } from "./rateLimits";

/**
 * `npm run bench`: every figure as a `name value unit` line, then a summary against the
 * goals. Fixed simulator latency (BENCH_LATENCY_MS, default 50 ms); fresh processes where
 * start-up matters. BENCH_FANOUT_SIZES=200,2000 and BENCH_CONCURRENCY=8,50 by default.
 * `npm run bench:customers` (argument `customers`) runs only the customer-scale bench
 * (bench/customers.ts: 10,000 customers inside a rate limit, time scaled).
 */
async function main(): Promise<void> {
  if (process.argv[2] === "customers") return customersOnly();
  if (process.argv[2] === "limits") return limitsOnly();
  const sizes = (process.env.BENCH_FANOUT_SIZES ?? "200,2000").split(",").map(Number);
  const concurrencies = (process.env.BENCH_CONCURRENCY ?? "8,50").split(",").map(Number);
  process.stdout.write(`# node ${process.version}, ${new Date().toISOString()}\n`);
  const cold = await coldStart();
  const pkg = packageSize();
  const azurite = await startAzuriteProcess();
  try {
    const runs = await engineRuns(azurite.connectionString);
    const fan = await fanout(azurite.connectionString, sizes);
    const http = await httpLoad();
    // Its own Table Storage: an untargeted sync runs every target, and the fan-out's 2,000 rows are not customers.
    const customerStorage = await startAzuriteProcess();
    const customers = await customersBench(customerStorage.connectionString).finally(() => customerStorage.stop());
    const goals: [string, boolean, string][] = [
      ["cold start of the deployed entry <= 300 ms", cold.bundledMs <= 300, `${cold.bundledMs.toFixed(1)} ms`],
      ["cold start >= 5x faster than unbundled + classic App Insights", cold.naiveMs / cold.bundledMs >= 5, `${(cold.naiveMs / cold.bundledMs).toFixed(1)}x`],
      ["deployed package <= 5 MB", pkg.zipBytes <= 5 * 1024 * 1024, `${(pkg.zipBytes / 1048576).toFixed(2)} MiB`],
      ["calls: 1 in sync, 2 drift, 4 after one stale ETag", runs.calls_in_sync === 1 && runs.calls_drift === 2 && runs.calls_stale_etag_once === 4, `${runs.calls_in_sync}/${runs.calls_drift}/${runs.calls_stale_etag_once}`],
      [
        "calls with an address change <= 4 (rules once a day per country, one validation, GET, PUT)",
        Math.max(runs.calls_drift_address_first, runs.calls_drift_address_rules_kept, runs.calls_drift_address_verdict_kept) <= 4,
        `${runs.calls_drift_address_first}/${runs.calls_drift_address_rules_kept}/${runs.calls_drift_address_verdict_kept} (first/rules kept/verdict kept)`,
      ],
      ["engine overhead < 15 ms per run (median)", runs.engine_overhead_in_sync_median < 15 && runs.engine_overhead_drift_median < 15, `${runs.engine_overhead_in_sync_median.toFixed(1)} / ${runs.engine_overhead_drift_median.toFixed(1)} ms`],
      ...sizes.flatMap((s) =>
        concurrencies.map((c): [string, boolean, string] => [`fan-out ${s} targets, C=${c}, >= 90% of ideal`, fan[`fraction_${s}_c${c}`] >= 0.9, `${(fan[`fraction_${s}_c${c}`] * 100).toFixed(1)}%`]),
      ),
      ["6 untargeted HTTP dry runs, 30 targets, no queue: <= 8 in flight, 30 GETs", http.in_flight_no_queue <= 8 && http.gets_no_queue === 30, `${http.in_flight_no_queue} in flight, ${http.gets_no_queue} GETs`],
      ["6 untargeted HTTP dry runs, 30 targets, queue: no Partner Center call", http.gets_queue === 0, `${http.gets_queue} GETs`],
      ...sizes
        .filter((s) => s >= 2000)
        .flatMap((s) => concurrencies.map((c): [string, boolean, string] => [`peak RSS at ${s} targets, C=${c}, < 200 MB`, fan[`rss_${s}_c${c}`] < 200, `${fan[`rss_${s}_c${c}`].toFixed(0)} MiB`])),
      ...customersGoals(customers),
    ];
    process.stdout.write("\nSummary\n");
    for (const [goal, met, value] of goals) process.stdout.write(`  ${met ? "met   " : "MISSED"} ${goal}: ${value}\n`);
  } finally {
    azurite.stop();
  }
}

async function customersOnly(): Promise<void> {
  process.stdout.write(`# node ${process.version}, ${new Date().toISOString()}\n`);
  const azurite = await startAzuriteProcess();
  try {
    const goals = customersGoals(await customersBench(azurite.connectionString));
    process.stdout.write("\nSummary\n");
    for (const [goal, met, value] of goals) process.stdout.write(`  ${met ? "met   " : "MISSED"} ${goal}: ${value}\n`);
  } finally {
    azurite.stop();
  }
}

/**
 * `npm run bench:limits`: the five rate limits of issue 20 (bench/rateLimits.ts), with the
 * table for docs/performance.md, then the Function App's path (bench/queueWorkers.ts).
 * BENCH_LIMIT_CASES=0 or BENCH_QUEUE_WORKERS=0 leaves one out.
 */
async function limitsOnly(): Promise<void> {
  process.stdout.write(`# node ${process.version}, ${new Date().toISOString()}\n`);
  const goals: [string, boolean, string][] = [];
  if (process.env.BENCH_LIMIT_CASES !== "0") {
    const azurite = await startAzuriteProcess();
    try {
      const results = await rateLimitsBench(azurite.connectionString);
      process.stdout.write(`\n${limitsTable(results)}\n`);
      goals.push(...limitsGoals(results));
    } finally {
      azurite.stop();
    }
  }
  if (process.env.BENCH_QUEUE_WORKERS !== "0") goals.push(...queueWorkersGoals(await queueWorkersBench()));
  process.stdout.write("\nSummary\n");
  for (const [goal, met, value] of goals) process.stdout.write(`  ${met ? "met   " : "MISSED"} ${goal}: ${value}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
