import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeDesiredCsv } from "../cli/desiredFile";
import { PartnerCenterSimulator } from "../simulator/server";
import type { LimitOptions } from "../simulator/rateLimit";
import { figure, randomToken, ROOT, runNode } from "./lib";

/**
 * A good neighbour (issue 20): one `sync` of CUSTOMERS customers (DRIFT of them drifted),
 * each case from a fresh engine process with the default budget (250 a minute), against
 * five limits of the simulator. The goal of each: answered 429s at most 1% of calls, and
 * wall time at most 1.1x the ideal, the answered calls back to back at min(budget, limit).
 *
 * Time is scaled as bench/customers.ts does: the simulator's clock runs SCALE times faster
 * (its limits fill SCALE times faster, its Retry-After is divided by SCALE) and the engine
 * is given a budget of 250·SCALE and a return after a decrease of a minute / SCALE (its one
 * timed constant); its rate otherwise changes per call, so scaling leaves the ratios.
 */
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 1_000);
const DRIFT = Number(process.env.BENCH_DRIFT ?? 0.05);
const SCALE = Number(process.env.BENCH_TIME_SCALE ?? 5);
const BUDGET = Number(process.env.BENCH_BUDGET ?? 250);
const LATENCY_MS = Number(process.env.BENCH_CUSTOMER_LATENCY_MS ?? 250);
/** Which cases run (1-based, comma separated); default all. */
const ONLY = process.env.BENCH_LIMIT_CASES?.split(",").map(Number);

interface LimitCase {
  name: string;
  /** What the engine can have of it, per simulated minute. */
  realPerMinute: number;
  limit: LimitOptions;
}

export const LIMIT_CASES: LimitCase[] = [
  { name: "bucket 500/min, burst 10", realPerMinute: 500, limit: { perMinute: 500, burst: 10 } },
  { name: "bucket 400/min, burst 50", realPerMinute: 400, limit: { perMinute: 400, burst: 50 } },
  { name: "sliding 60 s window of 300", realPerMinute: 300, limit: { kind: "window", requests: 300 } },
  { name: "bucket 150/min", realPerMinute: 150, limit: { perMinute: 150, burst: 10 } },
  { name: "bucket 500/min, 300/min taken by another tool", realPerMinute: 200, limit: { kind: "shared", perMinute: 500, burst: 10, otherPerMinute: 300 } },
];

export interface LimitFigures {
  name: string;
  calls: number;
  throttled: number;
  throttledShare: number;
  elapsedSeconds: number;
  idealSeconds: number;
  ratioToIdeal: number;
  outcomes: Record<string, number>;
}

function drift(sim: PartnerCenterSimulator, round: number): number {
  const step = Math.round(1 / DRIFT);
  let n = 0;
  for (let i = round % step; i < CUSTOMERS; i += step, n++) sim.customers().write(i, { email: `changed${i}.${round}@elsewhere.example` });
  return n;
}

export async function rateLimitsBench(connectionString: string): Promise<LimitFigures[]> {
  process.stdout.write(`# rate limits: ${CUSTOMERS} customers, ${DRIFT * 100}% drifted, budget ${BUDGET}/min, time scale ${SCALE}x, latency ${LATENCY_MS} ms simulated\n`);
  const token = randomToken();
  const sim = new PartnerCenterSimulator({ token, customers: CUSTOMERS, latencyMs: LATENCY_MS / SCALE, recordRequests: false });
  const url = await sim.start();
  const env = { PARTNER_CENTER_BASE_URL: url, PARTNER_CENTER_AUTH: "static", PARTNER_CENTER_ACCESS_TOKEN: token, BILLING_SYNC_STORAGE: connectionString };
  const results: LimitFigures[] = [];
  try {
    const rows = sim
      .customers()
      .ids()
      .map((id, i) => {
        const p = sim.customers().profile(i) as { firstName: string; lastName: string; email: string };
        return { target: `customer-${id}`, etag: "", properties: { CustomerId: id, FirstName: p.firstName, LastName: p.lastName, Email: p.email } };
      });
    const file = join(mkdtempSync(join(tmpdir(), "bench-limits-")), "customers.csv");
    writeFileSync(file, writeDesiredCsv(rows));
    await runNode([join(ROOT, "dist", "cli", "bin.js"), "desired", "import", "--file", file], env);
    for (const [round, c] of LIMIT_CASES.entries()) {
      if (ONLY && !ONLY.includes(round + 1)) continue;
      const drifted = drift(sim, round);
      sim.configure({ rateLimit: { ...c.limit, timeScale: SCALE } });
      const before = { ...sim.totals };
      process.stderr.write(`# ${c.name}: sync of ${CUSTOMERS} customers, ${drifted} drifted\n`);
      const report = JSON.parse(
        await runNode([join(ROOT, "dist", "bench", "customersWorker.js")], { ...env, PARTNER_CENTER_CALLS_PER_MINUTE: String(BUDGET * SCALE), BENCH_RATE_RECOVERY_MS: String(60_000 / SCALE) }, { showStderr: true }),
      ) as { elapsedMs: number; outcomes: Record<string, number> };
      const calls = sim.totals.GET + sim.totals.PUT - before.GET - before.PUT;
      const throttled = sim.totals.throttled - before.throttled;
      const idealMs = ((calls - throttled) / (Math.min(BUDGET, c.realPerMinute) * SCALE)) * 60_000;
      const r: LimitFigures = {
        name: c.name,
        calls,
        throttled,
        throttledShare: throttled / calls,
        elapsedSeconds: report.elapsedMs / 1000,
        idealSeconds: idealMs / 1000,
        ratioToIdeal: report.elapsedMs / idealMs,
        outcomes: report.outcomes,
      };
      const p = `limits_${round + 1}`;
      figure(`${p}_calls`, calls, "calls");
      figure(`${p}_429_share`, r.throttledShare * 100, "%");
      figure(`${p}_elapsed_simulated`, (report.elapsedMs * SCALE) / 60_000, "min");
      figure(`${p}_ratio_to_ideal`, r.ratioToIdeal, "x");
      results.push(r);
    }
  } finally {
    await sim.stop();
  }
  return results;
}

/** The table of docs/performance.md. */
export function limitsTable(results: LimitFigures[]): string {
  const lines = [
    `| limit of the simulator | ideal rate (min of budget ${BUDGET}, limit) | calls | 429s | wall time (simulated) | vs ideal | outcomes |`,
    "|---|---|---|---|---|---|---|",
    ...results.map((r) => {
      const c = LIMIT_CASES.find((l) => l.name === r.name)!;
      const outcomes = Object.entries(r.outcomes).map(([k, v]) => `${v} ${k}`).join(", ");
      return `| ${r.name} | ${Math.min(BUDGET, c.realPerMinute)}/min | ${r.calls} | ${r.throttled} (${(r.throttledShare * 100).toFixed(2)}%) | ${((r.elapsedSeconds * SCALE) / 60).toFixed(2)} min | ${r.ratioToIdeal.toFixed(3)}x | ${outcomes} |`;
    }),
  ];
  return lines.join("\n");
}

export function limitsGoals(results: LimitFigures[]): [string, boolean, string][] {
  return results.flatMap((r): [string, boolean, string][] => [
    [`${r.name}: 429 answers <= 1% of calls`, r.throttledShare <= 0.01, `${(r.throttledShare * 100).toFixed(2)}%`],
    [`${r.name}: wall time <= 1.1x the ideal`, r.ratioToIdeal <= 1.1, `${r.ratioToIdeal.toFixed(3)}x`],
  ]);
}
