import type { DesiredChangeRow } from "./desiredChanges";
import { getPath, type JsonObject } from "../../shared/core";
import { CONTROL_PROPERTIES, isPersonal, maskKnownValues, maskValue, OUTCOMES, outcomeClass, type DesiredState, type Outcome, type Trigger } from "../../shared/model";
import type { HistoryRecord } from "../../shared/stores";

/**
 * What the audit report shows, worked out from the history table and the desired rows:
 * pure, no I/O, no HTML. Masking is decided here, once: personal values are masked as
 * everywhere outside the history table unless the operator asked for them
 * (--show-personal), and then only values the history really holds unmasked are shown.
 */

/** One target's part of the history and its desired row as read. */
export interface TargetHistory {
  target: string;
  /** Runs started in the period, newest first (as HistoryStore.list returns them). */
  runs: HistoryRecord[];
  /** The period held more runs than were read. */
  truncated: boolean;
  /** The validated desired row, why it is invalid, or undefined when the target has none. */
  desired?: { state: DesiredState } | { problem: string; properties: Record<string, unknown> };
}

export interface ReportInput {
  generatedAt: Date;
  since: Date;
  targets: TargetHistory[];
  showPersonal: boolean;
}

/** A value as shown: masked tells the reader (and the page) it is not the real one. */
export interface ShownValue {
  text: string;
  masked: boolean;
}

export interface CorrectionRow {
  at: string;
  target: string;
  runId: string;
  outcome: Outcome;
  trigger: Trigger;
  field: string;
  from: ShownValue;
  to: ShownValue;
  correlationId: string;
  putRequestId?: string;
  /** A PUT went out but the run did not record how it ended. */
  pending: boolean;
}

/** The same difference found again and again in observe mode: one row, not one per run. */
export interface DriftRow {
  target: string;
  field: string;
  live: ShownValue;
  desired: ShownValue;
  runs: number;
  firstSeen: string;
  lastSeen: string;
  /** Of the newest run that found it. */
  correlationId: string;
}

export interface FailureRow {
  at: string;
  target: string;
  runId: string;
  outcome: Outcome;
  code: string;
  status?: number;
  serviceCode?: string;
  message: string;
  correlationId: string;
  requestIds: string[];
}

export interface DesiredView {
  target: string;
  state: "valid" | "invalid" | "missing";
  mode?: string;
  suspended?: boolean;
  account?: string;
  fields: { field: string; value: ShownValue }[];
  problem?: string;
}

export interface TargetSummary {
  target: string;
  runs: number;
  byOutcome: Partial<Record<Outcome, number>>;
  lastRun?: { at: string; outcome: Outcome };
  lastCorrection?: string;
  truncated: boolean;
}

export interface ReportModel {
  generatedAt: string;
  since: string;
  showPersonal: boolean;
  /** Every run of the period, for the timeline; a day's compacted checks are one entry of `count` runs. */
  runs: { at: string; outcome: Outcome; target: string; count?: number }[];
  summaries: TargetSummary[];
  /** Field changes the runs made (a PUT went out), newest first. */
  corrections: CorrectionRow[];
  /** Differences found and left in place (observe mode), newest first. */
  driftLeft: DriftRow[];
  failures: FailureRow[];
  /** Corrections per field, most first. */
  correctionsByField: { field: string; count: number }[];
  desired: DesiredView[];
  /** The change log of the period (./desiredChanges); absent = not read. */
  desiredChanges?: { rows: DesiredChangeRow[]; more: number };
}

/** The report's failures: every unsuccessful run (outcomeClass.ts), uncertain and interrupted ones included: an audit wants each PUT whose end is not known. */
const FAILED: ReadonlySet<Outcome> = new Set(OUTCOMES.filter((o) => !outcomeClass(o).success));

function shown(field: string, value: string, real: string | undefined, showPersonal: boolean): ShownValue {
  if (!isPersonal(field)) return { text: value, masked: false };
  if (showPersonal && real !== undefined) return { text: real, masked: false };
  // History keeps changes masked already; masking again is harmless (the mask is stable).
  return { text: maskValue(value), masked: true };
}

/** The field's value in the profile a run kept before its PUT: the one unmasked copy history holds. */
function valueBefore(profile: JsonObject | undefined, field: string): string | undefined {
  if (!profile) return undefined;
  const value = getPath(profile, field.split("_"));
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function personalValuesOf(desired: TargetHistory["desired"]): string[] {
  if (!desired) return [];
  if ("state" in desired) return [...desired.state.fields].filter(([field]) => isPersonal(field)).map(([, value]) => value);
  // An invalid row: any property but the control ones may be a (misspelt) personal field.
  const control: readonly string[] = CONTROL_PROPERTIES;
  return Object.entries(desired.properties)
    .filter(([name, value]) => typeof value === "string" && !control.includes(name))
    .map(([, value]) => value as string);
}

function changeRows(run: HistoryRecord, showPersonal: boolean): CorrectionRow[] {
  return run.changes.map((change) => ({
    at: run.startedAt,
    target: run.target,
    runId: run.runId,
    outcome: run.outcome,
    trigger: run.trigger,
    field: change.field,
    from: shown(change.field, change.from, valueBefore(run.profileBefore, change.field), showPersonal),
    to: shown(change.field, change.to, run.valuesSent?.[change.field], showPersonal),
    correlationId: run.correlationId,
    putRequestId: run.putRequestId,
    pending: run.putPending === true,
  }));
}

function desiredView(t: TargetHistory, showPersonal: boolean): DesiredView {
  const d = t.desired;
  if (!d) return { target: t.target, state: "missing", fields: [] };
  if ("problem" in d) {
    const problem = showPersonal ? d.problem : maskKnownValues(d.problem, personalValuesOf(d));
    return { target: t.target, state: "invalid", fields: [], problem };
  }
  const { state } = d;
  const account = [state.account.tenantId && `tenant ${state.account.tenantId}`, state.account.credentialRef && `secret ${state.account.credentialRef}`].filter(Boolean).join(", ");
  return {
    target: t.target,
    state: "valid",
    mode: state.mode,
    suspended: state.suspended,
    account: account || undefined,
    fields: [...state.fields].sort(([a], [b]) => (a < b ? -1 : 1)).map(([field, value]) => ({ field, value: shown(field, value, value, showPersonal) })),
  };
}

/** Rows newest first in; one row per target, field and pair of values out, newest first. */
function groupDrift(rows: CorrectionRow[]): DriftRow[] {
  const groups = new Map<string, DriftRow>();
  for (const row of rows) {
    const key = JSON.stringify([row.target, row.field, row.from.text, row.to.text]);
    const seen = groups.get(key);
    if (seen) {
      seen.runs++;
      seen.firstSeen = row.at;
    } else {
      groups.set(key, { target: row.target, field: row.field, live: row.from, desired: row.to, runs: 1, firstSeen: row.at, lastSeen: row.at, correlationId: row.correlationId });
    }
  }
  return [...groups.values()];
}

export function buildReportModel(input: ReportInput): ReportModel {
  const { showPersonal } = input;
  const runs = input.targets.flatMap((t) => t.runs).sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
  const scrub = new Map(input.targets.map((t) => [t.target, (text: string) => (showPersonal ? text : maskKnownValues(text, personalValuesOf(t.desired)))]));

  const corrections = runs.filter((r) => r.putMade || r.putPending).flatMap((r) => changeRows(r, showPersonal));
  const driftLeft = groupDrift(runs.filter((r) => r.outcome === "drift" && !r.dryRun).flatMap((r) => changeRows(r, showPersonal)));
  const failures: FailureRow[] = runs
    .filter((r) => FAILED.has(r.outcome))
    .map((r) => ({
      at: r.startedAt,
      target: r.target,
      runId: r.runId,
      outcome: r.outcome,
      code: r.error?.code ?? "",
      status: r.error?.status,
      serviceCode: r.error?.serviceCode,
      message: scrub.get(r.target)?.(r.error?.message ?? "") ?? "",
      correlationId: r.correlationId,
      requestIds: [...new Set([...r.requestIds, ...(r.error?.requestId ? [r.error.requestId] : [])])],
    }));

  const byField = new Map<string, number>();
  for (const c of corrections) byField.set(c.field, (byField.get(c.field) ?? 0) + 1);

  const summaries: TargetSummary[] = input.targets.map((t) => {
    const byOutcome: Partial<Record<Outcome, number>> = {};
    for (const r of t.runs) byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + (r.checks?.count ?? 1);
    const newest = [...t.runs].sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));
    return {
      target: t.target,
      runs: t.runs.reduce((n, r) => n + (r.checks?.count ?? 1), 0),
      byOutcome,
      lastRun: newest[0] && { at: newest[0].startedAt, outcome: newest[0].outcome },
      lastCorrection: newest.find((r) => r.putMade)?.startedAt,
      truncated: t.truncated,
    };
  });

  return {
    generatedAt: input.generatedAt.toISOString(),
    since: input.since.toISOString(),
    showPersonal,
    runs: runs.map((r) => ({ at: r.startedAt, outcome: r.outcome, target: r.target, ...(r.checks ? { count: r.checks.count } : {}) })),
    summaries,
    corrections,
    driftLeft,
    failures,
    correctionsByField: [...byField].map(([field, count]) => ({ field, count })).sort((a, b) => b.count - a.count || (a.field < b.field ? -1 : 1)),
    desired: input.targets.map((t) => desiredView(t, showPersonal)),
  };
}
