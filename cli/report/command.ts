import { writeFileSync } from "node:fs";
import { SyncError, toSyncError } from "../../shared/core";
import type { Engine } from "../../shared/engine";
import type { DesiredRow, HistoryRecord } from "../../shared/stores";
import { checkTargetName, parseDesiredEntity } from "../../shared/model";
import { buildReportModel, type TargetHistory } from "./reportModel";
import { renderReportModel } from "./render";
import { readDesiredChanges } from "./desiredChanges";

/** `billing-sync report`: reads the history and desired tables, writes one HTML file (./render). */
export interface ReportCommandOptions {
  out: string;
  target?: string;
  since?: string;
  showPersonal?: boolean;
}

export interface ReportSummary {
  path: string;
  targets: number;
  runs: number;
  corrections: number;
  failures: number;
  bytes: number;
}

/** Without --since: the last 30 days. */
export const DEFAULT_PERIOD_IN_DAYS = 30;
/** Runs read per target; beyond, the report says it holds only the newest. */
export const MAX_RUNS_PER_TARGET = 10_000;

/** A date (UTC midnight) or a date and time, not in the future. */
export function parseSince(value: string | undefined, now: Date): Date {
  if (value === undefined) return new Date(now.getTime() - DEFAULT_PERIOD_IN_DAYS * 24 * 60 * 60 * 1000);
  const text = value.trim();
  const shape = /^(\d{4})-(\d{2})-(\d{2})([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.exec(text);
  const date = shape ? new Date(text.replace(" ", "T")) : new Date(NaN);
  // Date accepts 2026-02-30 (as March 2): the day must exist in its month.
  const day = shape ? new Date(Date.UTC(Number(shape[1]), Number(shape[2]) - 1, Number(shape[3]))) : undefined;
  if (Number.isNaN(date.getTime()) || !day || day.getUTCDate() !== Number(shape?.[3]) || day.getUTCMonth() !== Number(shape?.[2]) - 1) {
    throw new SyncError("ConfigError", `--since must be a date like 2026-05-01 or a time like 2026-05-01T08:00:00Z, got "${value}"`);
  }
  if (date.getTime() > now.getTime()) throw new SyncError("ConfigError", `--since ${value} is in the future`);
  return date;
}

async function readTarget(engine: Engine, target: string, since: Date, showPersonal: boolean): Promise<TargetHistory> {
  // The unmasked profile a run kept before its PUT is read only when it is to be shown.
  const [runs, row] = await Promise.all([
    engine.history.list(target, { since, limit: MAX_RUNS_PER_TARGET + 1, columns: showPersonal ? undefined : "public" }),
    engine.desired.get(target),
  ]);
  return { target, runs: runs.slice(0, MAX_RUNS_PER_TARGET), truncated: runs.length > MAX_RUNS_PER_TARGET, desired: desiredOf(target, row) };
}

function desiredOf(target: string, row: DesiredRow | undefined): TargetHistory["desired"] {
  if (!row) return undefined;
  try {
    return { state: parseDesiredEntity(target, row.properties) };
  } catch (err) {
    return { problem: toSyncError(err).message, properties: row.properties };
  }
}

/**
 * Every target with a desired row: the period's history in one query across targets
 * (a query per target is thousands of queries), its desired row from the paged read.
 */
async function readEveryTarget(engine: Engine, rows: Map<string, DesiredRow>, since: Date, showPersonal: boolean): Promise<TargetHistory[]> {
  const runsOf = new Map<string, HistoryRecord[]>();
  for await (const { target, runs } of engine.history.listSince(since, { columns: showPersonal ? undefined : "public" })) if (rows.has(target)) runsOf.set(target, runs);
  return [...rows.keys()].map((target) => {
    const runs = runsOf.get(target) ?? [];
    return { target, runs: runs.slice(0, MAX_RUNS_PER_TARGET), truncated: runs.length > MAX_RUNS_PER_TARGET, desired: desiredOf(target, rows.get(target)) };
  });
}

export async function writeReport(engine: Engine, options: ReportCommandOptions, now = new Date()): Promise<ReportSummary> {
  const since = parseSince(options.since, now);
  // A named target is read even without a desired row: a removed target's history is still auditable.
  // Every target: the desired rows in one paged read (not a read per target).
  let rows: Map<string, DesiredRow> | undefined;
  if (options.target === undefined) {
    rows = new Map();
    for await (const row of engine.desired.rows()) rows.set(row.target, row);
  }
  const showPersonal = options.showPersonal === true;
  const histories = rows ? await readEveryTarget(engine, rows, since, showPersonal) : [await readTarget(engine, checkTargetName(options.target!), since, showPersonal)];
  const model = buildReportModel({ generatedAt: now, since, targets: histories, showPersonal });
  model.desiredChanges = await readDesiredChanges(engine, options.target !== undefined ? [checkTargetName(options.target)] : undefined, since, showPersonal);
  const html = renderReportModel(model);
  try {
    writeFileSync(options.out, html, { encoding: "utf8", mode: showPersonal ? 0o600 : 0o644 });
  } catch (err) {
    throw new SyncError("ConfigError", `Cannot write the report to ${options.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return {
    path: options.out,
    targets: histories.length,
    // A day's compacted checks are one entry standing for their count.
    runs: model.runs.reduce((n, r) => n + (r.count ?? 1), 0),
    corrections: model.corrections.length,
    failures: model.failures.length,
    bytes: Buffer.byteLength(html),
  };
}
