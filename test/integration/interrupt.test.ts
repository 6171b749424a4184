import { spawn } from "node:child_process";
import { join } from "node:path";
import { TABLES } from "../../shared/stores/tables";
import { historyRows, startHarness, type Harness } from "../support/harness";
import { cliOn, type CliOutput } from "../support/cli";

/**
 * Ctrl-C in the middle of an untargeted sync, the built CLI in a process of its own, over
 * the simulator with latency (each call takes LATENCY_MS): the process exits within
 * seconds, no lease stays held, no history row stays in-progress, and every PUT the
 * simulator received is in a history row (answered, or sent without an answer). Then
 * `unlock` and the `interrupted` status of a run that died without a record.
 */
const CUSTOMERS = 48;
const LATENCY_MS = 1_500;
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ customers: CUSTOMERS, latencyMs: LATENCY_MS });
  // Every target drifts here on purpose: no sweep's PUT limit holds them (see sweepLimit.test.ts).
  h.env.BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP = String(10 * CUSTOMERS);
  for (let i = 0; i < CUSTOMERS; i++) await h.setDesired(`customer-${h.sim.customers().id(i)}`, { CustomerId: h.sim.customers().id(i), FirstName: `Changed${i}` });
}, 60_000);
afterAll(() => h.stop());

function cli(...argv: string[]): Promise<CliOutput> {
  return cliOn(h, argv);
}

const puts = () => h.sim.requests.filter((r) => r.method === "PUT" && /\/profiles\/billing$/i.test(r.path));

describe("Ctrl-C in the middle of an untargeted sync", () => {
  it("exits within seconds; no lease held, no row in-progress, every PUT received recorded", async () => {
    const bin = join(__dirname, "..", "..", "dist", "cli", "bin.js");
    const child = spawn(process.execPath, [bin, "sync"], { env: { ...process.env, ...h.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => void (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => void (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // The middle of the sync: some PUTs in, most targets not yet started.
    while (puts().length < 3) await new Promise((r) => setTimeout(r, 50));
    const signalledAt = Date.now();
    child.kill("SIGINT");
    const code = await exited;
    const secondsToExit = (Date.now() - signalledAt) / 1000;

    const leases = await h.rawRows(TABLES.leases);
    const rows = await historyRows(h);
    const recorded = new Set(rows.filter((r) => r.PutMade === true || r.PutPending === true || r.Outcome === "uncertain").map((r) => r.PutRequestId));
    const received = puts().map((r) => r.headers["ms-requestid"]);
    const unanswered = rows.filter((r) => r.Outcome === "uncertain" && r.ErrorCode === "Interrupted").length;
    // The figures of the closing note, on request (jest stays quiet unless a test fails).
    if (process.env.BILLING_SYNC_TEST_FIGURES === "1") console.log(`Ctrl-C: ${received.length} PUTs received, ${received.filter((id) => recorded.has(id)).length} recorded (${unanswered} sent without an answer); ${rows.length} rows of ${CUSTOMERS} targets; ${leases.length} leases left; exit ${code} after ${secondsToExit.toFixed(1)} s`);

    expect(code).toBe(130);
    expect(secondsToExit).toBeLessThan(15);
    expect(stderr).toMatch(/SIGINT: no new runs start; the runs under way have 5 s to finish/);
    expect(stdout).toMatch(/Interrupted \(SIGINT\): synced \d+ of 48 targets in [\d.]+ s \(.*\); \d+ not started; \d+ PUTs?/);
    expect(leases).toEqual([]);
    expect(rows.filter((r) => r.Outcome === "in-progress")).toEqual([]);
    expect(received.length).toBeGreaterThan(0);
    expect(received.filter((id) => !recorded.has(id))).toEqual([]);
    expect(rows.length).toBeLessThan(CUSTOMERS);
  }, 60_000);
});

describe("SIGTERM to the Functions worker in the middle of a timer sync", () => {
  it("stops starting runs, records the runs in flight, releases their leases and exits", async () => {
    for (let i = 0; i < CUSTOMERS; i++) await h.setDesired(`customer-${h.sim.customers().id(i)}`, { CustomerId: h.sim.customers().id(i), FirstName: `Again${i}` });
    const before = new Set((await historyRows(h)).map((r) => r.RunId));
    h.sim.resetRequests();
    // The deployed engine bundle, invoked as the worker invokes the timer (no fan-out queue: the targets run here).
    const engine = join(__dirname, "..", "..", "dist", "deploy", "engine.js");
    const script = `const h = require(${JSON.stringify(engine)}); const say = () => {};
      h.runTimer({ log: say, warn: say, debug: say, error: say, invocationId: "timer-1" }).then(() => console.log("timer done"), (e) => console.log("timer failed " + e.message));`;
    const child = spawn(process.execPath, ["-e", script], { env: { ...process.env, ...h.env }, stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    while (puts().length < 3) await new Promise((r) => setTimeout(r, 50));
    const signalledAt = Date.now();
    child.kill("SIGTERM");
    await exited;
    const secondsToExit = (Date.now() - signalledAt) / 1000;

    const rows = (await historyRows(h)).filter((r) => !before.has(r.RunId));
    const recorded = new Set(rows.filter((r) => r.PutMade === true || r.PutPending === true || r.Outcome === "uncertain").map((r) => r.PutRequestId));
    const received = puts().map((r) => r.headers["ms-requestid"]);
    const leases = await h.rawRows(TABLES.leases);
    if (process.env.BILLING_SYNC_TEST_FIGURES === "1") console.log(`SIGTERM (worker): ${received.length} PUTs received, ${received.filter((id) => recorded.has(id)).length} recorded; ${rows.length} rows of ${CUSTOMERS} targets; ${leases.length} leases left; exit after ${secondsToExit.toFixed(1)} s`);
    expect(secondsToExit).toBeLessThan(15);
    expect(leases).toEqual([]);
    expect(rows.filter((r) => r.Outcome === "in-progress")).toEqual([]);
    expect(received.filter((id) => !recorded.has(id))).toEqual([]);
    expect(rows.length).toBeLessThan(CUSTOMERS);
  }, 60_000);
});

describe("a second Ctrl-C", () => {
  it("exits at once; the leases it leaves are released by unlock without --force (their process is gone), and status shows the runs interrupted", async () => {
    for (let i = 0; i < CUSTOMERS; i++) await h.setDesired(`customer-${h.sim.customers().id(i)}`, { CustomerId: h.sim.customers().id(i), FirstName: `Third${i}` });
    h.sim.resetRequests();
    const bin = join(__dirname, "..", "..", "dist", "cli", "bin.js");
    const child = spawn(process.execPath, [bin, "sync"], { env: { ...process.env, ...h.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => void (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    while (puts().length < 3) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 300));
    const secondAt = Date.now();
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(Date.now() - secondAt).toBeLessThan(2_000);
    expect(stderr).toMatch(/SIGINT again: exiting now/);

    const held = (await h.rawRows(TABLES.leases)).map((l) => String(l.partitionKey));
    expect(held.length).toBeGreaterThan(0);
    for (const target of held) {
      const unlocked = await cli("unlock", "--target", target, "--reason", "second Ctrl-C");
      expect({ target, code: unlocked.code, out: unlocked.stdout }).toEqual({ target, code: 0, out: expect.stringMatching(/\(its process is gone\)\. Run .* is recorded as interrupted/) });
    }
    expect(await h.rawRows(TABLES.leases)).toEqual([]);
    const summary = JSON.parse((await cli("status", "--json")).stdout).summary;
    expect(summary.runningNow).toBe(0);
    expect(summary.byOutcome["in-progress"]).toBeUndefined();
  }, 60_000);
});

describe("a run that died without a record, and unlock", () => {
  const target = () => `customer-${h.sim.customers().id(0)}`;

  it("status shows a run whose lease expired without an outcome as interrupted; unlock refuses a live holder, releases with --force and records the run", async () => {
    const engine = h.engine();
    const runId = "11111111-2222-4333-8444-555555555555";
    // What a process killed after its write-ahead row leaves: that row, and its lease.
    const startedAt = new Date().toISOString();
    await engine.history.add({ runId, target: target(), trigger: "cli", dryRun: false, outcome: "in-progress", putPending: true, putMade: false, changedFields: ["FirstName"], changes: [], correlationId: runId, requestIds: [], error: null, startedAt, durationMs: 0 });
    const lease = await engine.leases.acquire(target(), runId, { durationInMs: 60_000, trigger: "cli" });
    expect(lease).toBeDefined();
    // Held by this (live) process: refused, exit 3, nothing released.
    const refused = await cli("unlock", "--target", target());
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/is held by a cli run .* its process is alive: nothing released\. .*--force/);
    expect((await cli("status", "--json")).stdout).toMatch(/"runningNow": 1/);

    const forced = await cli("unlock", "--target", target(), "--force", "--reason", "process killed by the OOM killer");
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(new RegExp(`Released the lease of "${target()}" .*\\(forced\\)\\. Run ${runId} is recorded as interrupted \\(a PUT was about to go out`));
    expect(await h.rawRows(TABLES.leases)).toEqual([]);
    const row = (await historyRows(h, target())).find((r) => r.RunId === runId)!;
    expect(row).toMatchObject({ Outcome: "interrupted", PutPending: true, ErrorCode: "Interrupted" });
    expect(String(row.ErrorMessage)).toMatch(/billing-sync unlock --force\): process killed by the OOM killer/);
    expect((await cli("unlock", "--target", target())).stdout).toMatch(/No lease is held/);
  });

  it("a lease that expired is released without --force; a write-ahead row without a lease shows interrupted in status", async () => {
    const engine = h.engine();
    const runId = "21111111-2222-4333-8444-555555555555";
    await engine.history.add({ runId, target: target(), trigger: "queue", dryRun: false, outcome: "in-progress", putPending: true, putMade: false, changedFields: [], changes: [], correlationId: runId, requestIds: [], error: null, startedAt: new Date(Date.now() + 1000).toISOString(), durationMs: 0 });
    const summary = JSON.parse((await cli("status", "--json")).stdout).summary;
    expect(summary.byOutcome["in-progress"]).toBeUndefined();
    expect(summary.byOutcome.interrupted).toBeGreaterThanOrEqual(1);
    const one = JSON.parse((await cli("status", "--target", target(), "--json")).stdout).targets[0];
    expect(one.latestAttempt.outcome).toBe("interrupted");

    await engine.leases.acquire(target(), "gone-run", { durationInMs: 1, trigger: "timer", now: new Date(Date.now() - 10_000) });
    // Expiry is judged by the service's clock, whose Date header counts whole seconds.
    await new Promise((r) => setTimeout(r, 1_100));
    const released = await cli("unlock", "--target", target(), "--json");
    expect(released.code).toBe(0);
    expect(JSON.parse(released.stdout)).toMatchObject({ released: true, recorded: { runId: "gone-run", putPending: false, replaced: false } });
  });
});

describe("the closing summary of an untargeted sync or plan", () => {
  it("ends with counts by outcome, PUTs and time; --quiet prints only that line", async () => {
    h.sim.configure({ latencyMs: 0 });
    // The pace out of the way: 48 targets' calls at the default budget of 250 a minute would take half a minute.
    h.env.PARTNER_CENTER_CALLS_PER_MINUTE = "600000";
    try {
      for (let i = 0; i < CUSTOMERS; i++) await h.setDesired(`customer-${h.sim.customers().id(i)}`, { CustomerId: h.sim.customers().id(i), FirstName: `Summary${i}` });
      const plan = await cli("plan");
      expect(plan.stdout.trimEnd().split("\n").at(-1)).toMatch(/^Planned \d+ targets in [\d.]+ s \(drift \d+(, [a-z-]+ \d+)*\)\.$/);
      const sync = await cli("sync", "--quiet");
      expect(sync.stderr).toBe("");
      expect(sync.stdout).toMatch(/^Synced \d+ targets in [\d.]+ s \(corrected 48(, [a-z-]+ \d+)*\); 48 PUTs\.\n$/);
      expect(sync.code).toBe(0);
    } finally {
      h.sim.configure({ latencyMs: LATENCY_MS });
    }
  }, 30_000);
});
