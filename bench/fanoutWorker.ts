import { Engine } from "../shared/engine";
import { loadSettings } from "../shared/config";

/** Runs every target once in this fresh process and reports time and peak RSS (the engine alone). */
async function main(): Promise<void> {
  const concurrency = Number(process.env.BENCH_CONCURRENCY);
  // The fan-out's own gate at C: the process default (8) would cap C=50 at 8.
  const engine = new Engine(loadSettings(process.env), { partnerCallLimit: concurrency });
  await engine.listTargets(); // table and connection set-up is not part of the fan-out
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const runs = await engine.syncAll({ trigger: "cli", concurrency });
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  const used = process.cpuUsage(cpu);
  const outcomes: Record<string, number> = {};
  for (const r of runs) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  process.stdout.write(JSON.stringify({ targets: runs.length, elapsedMs, cpuMs: (used.user + used.system) / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024, outcomes }));
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
