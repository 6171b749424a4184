import { writeFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeDesiredCsv } from "../cli/desiredFile";
import { PartnerCenterSimulator } from "../simulator/server";
import { DEFAULT_CALLS_PER_MINUTE } from "../shared/config";
import { figure, randomToken, ROOT, runNode } from "./lib";

/**
 * Customer billing profiles at scale (issue 15): the simulator holds CUSTOMERS customers
 * behind a token bucket of RATE calls a minute per partner account (429 + Retry-After
 * beyond it), DRIFT of them drifted; one `sync` of every customer in a fresh engine
 * process, once with the limit told to the engine and once with it unknown.
 *
 * Time is scaled so that the bench takes minutes, not the 21 minutes 10,500 calls take
 * at 500 a minute: with BENCH_TIME_SCALE k, the simulator's clock runs k times faster.
 * Its bucket fills at RATE·k a minute of real time, its Retry-After is its own
 * whole-second answer divided by k (sent as retry-after-ms, the engine's precise header),
 * its latency is BENCH_LATENCY_MS / k, and the engine told the limit is told RATE·k. The
 * engine's own constants are not scaled: its rate changes per call, not per second, and
 * an unknown limit is looked for from its default start (500 a minute of real time, a
 * k-th of the scaled limit). Times are reported in real seconds and as the ratio to the
 * ideal (calls ÷ rate), which scaling leaves unchanged. The second run spends the default
 * budget (250 a minute, issue 20), so its ideal is min(budget, limit).
 */
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 10_000);
const DRIFT = Number(process.env.BENCH_DRIFT ?? 0.05);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const SCALE = Number(process.env.BENCH_TIME_SCALE ?? 10);
/** Simulated Partner Center latency per call. */
const LATENCY_MS = Number(process.env.BENCH_CUSTOMER_LATENCY_MS ?? 250);

interface WorkerReport {
  targets: number;
  elapsedMs: number;
  cpuMs: number;
  maxRssMiB: number;
  outcomes: Record<string, number>;
  rate: { callsPerMinute: number; phase: string; throttled: number; decreases: number };
}

export interface CustomersFigures {
  known: RunFigures;
  unknown: RunFigures;
  importSeconds: number;
}

export interface RunFigures {
  ratioToIdeal: number;
  throttledShare: number;
  peakRssMiB: number;
  cpuPerTargetMs: number;
  corrected: number;
  inSync: number;
  other: number;
}

/** Every `step`-th customer from `offset` gets a new billing e-mail from "someone else". */
function drift(sim: PartnerCenterSimulator, offset: number): number {
  const step = Math.round(1 / DRIFT);
  let n = 0;
  for (let i = offset; i < CUSTOMERS; i += step, n++) sim.customers().write(i, { email: `changed${i}@elsewhere.example` });
  return n;
}

async function syncOnce(name: string, sim: PartnerCenterSimulator, env: NodeJS.ProcessEnv, drifted: number, idealPerMinute = RATE): Promise<RunFigures> {
  const before = { ...sim.totals };
  process.stderr.write(`# ${name}: sync of ${CUSTOMERS} customers, ${drifted} drifted\n`);
  const report = JSON.parse(await runNode([join(ROOT, "dist", "bench", "customersWorker.js")], env, { showStderr: true })) as WorkerReport;
  const gets = sim.totals.GET - before.GET;
  const puts = sim.totals.PUT - before.PUT;
  const throttled = sim.totals.throttled - before.throttled;
  const answered = gets + puts - throttled;
  // The ideal: every call that had to be made (answered ones), back to back at the limit.
  const idealMs = (answered / (idealPerMinute * SCALE)) * 60_000;
  const figures: RunFigures = {
    ratioToIdeal: report.elapsedMs / idealMs,
    throttledShare: throttled / (gets + puts),
    peakRssMiB: report.maxRssMiB,
    cpuPerTargetMs: report.cpuMs / report.targets,
    corrected: report.outcomes.corrected ?? 0,
    inSync: report.outcomes["in-sync"] ?? 0,
    other: report.targets - (report.outcomes.corrected ?? 0) - (report.outcomes["in-sync"] ?? 0),
  };
  const p = `customers_${name}`;
  figure(`${p}_targets`, report.targets, "targets");
  figure(`${p}_outcomes_in_sync`, figures.inSync, "targets");
  figure(`${p}_outcomes_corrected`, figures.corrected, "targets");
  figure(`${p}_outcomes_other`, figures.other, "targets");
  figure(`${p}_calls_answered`, answered, "calls");
  figure(`${p}_calls_429`, throttled, "calls");
  figure(`${p}_share_429`, figures.throttledShare * 100, "%");
  figure(`${p}_elapsed_real`, report.elapsedMs / 1000, "s");
  figure(`${p}_elapsed_simulated`, (report.elapsedMs * SCALE) / 60_000, "min");
  figure(`${p}_ideal_real`, idealMs / 1000, "s");
  figure(`${p}_ratio_to_ideal`, figures.ratioToIdeal, "x");
  figure(`${p}_engine_rate_at_end`, report.rate.callsPerMinute / SCALE, "calls/simulated min");
  figure(`${p}_engine_rate_decreases`, report.rate.decreases, "decreases");
  figure(`${p}_peak_rss`, report.maxRssMiB, "MiB");
  figure(`${p}_engine_cpu_per_target`, figures.cpuPerTargetMs, "ms");
  return figures;
}

export async function customersBench(connectionString: string): Promise<CustomersFigures> {
  process.stdout.write(`# customers: ${CUSTOMERS} customers, ${DRIFT * 100}% drifted, ${RATE} calls/min per partner, time scale ${SCALE}x, latency ${LATENCY_MS} ms simulated\n`);
  const token = randomToken();
  const sim = new PartnerCenterSimulator({
    token,
    customers: CUSTOMERS,
    latencyMs: LATENCY_MS / SCALE,
    recordRequests: false,
  });
  const url = await sim.start();
  const env = { PARTNER_CENTER_BASE_URL: url, PARTNER_CENTER_AUTH: "static", PARTNER_CENTER_ACCESS_TOKEN: token, BILLING_SYNC_STORAGE: connectionString };
  try {
    // The desired rows: each customer's profile as it is (what `desired adopt --all-customers`
    // would write), imported through the CLI from a CSV file.
    const rows = sim
      .customers()
      .ids()
      .map((id, i) => {
        const p = sim.customers().profile(i) as { firstName: string; lastName: string; email: string; companyName: string; defaultAddress: { city: string } };
        return {
          target: `customer-${id}`,
          etag: "",
          properties: { CustomerId: id, FirstName: p.firstName, LastName: p.lastName, Email: p.email, CompanyName: p.companyName, DefaultAddress_City: p.defaultAddress.city },
        };
      });
    const file = join(mkdtempSync(join(tmpdir(), "bench-customers-")), "customers.csv");
    writeFileSync(file, writeDesiredCsv(rows));
    const importStarted = Date.now();
    process.stderr.write(`# importing ${CUSTOMERS} desired rows with billing-sync desired import\n`);
    const imported = await runNode([join(ROOT, "dist", "cli", "bin.js"), "desired", "import", "--file", file], env);
    const importSeconds = (Date.now() - importStarted) / 1000;
    process.stdout.write(`# ${imported.trim()}\n`);
    figure("customers_import_rows", CUSTOMERS, "rows");
    figure("customers_import_time", importSeconds, "s");

    // The limit is enforced from here on (the import above writes only to Table Storage).
    sim.configure({ rateLimit: { perMinute: RATE, timeScale: SCALE } });
    const known = await syncOnce("known_rate", sim, { ...env, PARTNER_CENTER_CALLS_PER_MINUTE: String(RATE * SCALE) }, drift(sim, 0));
    // A fresh bucket, other customers drifted, the default budget (250 a minute, scaled): its ideal is min(budget, limit).
    sim.configure({ rateLimit: { perMinute: RATE, timeScale: SCALE } });
    const unknown = await syncOnce("default_budget", sim, { ...env, PARTNER_CENTER_CALLS_PER_MINUTE: String(DEFAULT_CALLS_PER_MINUTE * SCALE) }, drift(sim, Math.round(1 / DRIFT / 2)), Math.min(RATE, DEFAULT_CALLS_PER_MINUTE));
    return { known, unknown, importSeconds };
  } finally {
    await sim.stop();
  }
}

/** The goals of issue 15, as summary lines. */
export function customersGoals(f: CustomersFigures): [string, boolean, string][] {
  const goals: [string, boolean, string][] = [];
  for (const [name, r] of [["rate told", f.known], ["default budget", f.unknown]] as const) {
    goals.push(
      [`customers (${name}): whole sync within 1.1x the ideal (calls / rate)`, r.ratioToIdeal <= 1.1, `${r.ratioToIdeal.toFixed(3)}x`],
      [`customers (${name}): 429 answers <= 1% of calls`, r.throttledShare <= 0.01, `${(r.throttledShare * 100).toFixed(2)}%`],
      [`customers (${name}): peak RSS <= 150 MB`, r.peakRssMiB * 1.048576 <= 150, `${r.peakRssMiB.toFixed(0)} MiB`],
      [`customers (${name}): engine CPU per target <= 1 ms (in-sync and drifted together)`, r.cpuPerTargetMs <= 1, `${r.cpuPerTargetMs.toFixed(2)} ms`],
      [`customers (${name}): every target in sync or corrected`, r.other === 0, `${r.inSync} in sync, ${r.corrected} corrected, ${r.other} other`],
    );
  }
  return goals;
}
