import { TableClient, type TableEntity, type TransactionAction } from "@azure/data-tables";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../cli/main";
import { writeReport } from "../../cli/report/command";
import { buildReportModel } from "../../cli/report/reportModel";
import { renderHistory } from "../../cli/views";
import type { Engine } from "../../shared/engine/engine";
import { planRestore } from "../../shared/engine";
import type { HistoryRecord } from "../../shared/stores";
import { DesiredChangeStore, PURGE_RULES, purgeExpired } from "../../shared/stores";
import { TABLES, TableFactory } from "../../shared/stores/tables";
import { historyRowKey } from "../../shared/stores/historyStore";
import { historyRows, startHarness, type Harness } from "../support/harness";

/**
 * Storage at fleet scale: the status row every run keeps, in-sync checks compacted into one
 * row per target and UTC day, and the purge of what is older than the retention. Azurite
 * and the simulator, real tables throughout.
 */
let h: Harness;
let engine: Engine;

beforeAll(async () => {
  h = await startHarness();
  engine = h.engine();
});
afterAll(() => h.stop());
beforeEach(() => h.resetSimulator());

let seq = 0;
function record(target: string, startedAt: string, extra: Partial<HistoryRecord> = {}): HistoryRecord {
  seq++;
  return {
    runId: `run-${String(seq).padStart(5, "0")}`,
    target,
    trigger: "timer",
    dryRun: false,
    outcome: "in-sync",
    changedFields: [],
    changes: [],
    correlationId: `corr-${seq}`,
    requestIds: [`req-${seq}`],
    putMade: false,
    error: null,
    startedAt,
    durationMs: 5,
    notConverged: [],
    ...extra,
  };
}

function client(table: string): TableClient {
  return TableClient.fromConnectionString(h.storage.connectionString, table, { allowInsecureConnection: true });
}

async function cli(...argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = "";
  const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: () => {}, env: h.env });
  return { code, stdout };
}

describe("the status row", () => {
  it("is kept by every outcome: the latest outcome, the latest run that reached Partner Center, the last correction, pauses since when", async () => {
    await h.setDesired("st-all", { PurchaseOrderNumber: "PO-1" });
    const corrected = await engine.syncTarget({ target: "st-all", trigger: "cli" });
    expect(corrected.outcome).toBe("corrected");
    const inSync = await engine.syncTarget({ target: "st-all", trigger: "cli" });
    expect(inSync.outcome).toBe("in-sync");
    let row = await engine.history.status.get("st-all");
    expect(row?.latest).toMatchObject({ outcome: "in-sync", runId: inSync.runId });
    expect(row?.lastRun?.runId).toBe(inSync.runId);
    expect(row?.lastCorrection).toMatchObject({ runId: corrected.runId, fields: ["PurchaseOrderNumber"] });

    await h.setDesired("st-all", { PurchaseOrderNumber: "PO-2", Mode: "observe" });
    const drift = await engine.syncTarget({ target: "st-all", trigger: "cli" });
    expect(drift.outcome).toBe("drift");
    await h.setDesired("st-all", { PurchaseOrderNumber: "PO-2", Suspended: true });
    const suspended = await engine.syncTarget({ target: "st-all", trigger: "cli" });
    expect(suspended.outcome).toBe("suspended");
    row = await engine.history.status.get("st-all");
    expect(row?.latest).toMatchObject({ outcome: "suspended", runId: suspended.runId });
    // Suspended reached nothing: the last run that did is still the drift run.
    expect(row?.lastRun?.runId).toBe(drift.runId);
    expect(row?.suspendedSince).toBeDefined();

    await h.setDesiredEntity("st-all", { Mode: "enforce", PurchaseOrderNumber: 7 });
    const invalid = await engine.syncTarget({ target: "st-all", trigger: "cli" });
    expect(invalid.outcome).toBe("invalid-desired");
    await h.setDesired("st-all", { PurchaseOrderNumber: "PO-3" });
    h.sim.inject({ method: "GET", fault: { kind: "status", status: 403 } });
    const failed = await engine.syncTarget({ target: "st-all", trigger: "cli" });
    expect(failed.outcome).toBe("failed");
    row = await engine.history.status.get("st-all");
    expect(row?.latest).toMatchObject({ outcome: "failed", runId: failed.runId });
    expect(row?.latest?.error).toBe(failed.error?.message);
    expect(row?.suspended).toBe(false);
    expect(row?.suspendedSince).toBeUndefined();

    const status = await engine.targetStatus("st-all");
    expect(status.lastCorrection?.runId).toBe(corrected.runId);
    expect(status.latestAttempt?.outcome ?? status.lastRun?.outcome).toBe("failed");
  });

  it("takes any outcome with its reason, so outcomes added later (held, gone) need no change", async () => {
    await engine.history.add(record("st-held", "2026-03-01T10:00:00.000Z", { outcome: "held" as HistoryRecord["outcome"], requestIds: ["r1"], ...({ reason: "the sweep's PUT limit (10) was reached" } as object) }));
    const row = await engine.history.status.get("st-held");
    expect(row?.latest).toMatchObject({ outcome: "held", reason: "the sweep's PUT limit (10) was reached" });
  });

  it("keeps the newest by run order under concurrent writers of one target, whatever order they write in", async () => {
    const times = Array.from({ length: 16 }, (_, i) => new Date(Date.UTC(2026, 2, 2, 1, i)).toISOString());
    const shuffled = [...times].sort(() => Math.random() - 0.5);
    const records = shuffled.map((t) => record("st-race", t, { outcome: t === times[3] ? "corrected" : "drift", putMade: t === times[3], changedFields: ["PurchaseOrderNumber"] }));
    await Promise.all(records.map((r) => engine.history.add(r)));
    const row = await engine.history.status.get("st-race");
    expect(row?.latest?.at).toBe(times[15]);
    expect(row?.lastRun?.startedAt).toBe(times[15]);
    expect(row?.lastCorrection?.at).toBe(times[3]);
  });

  it("concurrent runs of one target through the engine: the status row names the run that wrote last in run order", async () => {
    await h.setDesired("st-conc", { PurchaseOrderNumber: "PO-C" });
    const runs = await Promise.all(Array.from({ length: 4 }, () => engine.syncTarget({ target: "st-conc", trigger: "timer" })));
    const meaningful = runs.filter((r) => r.outcome !== "in-progress");
    const rows = await historyRows(h, "st-conc");
    const row = await engine.history.status.get("st-conc");
    // A run that only found the lease taken says nothing about the target (as status has always read it).
    const newest = rows.filter((r) => r.Outcome !== "in-progress" || r.PutPending === true).map((r) => `${String(r.StartedAt)}|${String(r.RunId)}`).sort().pop();
    expect(meaningful.length).toBeGreaterThan(0);
    expect(`${row?.latest?.at}|${row?.latest?.runId}`).toBe(newest);
  });
});

describe("status in pages", () => {
  it("reads status rows a page at a time: no history query for a target with a status row, one for a target with rows from before status rows", async () => {
    for (let i = 0; i < 12; i++) {
      await h.setDesired(`pg-${String(i).padStart(2, "0")}`, { PurchaseOrderNumber: `PO-${i}` });
      await engine.history.add(record(`pg-${String(i).padStart(2, "0")}`, "2026-03-03T10:00:00.000Z", { outcome: i === 5 ? "failed" : "in-sync", error: i === 5 ? { code: "X", message: "broke" } : null }));
    }
    // A row written before this change: straight into the history table, no status row.
    await h.setDesired("pg-old", { PurchaseOrderNumber: "PO-old" });
    await client(TABLES.history).createEntity({
      partitionKey: "pg-old",
      rowKey: historyRowKey("2026-03-03T09:00:00.000Z", "old-run"),
      RunId: "old-run",
      Trigger: "timer",
      DryRun: false,
      Outcome: "conflict",
      ChangedFields: "",
      CorrelationId: "c-old",
      RequestIds: JSON.stringify(["r-old"]),
      PutMade: false,
      StartedAt: "2026-03-03T09:00:00.000Z",
    });
    const e = h.engine();
    const reads: string[] = [];
    const list = e.history.list.bind(e.history);
    e.history.list = (target, options) => {
      reads.push(target);
      return list(target, options);
    };
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await e.statusPage({ pageSize: 5, continuationToken: token });
      seen.push(...page.targets.map((t) => t.target).filter((t) => t.startsWith("pg-")));
      token = page.continuationToken;
    } while (token);
    expect(seen).toEqual([...Array.from({ length: 12 }, (_, i) => `pg-${String(i).padStart(2, "0")}`), "pg-old"]);
    expect(reads).toEqual(["pg-old"]);
    const summary = await e.statusSummary();
    expect(summary.failed.map((f) => f.target)).toEqual(expect.arrayContaining(["pg-05", "pg-old"]));
    expect(reads.filter((t) => t.startsWith("pg-"))).toEqual(["pg-old", "pg-old"]);
    const old = await e.targetStatus("pg-old");
    expect(old.lastRun?.outcome).toBe("conflict");
  });
});

describe("in-sync checks compacted", () => {
  it("one row per target and UTC day: a check on each side of midnight makes two rows", async () => {
    await engine.history.add(record("cp-day", "2026-03-04T23:30:00.000Z"));
    await engine.history.add(record("cp-day", "2026-03-04T22:30:00.000Z"));
    await engine.history.add(record("cp-day", "2026-03-05T00:30:00.000Z"));
    const rows = await historyRows(h, "cp-day");
    expect(rows.map((r) => [r.ChecksCount, r.FirstCheckAt, r.StartedAt])).toEqual([
      [1, "2026-03-05T00:30:00.000Z", "2026-03-05T00:30:00.000Z"],
      [2, "2026-03-04T22:30:00.000Z", "2026-03-04T23:30:00.000Z"],
    ]);
  });

  it("a check and a correction in the same hour: two rows, read back in time order", async () => {
    const check1 = record("cp-hour", "2026-03-06T10:05:00.000Z");
    const correction = record("cp-hour", "2026-03-06T10:20:00.000Z", { outcome: "corrected", putMade: true, changedFields: ["PurchaseOrderNumber"] });
    const check2 = record("cp-hour", "2026-03-06T10:40:00.000Z");
    for (const r of [check1, correction, check2]) await engine.history.add(r);
    const listed = await engine.history.list("cp-hour", { limit: 10 });
    expect(listed.map((r) => [r.outcome, r.startedAt, r.checks?.count])).toEqual([
      ["in-sync", "2026-03-06T10:40:00.000Z", 2],
      ["corrected", "2026-03-06T10:20:00.000Z", undefined],
    ]);
    expect(listed[0].runId).toBe(check2.runId);
    // limit 1 still returns the newest, though the check row's key sorts ahead of the day's runs.
    expect((await engine.history.list("cp-hour", { limit: 1 }))[0].runId).toBe(check2.runId);
    expect(renderHistory(listed)).toContain("in sync, 2 checks, 10:05-10:40");
  });

  it("concurrent in-sync runs of one target count right", async () => {
    const records = Array.from({ length: 25 }, (_, i) => record("cp-conc", new Date(Date.UTC(2026, 2, 7, 0, i)).toISOString()));
    await Promise.all(records.map((r) => engine.history.add(r)));
    const [row] = await historyRows(h, "cp-conc");
    expect(row).toMatchObject({ ChecksCount: 25, FirstCheckAt: records[0].startedAt, StartedAt: records[24].startedAt, RunId: records[24].runId });
  });

  it("real runs: history, status, report, fights, not-converged memory and restore read the compacted rows", async () => {
    await h.setDesired("cp-read", { PurchaseOrderNumber: "PO-R1" });
    const corrected = await engine.syncTarget({ target: "cp-read", trigger: "cli" });
    const checks = [];
    for (let i = 0; i < 3; i++) checks.push(await engine.syncTarget({ target: "cp-read", trigger: "timer" }));
    expect(checks.map((c) => c.outcome)).toEqual(["in-sync", "in-sync", "in-sync"]);
    const rows = await historyRows(h, "cp-read");
    expect(rows).toHaveLength(2);
    const listed = await engine.history.list("cp-read", { limit: 20, columns: "public" });
    expect(listed.map((r) => [r.outcome, r.checks?.count ?? 1])).toEqual([
      ["in-sync", 3],
      ["corrected", 1],
    ]);
    const printed = await cli("history", "--target", "cp-read");
    expect(printed.stdout).toMatch(/in sync, 3 checks, \d\d:\d\d-\d\d:\d\d/);
    const status = await engine.targetStatus("cp-read");
    expect(status.lastRun?.runId).toBe(checks[2].runId);
    expect(status.lastCorrection?.runId).toBe(corrected.runId);
    const model = buildReportModel({ generatedAt: new Date(), since: new Date(Date.now() - 86_400_000), targets: [{ target: "cp-read", runs: listed, truncated: false }], showPersonal: false });
    expect(model.summaries[0]).toMatchObject({ runs: 4, byOutcome: { "in-sync": 3, corrected: 1 } });
    expect(model.runs.reduce((n, r) => n + (r.count ?? 1), 0)).toBe(4);
    const edit = await planRestore(engine, corrected.runId, "cp-read");
    expect(edit.desiredChanges.map((c) => c.field)).toEqual(["PurchaseOrderNumber"]);
    // Fights: a third correction within the day, with checks between, is still counted.
    for (let i = 0; i < 2; i++) {
      h.sim.write({ purchaseOrderNumber: `HAND-${i}` });
      await engine.syncTarget({ target: "cp-read", trigger: "timer" });
      await engine.syncTarget({ target: "cp-read", trigger: "timer" });
    }
    h.sim.write({ purchaseOrderNumber: "HAND-2" });
    const third = await engine.syncTarget({ target: "cp-read", trigger: "timer" });
    expect(third.contested?.map((c) => c.field)).toEqual(["PurchaseOrderNumber"]);
    // The report of one target (its own query) and of every target (one query across them) agree: 9 runs, 3 rows a day.
    const dir = mkdtempSync(join(tmpdir(), "fleet-report-"));
    const one = await writeReport(engine, { out: join(dir, "one.html"), target: "cp-read" });
    const all = await writeReport(engine, { out: join(dir, "all.html") });
    expect(one.runs).toBe(9);
    // Target and runs (the outcome columns shown depend on every target in the report).
    for (const file of ["one.html", "all.html"]) expect(readFileSync(join(dir, file), "utf8")).toContain('<tr><td>cp-read</td><td class="num">9</td>');
    expect(all.runs).toBeGreaterThanOrEqual(9);
  });
});

describe("purge", () => {
  const DAY = 86_400_000;
  // Before every other test's rows here, so that the purge (of the whole table) counts only this test's.
  const now = new Date("2026-02-20T12:00:00.000Z");
  const ago = (days: number, minutes = 0) => new Date(now.getTime() - days * DAY - minutes * 60_000).toISOString();

  it("deletes what is older than the retention in batches, stops at its time budget and resumes where it stopped; a dry run only counts", async () => {
    const tables = new TableFactory({ kind: "connectionString", connectionString: h.storage.connectionString });
    const history = client(TABLES.history);
    await history.createTable().catch(() => undefined);
    // 3 targets x 450 runs 500 days old (expired), a correction 40 days old and a check row 40 days old (kept / expired), and fresh rows.
    for (let t = 0; t < 3; t++) {
      const target = `pu-${t}`;
      for (let start = 0; start < 450; start += 100) {
        const actions = Array.from({ length: Math.min(100, 450 - start) }, (_, i) => {
          const at = ago(500, start + i);
          const entity: TableEntity = { partitionKey: target, rowKey: historyRowKey(at, `old-${start + i}`), Outcome: "corrected", StartedAt: at };
          return ["create", entity] as TransactionAction;
        });
        await history.submitTransaction(actions);
      }
      await engine.history.add(record(target, ago(40), { outcome: "corrected", putMade: true }));
      await engine.history.add(record(target, ago(40, 5)));
      await engine.history.add(record(target, ago(1)));
    }
    const leases = client(TABLES.leases);
    await leases.createTable().catch(() => undefined);
    await leases.upsertEntity({ partitionKey: "pu-0", rowKey: "lease", Holder: "dead", ExpiresAt: ago(2) });
    await leases.upsertEntity({ partitionKey: "pu-1", rowKey: "lease", Holder: "alive", ExpiresAt: new Date(now.getTime() + 60_000).toISOString() });

    const retention = { historyDays: 400, checkDays: 35 };
    const dry = await purgeExpired(tables, { retention, now, dryRun: true });
    expect(dry.removed.map((r) => [r.name, r.rows])).toEqual([
      ["history rows", 1350],
      ["check rows", 3],
      ["expired leases", 1],
      ["desired-state changes", 0],
    ]);
    expect((await historyRows(h)).filter((r) => String(r.partitionKey).startsWith("pu-"))).toHaveLength(1350 + 9);

    const first = await purgeExpired(tables, { retention, now, budgetInMs: 1 });
    expect(first.complete).toBe(false);
    expect(first.total).toBeGreaterThan(0);
    expect(first.total).toBeLessThan(1354);
    const second = await purgeExpired(tables, { retention, now });
    expect(second.complete).toBe(true);
    expect(first.total + second.total).toBe(1354);
    const left = (await historyRows(h)).filter((r) => String(r.partitionKey).startsWith("pu-"));
    expect(left.map((r) => [r.Outcome, r.StartedAt]).sort()).toEqual(
      [0, 1, 2].flatMap(() => [["corrected", ago(40)], ["in-sync", ago(1)]]).sort(),
    );
    const leaseRows = await h.rawRows(TABLES.leases);
    expect(leaseRows.map((r) => r.Holder)).toEqual(["alive"]);
    const again = await purgeExpired(tables, { retention, now });
    expect(again.total).toBe(0);
  });

  it("purges the desired-state change log under the history retention, but keeps each target's last write however old", async () => {
    const tables = new TableFactory({ kind: "connectionString", connectionString: h.storage.connectionString });
    const changes = new DesiredChangeStore(tables);
    const entry = (target: string, at: string, id: string, state: "done" | "abandoned" = "done") =>
      changes.add({ target, id, at, kind: "write", state, actor: "ops@contoso.example", verified: false, via: "cli", command: "desired set", fields: [], etagBefore: "", rowAfter: { PurchaseOrderNumber: id } });
    // "cl-old": only writes older than the retention; "cl-new": old ones and one within it.
    await entry("cl-old", ago(700), "w1");
    await entry("cl-old", ago(600), "w2");
    await entry("cl-old", ago(500, 1), "w3-abandoned", "abandoned");
    await entry("cl-new", ago(700), "n1");
    await entry("cl-new", ago(10), "n2");
    const result = await purgeExpired(tables, { retention: { historyDays: 400, checkDays: 35 }, now, rules: PURGE_RULES.filter((r) => r.table === TABLES.desiredChanges) });
    expect(result.removed).toEqual([{ name: "desired-state changes", table: TABLES.desiredChanges, rows: 2 }]);
    // The newest expired done write of each target stays (one at most): out-of-band edits are judged against it.
    expect((await changes.list("cl-old")).map((e) => e.id)).toEqual(["w2"]);
    expect((await changes.list("cl-new")).map((e) => e.id)).toEqual(["n2", "n1"]);
  });

  it("billing-sync history prune --dry-run says what it would remove", async () => {
    const printed = await cli("history", "prune", "--dry-run");
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(/^Would remove \d+ rows? older than the retention: \d+ history rows \(BillingProfileHistory\), \d+ check rows/);
  });
});
