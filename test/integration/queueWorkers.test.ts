import { spawn } from "node:child_process";
import { join } from "node:path";
import { QueueServiceClient } from "@azure/storage-queue";
import { Engine } from "../../shared/engine/engine";
import { loadSettings } from "../../shared/config/settings";
import { TARGET_QUEUE } from "../../shared/stores/targetQueue";
import { peakInWindow } from "../../bench/lib";
import { historyRows, startHarness, type Harness } from "../support/harness";

/**
 * The budget holds for the whole Function App (issue 20): the timer's fan-out of 200
 * targets (5% drifted) and 4 queue workers, each a process of its own running the real queue handler
 * (dist/bench/queueWorker.js: batches of 16, as host.json), on one Azurite queue, against
 * the simulator's token bucket of 500 a minute (burst 10). Time scaled 2x: the budget is
 * 500 calls a minute of real time, a simulated minute is 30 s (no more: a message becomes
 * visible in whole seconds, so scaling time packs each second's messages denser, a burst
 * the real service would not see). Each worker's controller
 * alone would allow the whole budget; together they stay within it because the timer
 * makes the messages visible at the budget's pace.
 */
const SCALE = 2;
const BUDGET = 250;
const TARGETS = 200;
const WORKERS = 4;
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ customers: TARGETS, recordRequests: false, latencyMs: 25 }, { queue: true });
});
afterAll(() => h.stop());

/** A warm worker (ready once it polls) and its end. */
function worker(env: Record<string, string>): { ready: Promise<void>; done: Promise<{ ran: number; failed: number }> } {
  const child = spawn(process.execPath, [join(__dirname, "..", "..", "dist", "bench", "queueWorker.js")], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const ready = new Promise<void>((resolve) => child.stderr.on("data", (c: Buffer) => ((err += c), /ready/.test(err) && resolve())));
  child.stdout.on("data", (c: Buffer) => (out += c));
  const done = new Promise<{ ran: number; failed: number }>((resolve, reject) =>
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out) as { ran: number; failed: number }) : reject(new Error(`worker exited ${code}: ${err.slice(-500)}`)))),
  );
  return { ready, done };
}

it("4 queue workers in separate processes: every target synced, the combined rate within the budget, 429s at most 1%", async () => {
  const env = { ...h.env, AzureWebJobsStorage: h.storage.connectionString, PARTNER_CENTER_CALLS_PER_MINUTE: String(BUDGET * SCALE) };
  const engine = new Engine(loadSettings(env));
  const ids = h.sim.customers().ids();
  await Promise.all(ids.map((id, i) => h.setDesiredEntity(`customer-${id}`, { CustomerId: id, Email: (h.sim.customers().profile(i) as { email: string }).email, Mode: "enforce", Suspended: false })));
  for (let i = 0; i < TARGETS; i += 20) h.sim.customers().write(i, { email: `moved${i}@elsewhere.example` });
  await QueueServiceClient.fromConnectionString(h.storage.connectionString).getQueueClient(TARGET_QUEUE).createIfNotExists();
  h.sim.configure({ rateLimit: { perMinute: 500, burst: 10, timeScale: SCALE } });
  const workers = Array.from({ length: WORKERS }, () => worker(env));
  await Promise.all(workers.map((w) => w.ready));
  const before = { ...h.sim.totals };
  const calls = () => h.sim.totals.GET + h.sim.totals.PUT - before.GET - before.PUT;
  const samples: { at: number; calls: number }[] = [];
  const sampler = setInterval(() => samples.push({ at: Date.now(), calls: calls() }), 100);
  const { spreadInSeconds } = await engine.enqueueAll("timer");
  // 200 targets at 500/1.1 a minute of real time: about 26 s.
  expect(spreadInSeconds).toBeGreaterThan(20);
  const reports = await Promise.all(workers.map((w) => w.done));
  clearInterval(sampler);
  samples.push({ at: Date.now(), calls: calls() });
  h.sim.configure({ rateLimit: undefined });

  expect(reports.reduce((n, r) => n + r.ran, 0)).toBeGreaterThanOrEqual(TARGETS);
  // Every worker took a share: the rate was theirs together, not one instance's.
  for (const r of reports) expect(r.ran).toBeGreaterThan(0);
  const outcomes = new Map<string, string>();
  // Rows of a target sort newest first: its first row is its last run (the workers' warm-up run aside).
  for (const row of await historyRows(h)) if (row.partitionKey !== "warm-up" && !outcomes.has(String(row.partitionKey))) outcomes.set(String(row.partitionKey), String(row.Outcome));
  expect(outcomes.size).toBe(TARGETS);
  expect([...outcomes.values()].filter((o) => o !== "in-sync" && o !== "corrected")).toEqual([]);
  const peak = peakInWindow(samples, 60_000 / SCALE);
  // The peak of any simulated minute: the budget, and a burst of ten per worker's controller at most.
  expect(peak).toBeLessThanOrEqual(BUDGET + 10);
  expect((h.sim.totals.throttled - before.throttled) / calls()).toBeLessThanOrEqual(0.01);
}, 150_000);
