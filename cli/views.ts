import type { TargetStatus } from "../shared/engine";
import type { HistoryRecord } from "../shared/stores";
import type { RunResult } from "../shared/model";

/** Human views of runs, history and status. The JSON views are the objects themselves. */
export interface ViewOptions {
  color: boolean;
}

const paint = (code: number) => (on: boolean, text: string) => (on ? `\u001b[${code}m${text}\u001b[0m` : text);
const yellow = paint(33);
const green = paint(32);
const red = paint(31);
const bold = paint(1);

const quote = (value: string) => JSON.stringify(value);

/** `  ~ Field: "from" → "to"`: one changed field, values as given (already masked). */
function changeLine(c: { field: string; from: string; to: string }, color: boolean, indent = "  "): string {
  return `${indent}${yellow(color, "~")} ${c.field}: ${quote(c.from)} → ${quote(c.to)}`;
}

function changeLines(run: RunResult, color: boolean): string[] {
  return run.changes.map((c) => changeLine(c, color));
}

function ids(run: RunResult): string {
  const requests = run.requestIds.length ? `, request ids ${run.requestIds.join(", ")}` : "";
  return `  run ${run.runId}, correlation id ${run.correlationId}${requests}`;
}

/** One run, field by field: a legend-free, Terraform-like plan with a summary line. */
export function renderRun(run: RunResult, options: ViewOptions): string {
  const { color } = options;
  const head = bold(color, `Target ${run.target}${run.dryRun ? " (plan)" : ""}: ${run.outcome}`);
  const n = run.changes.length;
  const fields = `${n} field${n === 1 ? "" : "s"}`;
  const lines = [head];
  switch (run.outcome) {
    case "in-sync":
      lines.push(green(color, `  No changes. The billing profile matches the desired settings.`));
      break;
    case "drift":
      lines.push(...changeLines(run, color));
      lines.push(run.dryRun ? `  Plan: ${fields} to change.` : `  Drift found in ${fields}; observe mode, nothing written.`);
      break;
    case "corrected":
      lines.push(...changeLines(run, color));
      lines.push(green(color, `  Corrected ${fields} with one update.`));
      break;
    case "suspended":
      lines.push("  Suspended in the desired state: not compared, nothing written.");
      break;
    default:
      lines.push(...changeLines(run, color));
      if (run.error) {
        lines.push(red(color, `  ${run.error.code}: ${run.error.message}`));
        if (run.error.status !== undefined) lines.push(`  HTTP ${run.error.status}${run.error.requestId ? `, MS-RequestId ${run.error.requestId}` : ""}`);
      }
  }
  if (run.addressValidation && run.outcome !== "invalid-desired") {
    const v = run.addressValidation;
    const suggested = v.accepted && v.suggestions.length === 1 && v.suggestions[0].length > 0 ? `; suggestion sent: ${v.suggestions[0].map((c) => `${c.field} ${quote(c.to)}`).join(", ")}` : "";
    lines.push(`  Address validation: ${v.status}${suggested}`);
  }
  for (const warning of run.warnings ?? []) lines.push(yellow(color, `  Warning: ${warning}`));
  lines.push(ids(run));
  if (!run.recorded) lines.push(red(color, "  This run could not be written to history (see the error above)."));
  return lines.join("\n") + "\n";
}

export function renderRuns(runs: RunResult[], options: ViewOptions): string {
  if (runs.length === 0) return "No targets: add one with `billing-sync desired set --file desired.json`.\n";
  return runs.map((r) => renderRun(r, options)).join("\n");
}

export function renderHistory(records: HistoryRecord[]): string {
  if (records.length === 0) return "No runs recorded.\n";
  const rows = records.map((r) =>
    [
      r.startedAt,
      r.target,
      r.trigger + (r.dryRun ? " (dry run)" : ""),
      r.outcome,
      r.changedFields.join(",") || "-",
      r.correlationId,
      r.error ? `${r.error.code}${r.error.status ? ` ${r.error.status}` : ""}` : "",
    ].join("  "),
  );
  return ["started  target  trigger  outcome  fields  correlation-id  error", ...rows].join("\n") + "\n";
}

export function renderStatus(statuses: TargetStatus[]): string {
  if (statuses.length === 0) return "No targets.\n";
  return statuses
    .map((s) => {
      const last = s.lastRun ? `${s.lastRun.outcome} at ${s.lastRun.startedAt} (${s.lastRun.trigger})` : "never reached Partner Center";
      const flags = [s.mode === "observe" ? `observe mode${s.observeSince ? ` since ${s.observeSince}` : ""}` : undefined, s.suspended ? `SUSPENDED${s.suspendedSince ? ` since ${s.suspendedSince}` : ""}` : undefined]
        .filter(Boolean)
        .join(", ");
      const lines = [`${s.target}: ${last}${flags ? `; ${flags}` : ""}`];
      if (s.latestAttempt) lines.push(`  latest run: ${s.latestAttempt.outcome} at ${s.latestAttempt.startedAt} (${s.latestAttempt.trigger})`);
      if (s.lastCorrection) lines.push(`  last correction: ${s.lastCorrection.at}, ${s.lastCorrection.fields.join(", ")} (run ${s.lastCorrection.runId})`);
      for (const c of s.contested) lines.push(`  CONTESTED: ${c.field} corrected ${c.count} times since ${c.since}: something keeps reverting it`);
      for (const n of s.notConverged) lines.push(`  NOT CONVERGED: ${n.field}: desired ${JSON.stringify(n.desired)}, Partner Center holds ${JSON.stringify(n.service)}`);
      if (s.running) lines.push(`  running now: a ${s.running.trigger} run since ${s.running.acquiredAt}`);
      if (s.poison.length) lines.push(`  POISON: ${s.poison.length} queued run(s) failed after every retry (last ${s.poison[0].insertedOn ?? "?"})`);
      if (s.nextScheduledRun) lines.push(`  next scheduled run: ${s.nextScheduledRun}`);
      return lines.join("\n");
    })
    .join("\n") + "\n";
}

export function renderEdit(edit: { target: string; desiredChanges: { field: string; from: string; to: string }[]; plan: { field: string; from: string; to: string }[] }, options: ViewOptions & { applied: boolean }): string {
  const { color } = options;
  if (edit.desiredChanges.length === 0) return `Target ${edit.target}: the desired state already holds these values; nothing to change.\n`;
  const lines = [bold(color, `Target ${edit.target}: desired state ${options.applied ? "changed" : "would change"}`)];
  for (const c of edit.desiredChanges) lines.push(changeLine(c, color));
  lines.push(edit.plan.length === 0 ? "  Then: the live profile already matches; no update needed." : `  Then a sync changes ${edit.plan.length} field(s) in Partner Center:`);
  for (const c of edit.plan) lines.push(changeLine(c, color, "    "));
  if (!options.applied) lines.push("  Nothing written. Run again with --apply to write it.");
  return lines.join("\n") + "\n";
}
