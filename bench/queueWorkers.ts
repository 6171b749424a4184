import { join } from "node:path";
import { QueueServiceClient } from "@azure/storage-queue";
import { loadSettings } from "../shared/config";
import { Engine } from "../shared/engine";
import { TARGET_QUEUE } from "../shared/stores";
import { startAzurite } from "../simulator/azurite";
import { PartnerCenterSimulator } from "../simulator/server";
import { figure, peakInWindow, randomToken, ROOT, runNode } from "./lib";

/**
 * The Function App's path (issue 20): the timer's fan-out of TARGETS targets (5% drifted)
 * and WORKERS queue workers, each in a process of its own (bench/queueWorker.ts: the real
 * queue handler, its own engine and rate controller), on one Azurite queue, against a
 * token bucket of 500 a minute with a burst of 10. Every worker's controller keeps its own
 * calls under the budget (250 a minute); what keeps them together under it is the pace at
 * which the timer makes messages visible. Time is scaled as in bench/rateLimits.ts.
 *
 * Measured: the most calls the simulator answered in any simulated minute (sampled every
 * 250 ms real), against the budget; the 429 share.
 */
const TARGETS = Number(process.env.BENCH_TARGETS ?? 1_000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 4);
/** 2 by default, not more: messages become visible in whole seconds, and scaling time packs each second's messages denser. */
const SCALE = Number(process.env.BENCH_QUEUE_TIME_SCALE ?? 2);
const BUDGET = Number(process.env.BENCH_BUDGET ?? 250);
const LATENCY_MS = Number(process.env.BENCH_CUSTOMER_LATENCY_MS ?? 250);
const SAMPLE_MS = 250;

export interface QueueWorkersFigures {
  calls: number;
  throttled: number;
  throttledShare: number;
  /** The most calls in any simulated minute. */
  peakPerMinute: number;
  /** Calls over the whole sweep (first to last call), per simulated minute. */
  meanPerMinute: number;
  elapsedSeconds: number;
  ran: number;
}

export async function queueWorkersBench(): Promise<QueueWorkersFigures> {
  process.stdout.write(`# queue workers: ${TARGETS} targets, ${WORKERS} worker processes, bucket 500/min burst 10, budget ${BUDGET}/min, time scale ${SCALE}x\n`);
  const token = randomToken();
  const sim = new PartnerCenterSimulator({ token, customers: TARGETS, latencyMs: LATENCY_MS / SCALE, recordRequests: false });
  const url = await sim.start();
  const storage = await startAzurite({ queue: true });
  const env = {
    PARTNER_CENTER_BASE_URL: url,
    PARTNER_CENTER_AUTH: "static",
    PARTNER_CENTER_ACCESS_TOKEN: token,
    BILLING_SYNC_STORAGE: storage.connectionString,
    AzureWebJobsStorage: storage.connectionString,
    PARTNER_CENTER_CALLS_PER_MINUTE: String(BUDGET * SCALE),
  };
  try {
    const engine = new Engine(loadSettings(env));
    const ids = sim.customers().ids();
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(ids.slice(i, i + 50).map((id, j) => engine.desired.upsert(`customer-${id}`, { CustomerId: id, Email: (sim.customers().profile(i + j) as { email: string }).email, Mode: "enforce", Suspended: false })));
    }
    for (let i = 0; i < TARGETS; i += 20) sim.customers().write(i, { email: `moved${i}@elsewhere.example` });
    await QueueServiceClient.fromConnectionString(storage.connectionString).getQueueClient(TARGET_QUEUE).createIfNotExists();
    sim.configure({ rateLimit: { perMinute: 500, burst: 10, timeScale: SCALE } });
    // Warm instances (the engine loaded, polling) before the timer fires, as in the Function App.
    const workers = Array.from({ length: WORKERS }, () => {
      let ready: () => void = () => undefined;
      const isReady = new Promise<void>((resolve) => (ready = resolve));
      const done = runNode([join(ROOT, "dist", "bench", "queueWorker.js")], env, { onStderr: (text) => /ready/.test(text) && ready() });
      return { isReady, done };
    });
    await Promise.all(workers.map((w) => w.isReady));
    const before = { ...sim.totals };
    const samples: { at: number; calls: number }[] = [];
    const calls = () => sim.totals.GET + sim.totals.PUT - before.GET - before.PUT;
    const started = Date.now();
    const sampler = setInterval(() => samples.push({ at: Date.now(), calls: calls() }), SAMPLE_MS);
    const { targets, spreadInSeconds } = await engine.enqueueAll("timer");
    process.stderr.write(`# timer: ${targets.length} messages, spread over ${spreadInSeconds} s real\n`);
    const reports = await Promise.all(workers.map((w) => w.done));
    clearInterval(sampler);
    samples.push({ at: Date.now(), calls: calls() });
    const minuteMs = 60_000 / SCALE;
    const peak = peakInWindow(samples, minuteMs);
    const total = calls();
    const first = samples.find((s) => s.calls > 0)?.at ?? started;
    const last = samples.find((s) => s.calls === total)?.at ?? Date.now();
    const f: QueueWorkersFigures = {
      calls: total,
      throttled: sim.totals.throttled - before.throttled,
      throttledShare: (sim.totals.throttled - before.throttled) / total,
      peakPerMinute: peak,
      meanPerMinute: (total / (last - first)) * minuteMs,
      elapsedSeconds: (Date.now() - started) / 1000,
      ran: reports.map((r) => (JSON.parse(r) as { ran: number }).ran).reduce((a, b) => a + b, 0),
    };
    figure("queue_workers_calls", f.calls, "calls");
    figure("queue_workers_429_share", f.throttledShare * 100, "%");
    figure("queue_workers_peak_per_simulated_minute", f.peakPerMinute, "calls");
    figure("queue_workers_mean_per_simulated_minute", f.meanPerMinute, "calls");
    figure("queue_workers_messages_run", f.ran, "messages");
    figure("queue_workers_elapsed_real", f.elapsedSeconds, "s");
    return f;
  } finally {
    await sim.stop();
    await storage.stop();
  }
}

export function queueWorkersGoals(f: QueueWorkersFigures): [string, boolean, string][] {
  return [
    [`${WORKERS} queue workers, ${TARGETS} targets: the combined rate within the budget (${BUDGET}/min)`, f.peakPerMinute <= BUDGET, `peak ${f.peakPerMinute} calls in a simulated minute, mean ${f.meanPerMinute.toFixed(0)}`],
    [`${WORKERS} queue workers: 429 answers <= 1% of calls`, f.throttledShare <= 0.01, `${(f.throttledShare * 100).toFixed(2)}%`],
  ];
}
