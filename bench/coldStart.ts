import { existsSync } from "node:fs";
import { join } from "node:path";
import { figure, median, ROOT, runNode } from "./lib";

const RUNS = Number(process.env.BENCH_COLD_RUNS ?? 11);

/** Milliseconds to require `modules` in order, in a fresh Node process (median of RUNS). */
async function importTime(modules: string[]): Promise<number> {
  const script = `const t=process.hrtime.bigint();${modules.map((m) => `require(${JSON.stringify(m)});`).join("")}process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6));`;
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(Number(await runNode(["-e", script])));
  return median(times);
}

export async function coldStart(): Promise<Record<string, number>> {
  const bundled = join(ROOT, "dist", "deploy", "main.js");
  const plain = join(ROOT, "dist", "functions", "index.js");
  const bundledMs = await importTime([bundled]);
  figure("cold_start_bundled_entry", bundledMs, "ms");
  const plainMs = await importTime([plain]);
  figure("cold_start_tsc_entry", plainMs, "ms");
  // What the first invocation adds: the engine bundle, and settings + engine construction.
  const firstInvocationMs = await importTime([join(ROOT, "dist", "deploy", "engine.js")]);
  figure("first_invocation_engine_load_bundled", firstInvocationMs, "ms");
  figure("cold_start_bundled_entry_plus_engine", bundledMs + firstInvocationMs, "ms");
  // The naive build this replaces: unbundled, the engine imported eagerly, and the classic
  // Application Insights SDK imported at start-up.
  const classic = join(ROOT, "node_modules", "applicationinsights");
  let naiveMs = NaN;
  if (existsSync(classic)) {
    naiveMs = await importTime([classic, join(ROOT, "dist", "shared", "host", "functionHandlers.js"), plain]);
    figure("cold_start_tsc_eager_with_classic_appinsights", naiveMs, "ms");
    figure("cold_start_ratio_naive_over_bundled", naiveMs / bundledMs, "x");
    figure("cold_start_ratio_naive_over_bundled_plus_engine", naiveMs / (bundledMs + firstInvocationMs), "x");
  }
  figure("cold_start_ratio_tsc_over_bundled", plainMs / bundledMs, "x");
  return { bundledMs, plainMs, firstInvocationMs, naiveMs };
}
