import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TableClient, type TableEntity, type TransactionAction } from "@azure/data-tables";
import { loadSettings } from "../shared/config";
import { mapWithConcurrency } from "../shared/core";
import { Engine, purgeHistory } from "../shared/engine";
import { entityFromDocument } from "../shared/model";
import { checkRowKey, type HistoryRecord, historyRowKey, TABLES } from "../shared/stores";
import { defaultLiveProfile } from "../simulator/defaultProfile";
import { figure, ROOT, startAzuriteProcess } from "./lib";

/**
 * Storage at fleet scale (issue 21), on Azurite in its own process:
 *
 * 1. FLEET_DAYS (30) simulated days of hourly runs for FLEET_TARGETS (2,000; the figures in
 *    docs/performance.md are for 10,000) targets, 1% corrected a day. The rows are written
 *    directly, as the stores write them (each kind of row is first written once through
 *    HistoryStore.add and then copied per target and day), not by 24 x days x targets runs:
 *    one check row per target and day (24 checks; 23 on a day with a correction), one row
 *    per correction, one status row per target. The rows the old model would hold (one per
 *    run) are counted, not written.
 * 2. status, status --all --json, GET /api/status?summary=true, history --limit 5 and the
 *    report of a day, each a fresh process against those rows: with this build, and with
 *    the build at FLEET_BASE_DIST (the base commit's `tsc` output, checked out elsewhere) for
 *    before/after in one run. FLEET_TIMEOUT_S (300) stops a command that takes longer; the
 *    next waits until Azurite has answered the stopped one's queued queries.
 * 3. The purge of FLEET_PURGE_ROWS (100,000) expired rows (100 per partition), through
 *    purgeHistory as the timer runs it: time, deletes per second, this process's memory.
 */
const TARGETS = Number(process.env.FLEET_TARGETS ?? 2000);
const DAYS = Number(process.env.FLEET_DAYS ?? 30);
const PURGE_ROWS = Number(process.env.FLEET_PURGE_ROWS ?? 100_000);
const TIMEOUT_S = Number(process.env.FLEET_TIMEOUT_S ?? 300);
const BASE_DIST = process.env.FLEET_BASE_DIST;
const DAY = 86_400_000;
const WRITE_CONCURRENCY = 16;

const target = (i: number) => `customer-${String(i).padStart(8, "0")}-0000-4000-8000-000000000000`;

function rssOf(pid: number | undefined): number {
  if (!pid) return 0;
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) * 1024 : 0;
}

function plain(entity: Record<string, unknown>): Record<string, unknown> {
  const { etag: _e, timestamp: _t, "odata.metadata": _m, ...rest } = entity;
  return rest;
}

async function template(client: TableClient, partition: string): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for await (const e of client.listEntities<Record<string, unknown>>({ queryOptions: { filter: `PartitionKey eq '${partition}'` } })) rows.push(plain(e));
  return rows;
}

function timed(args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; ok: boolean; bytes: number; note: string; stopped: boolean }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let bytes = 0;
    let err = "";
    child.stdout.on("data", (c: Buffer) => (bytes += c.length));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    let stopped = false;
    const timer = setTimeout(() => {
      stopped = true;
      child.kill();
    }, TIMEOUT_S * 1000);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      const ms = performance.now() - started;
      // The CLI ends itself on SIGTERM (signals.ts): an exit code, not the signal.
      resolve({ ms, ok: !stopped && (code === 0 || code === 2), bytes, stopped, note: stopped || signal ? `stopped after ${TIMEOUT_S} s` : code === 0 || code === 2 ? "" : err.trim().split("\n").pop()?.slice(0, 160) ?? `exit ${code}` });
    });
  });
}

async function drained(client: TableClient): Promise<number> {
  const started = performance.now();
  for (;;) {
    const asked = performance.now();
    await client.getEntity("no-such-target", "status").catch(() => undefined);
    if (performance.now() - asked < 500 || performance.now() - started > 1_800_000) return performance.now() - started;
  }
}

async function main(): Promise<void> {
  process.stdout.write(`# fleet storage: ${TARGETS} targets, ${DAYS} days, node ${process.version}, ${new Date().toISOString()}\n`);
  const azurite = await startAzuriteProcess();
  const env = { BILLING_SYNC_STORAGE: azurite.connectionString, PARTNER_CENTER_AUTH: "static", PARTNER_CENTER_ACCESS_TOKEN: "bench-token", PARTNER_CENTER_BASE_URL: "http://127.0.0.1:9" };
  try {
    const engine = new Engine(loadSettings(env));
    const history = TableClient.fromConnectionString(azurite.connectionString, TABLES.history, { allowInsecureConnection: true });
    const status = TableClient.fromConnectionString(azurite.connectionString, TABLES.status, { allowInsecureConnection: true });
    const rssBefore = rssOf(azurite.pid);

    // Templates, written once through the store as a run writes them.
    const today = Math.floor(Date.now() / DAY) * DAY;
    const base: HistoryRecord = {
      runId: randomUUID(), target: "tmpl-check", resourceKind: "customer-billing-profile", resourceId: "00000000-0000-4000-8000-000000000000",
      trigger: "queue", dryRun: false, outcome: "in-sync", changedFields: [], changes: [], correlationId: randomUUID(), requestIds: [randomUUID()],
      getRequestId: randomUUID(), putMade: false, etagBefore: "W/\"1\"", error: null, startedAt: new Date(today - DAY).toISOString(), durationMs: 120,
      mode: "enforce", suspended: false, notConverged: [], version: "0.1.0",
    };
    await engine.history.add(base);
    await engine.history.add({
      ...base, target: "tmpl-fix", runId: randomUUID(), outcome: "corrected", changedFields: ["PurchaseOrderNumber"], putMade: true, putRequestId: randomUUID(),
      changes: [{ field: "PurchaseOrderNumber", from: "9888", to: "10001" }], requestIds: [randomUUID(), randomUUID()], etagAfter: "W/\"2\"", profileBefore: defaultLiveProfile(),
    });
    const [checkRow] = await template(history, "tmpl-check");
    const [fixRow] = await template(history, "tmpl-fix");
    const [statusRow] = await template(status, "tmpl-check");

    // 1. The simulated days.
    let payload = 0;
    let corrections = 0;
    const started = performance.now();
    await mapWithConcurrency(Array.from({ length: TARGETS }, (_, i) => i), WRITE_CONCURRENCY, async (i) => {
      const t = target(i);
      await engine.desired.upsert(t, entityFromDocument(t, { CustomerId: "00000000-0000-4000-8000-000000000000", FirstName: "Ada" }));
      const actions: TransactionAction[] = [];
      let last = "";
      for (let d = 0; d < DAYS; d++) {
        const day = today - (DAYS - d) * DAY;
        const corrected = (i + d * 37) % 100 === 0;
        const lastCheck = new Date(day + 23 * 3_600_000).toISOString();
        last = lastCheck;
        actions.push(["create", { ...checkRow, partitionKey: t, rowKey: checkRowKey(lastCheck), RunId: randomUUID(), StartedAt: lastCheck, FirstCheckAt: new Date(day).toISOString(), ChecksCount: corrected ? 23 : 24 } as TableEntity]);
        if (corrected) {
          const at = new Date(day + 12 * 3_600_000 + 5 * 60_000).toISOString();
          const runId = randomUUID();
          actions.push(["create", { ...fixRow, partitionKey: t, rowKey: historyRowKey(at, runId), RunId: runId, StartedAt: at } as TableEntity]);
          corrections++;
        }
      }
      for (const [, e] of actions) payload += JSON.stringify(e).length;
      await history.submitTransaction(actions);
      const latest = JSON.parse(String(statusRow.Latest)) as Record<string, unknown>;
      await status.upsertEntity({ ...statusRow, partitionKey: t, rowKey: "status", Latest: JSON.stringify({ ...latest, at: last }), LatestAt: last } as TableEntity, "Replace");
    });
    const writeMs = performance.now() - started;
    let counted = 0;
    for await (const page of history.listEntities({ queryOptions: { select: ["PartitionKey"] } }).byPage({ maxPageSize: 1000 })) counted += page.length;
    const runRow = JSON.stringify(checkRow).length;
    figure("fleet_targets", TARGETS, "targets");
    figure("fleet_days", DAYS, "days");
    figure("fleet_history_rows", counted, "rows");
    figure("fleet_history_rows_goal", TARGETS * (DAYS + 1) + corrections, "rows at most (targets x (days+1) + the corrections' own rows; 2 template rows besides)");
    figure("fleet_history_rows_one_per_run", TARGETS * DAYS * 24, "rows (the old model: a row per run, counted not written)");
    figure("fleet_history_payload", payload, "bytes (JSON of the rows written)");
    figure("fleet_history_payload_one_per_run", TARGETS * DAYS * 24 * runRow + corrections * (JSON.stringify(fixRow).length - runRow), "bytes (estimated: a run row each)");
    figure("fleet_azurite_rss_growth", rssOf(azurite.pid) - rssBefore, "bytes (Azurite in memory, desired + history + status rows)");
    figure("fleet_write_s", writeMs / 1000, "s");

    // 2. Commands, this build and (when given) the base build.
    const since = new Date(Date.now() - DAY).toISOString().slice(0, 10);
    const commands: [string, (dist: string) => string[]][] = [
      ["status", (dist) => [join(dist, "cli/bin.js"), "status"]],
      ["status_all_json", (dist) => [join(dist, "cli/bin.js"), "status", "--all", "--json"]],
      ["api_status_summary", (dist) => [join(ROOT, "dist/bench/statusApiWorker.js"), dist, "summary=true"]],
      ["history_limit_5", (dist) => [join(dist, "cli/bin.js"), "history", "--limit", "5"]],
      ["report_day", (dist) => [join(dist, "cli/bin.js"), "report", "--since", since, "--out", join(tmpdir(), `fleet-report-${process.pid}.html`)]],
    ];
    const builds: [string, string][] = [["after", join(ROOT, "dist")], ...(BASE_DIST ? [["before", BASE_DIST] as [string, string]] : [])];
    // FLEET_BEFORE_COMMANDS (default: all) names the commands the base build runs too.
    const before = process.env.FLEET_BEFORE_COMMANDS?.split(",");
    for (const [name, args] of commands) {
      for (const [label, dist] of builds) {
        if (label === "before" && before && !before.includes(name)) continue;
        const r = await timed(args(dist), env);
        figure(`fleet_${name}_${label}`, r.ms / 1000, `s${r.ok ? "" : ` FAILED: ${r.note}`}`);
        // A stopped command leaves its queries queued in Azurite (one event loop): the next
        // command would be timed behind them. Wait until a read answers at once again.
        if (r.stopped) figure(`fleet_${name}_${label}_azurite_backlog`, (await drained(status)) / 1000, "s (Azurite still answering the stopped command's queries)");
      }
    }

    // 3. The purge.
    if (PURGE_ROWS <= 0) return;
    const expired = new Date(Date.now() - 500 * DAY);
    const partitions = Math.ceil(PURGE_ROWS / 100);
    const seeded = performance.now();
    await mapWithConcurrency(Array.from({ length: partitions }, (_, p) => p), WRITE_CONCURRENCY, async (p) => {
      const actions = Array.from({ length: Math.min(100, PURGE_ROWS - p * 100) }, (_, k): TransactionAction => {
        const at = new Date(expired.getTime() - k * 3_600_000).toISOString();
        return ["create", { ...fixRow, partitionKey: `expired-${String(p).padStart(6, "0")}`, rowKey: historyRowKey(at, `r${k}`), StartedAt: at, ProfileBefore: undefined } as TableEntity];
      });
      await history.submitTransaction(actions);
    });
    figure("purge_seed_s", (performance.now() - seeded) / 1000, "s");
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(process.memoryUsage().rss), 250);
    const result = await purgeHistory(engine);
    clearInterval(sampler);
    figure("purge_rows", result.total, "rows");
    figure("purge_s", result.durationMs / 1000, "s");
    figure("purge_deletes_per_s", result.total / (result.durationMs / 1000), "rows/s");
    figure("purge_rss_min", Math.min(...samples) / 1048576, "MiB");
    figure("purge_rss_max", Math.max(...samples) / 1048576, "MiB");
    let left = 0;
    for await (const page of history.listEntities({ queryOptions: { select: ["PartitionKey"] } }).byPage({ maxPageSize: 1000 })) left += page.length;
    figure("purge_history_rows_left", left, "rows (the simulated days' rows, none of them expired)");
  } finally {
    azurite.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
