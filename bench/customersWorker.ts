import { Engine } from "../shared/engine";
import { loadSettings } from "../shared/config";
import type { RunResult } from "../shared/model";

/**
 * One `sync` of every target in this fresh process (the engine alone: the simulator and
 * Azurite run elsewhere), with a progress line on stderr every few seconds. Prints its
 * time, CPU, peak RSS, outcomes and what the rate controller did, as JSON on stdout.
 */
const PROGRESS_EVERY_IN_MS = Number(process.env.BENCH_PROGRESS_MS ?? 5_000);

async function main(): Promise<void> {
  const engine = new Engine(loadSettings(process.env), {
    rateStartPerMinute: process.env.BENCH_RATE_START ? Number(process.env.BENCH_RATE_START) : undefined,
    rateRecoveryInMs: process.env.BENCH_RATE_RECOVERY_MS ? Number(process.env.BENCH_RATE_RECOVERY_MS) : undefined,
  });
  await engine.listTargets(); // tables and connections are set up before the clock starts
  const rate = engine.partnerClient().rate;
  const outcomes: Record<string, number> = {};
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  let last: { done: number; total: number } = { done: 0, total: 0 };
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
  const progress = setInterval(() => {
    const r = rate.snapshot();
    const m = process.memoryUsage();
    process.stderr.write(
      `# ${(elapsed() / 1000).toFixed(0)} s: ${last.done}/${last.total} targets, ${Math.round(r.callsPerMinute)} calls/min (${r.phase}), ${r.throttled} x 429; ${JSON.stringify(outcomes)}; heap ${Math.round(m.heapUsed / 1048576)}/${Math.round(m.heapTotal / 1048576)} MiB, external ${Math.round(m.external / 1048576)} MiB, RSS ${Math.round(m.rss / 1048576)} MiB\n`,
    );
  }, PROGRESS_EVERY_IN_MS);
  let runs: RunResult[];
  try {
    runs = await engine.syncAll({
      trigger: "cli",
      concurrency: process.env.BENCH_CONCURRENCY ? Number(process.env.BENCH_CONCURRENCY) : undefined,
      onProgress: ({ done, total, run }) => {
        last = { done, total };
        outcomes[run.outcome] = (outcomes[run.outcome] ?? 0) + 1;
      },
    });
  } finally {
    clearInterval(progress);
  }
  const elapsedMs = elapsed();
  const used = process.cpuUsage(cpu);
  process.stdout.write(
    JSON.stringify({
      targets: runs.length,
      elapsedMs,
      cpuMs: (used.user + used.system) / 1000,
      userMs: used.user / 1000,
      systemMs: used.system / 1000,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      outcomes,
      rate: rate.snapshot(),
    }),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
