import type { TargetStatus } from "../shared/engine";
import type { HistoryRecord } from "../shared/stores/historyStore";
import type { RunResult } from "../shared/runResult";

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

function changeLines(run: RunResult, color: boolean): string[] {
  return run.changes.map((c) => `  ${yellow(color, "~")} ${c.field}: ${quote(c.from)} → ${quote(c.to)}`);
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
  return (
    statuses
      .map((s) => {
        const last = s.lastRun ? `${s.lastRun.outcome} at ${s.lastRun.startedAt} (${s.lastRun.trigger})` : "never run";
        const flags = [s.mode === "observe" ? "observe mode" : undefined, s.suspended ? "SUSPENDED" : undefined].filter(Boolean).join(", ");
        return `${s.target}: ${last}${flags ? `; ${flags}` : ""}`;
      })
      .join("\n") + "\n"
  );
}
