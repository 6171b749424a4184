import { type AdoptAllReport, GONE_RUNS_TO_SUSPEND, type RowProblem, type StatusSummary, type TargetStatus } from "../shared/engine";
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

function errorLines(run: RunResult, color: boolean): string[] {
  if (!run.error) return [];
  const lines = [red(color, `  ${run.error.code}: ${run.error.message}`)];
  if (run.error.status !== undefined) lines.push(`  HTTP ${run.error.status}${run.error.requestId ? `, MS-RequestId ${run.error.requestId}` : ""}`);
  return lines;
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
    case "held":
      lines.push(...changeLines(run, color));
      lines.push(
        yellow(
          color,
          run.heldReason === "sweep-limit" && run.sweepId
            ? `  Held: ${fields} to change, nothing written: sweep ${run.sweepId} reached its PUT limit. \`billing-sync approve --sweep ${run.sweepId}\` (or --target ${run.target}) lets it through on its next run.`
            : run.heldReason === "out-of-band"
              ? `  Held: ${fields} to change, nothing written: the desired row was changed outside billing-sync. \`billing-sync desired accept --target ${run.target} --reason <why>\` lets it run.`
              : `  Held: read and planned, nothing written (${fields} would change); the warning below says why.`,
        ),
      );
      break;
    case "gone":
      lines.push(`  The customer's profile answers ${run.error?.status ?? "403/404"}${run.error?.serviceCode ? ` (code ${run.error.serviceCode})` : ""}: the customer has left the partner, or its tenant is deleted. After ${GONE_RUNS_TO_SUSPEND} such runs in a row the target is suspended.`);
      break;
    case "uncertain":
      lines.push(...changeLines(run, color));
      lines.push(yellow(color, `  Uncertain: a PUT went out and its answer was lost; it may have landed. The next run reads the profile and records whether it did; \`billing-sync restore --run ${run.runId}\` undoes it either way.`));
      lines.push(...errorLines(run, color));
      break;
    case "interrupted":
      lines.push(...changeLines(run, color));
      lines.push(yellow(color, `  Interrupted before it ended (a signal, or its lease released by hand); the next run starts again from a fresh read.`));
      lines.push(...errorLines(run, color));
      break;
    case "deferred":
      lines.push(`  Deferred: Partner Center asked to wait, nothing written${run.retryAfterInMs !== undefined ? `; queued again in ${Math.ceil(run.retryAfterInMs / 1000)} s` : ""}.`);
      break;
    default:
      lines.push(...changeLines(run, color));
      if (run.error) {
        lines.push(red(color, `  ${run.error.code}: ${run.error.message}`));
        // InProgress's 409 is what the HTTP API answers, not something Partner Center said.
        if (run.error.status !== undefined && run.error.code !== "InProgress") lines.push(`  HTTP ${run.error.status}${run.error.requestId ? `, MS-RequestId ${run.error.requestId}` : ""}`);
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

/** A day of compacted checks as one line: "in sync, 24 checks, 00:00-23:00" (UTC). */
export function checksLine(checks: { count: number; first: string; last: string }): string {
  const hhmm = (iso: string) => iso.slice(11, 16);
  return `in sync, ${checks.count} check${checks.count === 1 ? "" : "s"}, ${hhmm(checks.first)}-${hhmm(checks.last)}`;
}

export function renderHistory(records: HistoryRecord[], options: { showChanges?: boolean } = {}): string {
  if (records.length === 0) return "No runs recorded.\n";
  const rows = records.map((r) =>
    [
      r.startedAt,
      // What `restore --run` takes.
      r.runId,
      r.target,
      r.trigger + (r.dryRun ? " (dry run)" : ""),
      r.checks ? checksLine(r.checks) : r.outcome,
      r.changedFields.join(",") || "-",
      r.correlationId,
      r.error ? `${r.error.code}${r.error.status ? ` ${r.error.status}` : ""}` : "",
    ].join("  ") + (options.showChanges && r.changes.length ? `\n${r.changes.map((c) => changeLine(c, false)).join("\n")}` : ""),
  );
  return ["started  run-id  target  trigger  outcome  fields  correlation-id  error", ...rows].join("\n") + "\n";
}

export function renderStatus(statuses: TargetStatus[]): string {
  if (statuses.length === 0) return "No targets.\n";
  return statuses
    .map((s) => {
      const last = s.lastRun ? `${s.lastRun.outcome} at ${s.lastRun.startedAt} (${s.lastRun.trigger})` : "never reached Partner Center";
      const flags = [s.mode === "observe" ? `observe mode${s.observeSince ? ` since ${s.observeSince}` : ""}` : undefined, s.suspended ? `SUSPENDED${s.suspendedSince ? ` since ${s.suspendedSince}` : ""}${s.suspendedReason ? `: ${s.suspendedReason}` : ""}` : undefined]
        .filter(Boolean)
        .join(", ");
      const lines = [`${s.target}: ${last}${flags ? `; ${flags}` : ""}`];
      if (s.latestAttempt) lines.push(`  latest run: ${s.latestAttempt.outcome} at ${s.latestAttempt.startedAt} (${s.latestAttempt.trigger})`);
      if (s.lastCorrection) lines.push(`  last correction: ${s.lastCorrection.at}, ${s.lastCorrection.fields.join(", ")} (run ${s.lastCorrection.runId})`);
      for (const c of s.contested) lines.push(`  CONTESTED: ${c.field} corrected ${c.count} times since ${c.since}: something keeps reverting it`);
      for (const n of s.notConverged) lines.push(`  NOT CONVERGED: ${n.field}: desired ${JSON.stringify(n.desired)}, Partner Center holds ${JSON.stringify(n.service)}`);
      if (s.running) lines.push(`  running now: a ${s.running.trigger} run since ${s.running.acquiredAt}`);
      if (s.changedOutside) {
        const o = s.changedOutside;
        lines.push(`  CHANGED OUTSIDE BILLING-SYNC${o.at ? ` (found ${o.at})` : " (not yet seen by a run)"}: ${o.fields.join(", ") || "no field"}; accept it with \`billing-sync desired accept --target ${s.target} --reason "..."\``);
      }
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

/** Problems shown in a human view; --json has them all. */
const SHOWN_PROBLEMS = 50;

function problemLine(p: RowProblem): string {
  const where = p.row === 0 ? `file${p.line !== undefined ? `, line ${p.line}` : ""}` : `row ${p.row}${p.line !== undefined ? ` (line ${p.line})` : ""}`;
  return `  ${where}${p.target ? `, target ${p.target}` : ""}: ${p.message}`;
}

export function renderImport(r: { total: number; written: number; deleted?: number; problems: RowProblem[]; blocked: boolean; partial: boolean }): string {
  const lines = r.problems.slice(0, SHOWN_PROBLEMS).map(problemLine);
  if (r.problems.length > SHOWN_PROBLEMS) lines.push(`  ... and ${r.problems.length - SHOWN_PROBLEMS} more (--json lists them all)`);
  const invalid = r.problems.filter((p) => p.row > 0).length;
  if (r.blocked) {
    const why = r.problems.some((p) => p.row === 0) ? "the file itself has problems" : `${invalid} of ${r.total} rows are invalid`;
    const hint = r.problems.some((p) => p.row === 0) ? "" : ` Fix them, or use --partial to write the ${r.total - invalid} valid rows.`;
    lines.push(`Nothing was written: ${why}.${hint}`);
  } else {
    lines.push(`Wrote ${r.written} desired row${r.written === 1 ? "" : "s"}${invalid ? `; ${invalid} invalid row${invalid === 1 ? "" : "s"} left out` : ""}.`);
    if (r.deleted !== undefined) lines.push(`Deleted ${r.deleted} desired row${r.deleted === 1 ? "" : "s"} of customers not in the file (--prune); their history and change log are kept.`);
  }
  return `${lines.join("\n")}\n`;
}

export function renderAdoptAll(r: AdoptAllReport, options: { applied: boolean }): string {
  const lines = [
    `Customers listed: ${r.listed} in ${r.pages} page${r.pages === 1 ? "" : "s"}${r.skipped ? ` (${r.skipped} items without a tenant id left out)` : ""}; ${r.alreadyManaged} already have a desired row.`,
  ];
  if (r.departed.length > 0) {
    lines.push(`${r.departed.length} desired row${r.departed.length === 1 ? "'s customer is" : "s' customers are"} no longer in the customer list (reported only, nothing changed):`);
    for (const d of r.departed.slice(0, SHOWN_PROBLEMS)) lines.push(`  DEPARTED ${d.target} (CustomerId ${d.customerId})`);
    if (r.departed.length > SHOWN_PROBLEMS) lines.push(`  ... and ${r.departed.length - SHOWN_PROBLEMS} more (--json lists them all)`);
  }
  if (!options.applied) {
    lines.push(r.toAdopt === 0 ? "Nothing to adopt." : `${r.toAdopt} customer${r.toAdopt === 1 ? "" : "s"} would get a desired row holding the live billing profile. Nothing written. Run again with --apply to write them.`);
  } else {
    lines.push(`Adopted ${r.adopted} customer${r.adopted === 1 ? "" : "s"}: each row holds the live billing profile (Mode enforce).`);
    const left = Object.entries(r.fieldsLeftOut);
    if (left.length) lines.push(`  Left unmanaged (live value does not pass validation): ${left.map(([f, n]) => `${f} x${n}`).join(", ")}`);
    for (const f of r.failed.slice(0, SHOWN_PROBLEMS)) lines.push(`  FAILED ${f.customerId}: ${f.message}`);
    if (r.failed.length > SHOWN_PROBLEMS) lines.push(`  ... and ${r.failed.length - SHOWN_PROBLEMS} more failures (--json lists them all)`);
  }
  return `${lines.join("\n")}\n`;
}

const count = (n: number) => n.toLocaleString("en-US");

/** The order of `status`'s "Latest runs" counts: every outcome, then targets never run. */
export const SUMMARY_ORDER: readonly string[] = ["in-sync", "corrected", "drift", "not-converged", "failed", "conflict", "invalid-desired", "gone", "held", "deferred", "uncertain", "interrupted", "suspended", "in-progress", "never-run"];

/** The status of many targets: counts first, then the lists a person acts on (cut at SHOWN_PROBLEMS each). */
export function renderSummary(s: StatusSummary): string {
  if (s.targets === 0) return "No targets: add one with `billing-sync desired set --file desired.json` or `billing-sync desired import --file customers.csv`.\n";
  const kinds = Object.entries(s.byKind)
    .map(([kind, n]) => `${count(n)} ${kind.replace(/-/g, " ")}${n === 1 ? "" : "s"}`)
    .join(", ");
  const flags = [s.suspended ? `${count(s.suspended)} suspended` : "", s.observe ? `${count(s.observe)} in observe mode` : "", s.runningNow ? `${count(s.runningNow)} running now` : ""].filter(Boolean);
  const lines = [`${count(s.targets)} target${s.targets === 1 ? "" : "s"} (${kinds})${flags.length ? `; ${flags.join(", ")}` : ""}.`];
  const outcomes = Object.entries(s.byOutcome).sort(([a], [b]) => SUMMARY_ORDER.indexOf(a) - SUMMARY_ORDER.indexOf(b));
  lines.push(`Latest runs: ${outcomes.map(([o, n]) => `${o} ${count(n)}`).join(", ")}`);
  const list = <T>(title: string, items: T[], line: (item: T) => string) => {
    if (items.length === 0) return;
    lines.push(`${title} (${count(items.length)}):`);
    for (const item of items.slice(0, SHOWN_PROBLEMS)) lines.push(`  ${line(item)}`);
    if (items.length > SHOWN_PROBLEMS) lines.push(`  ... and ${count(items.length - SHOWN_PROBLEMS)} more (--json lists them all)`);
  };
  list("FAILED", s.failed, (f) => `${f.target}: ${f.outcome} at ${f.at}${f.error ? `: ${f.error}` : ""}`);
  list("CONTESTED", s.contested, (c) => `${c.target}: ${c.fields.join(", ")} corrected again and again: something keeps reverting it`);
  list("NOT CONVERGED", s.notConverged, (n) => `${n.target}: Partner Center does not keep ${n.fields.join(", ")}`);
  list("GONE", s.gone ?? [], (g) => `${g.target}: ${g.suspended ? `suspended, ${g.reason ?? "customer gone"}` : `the customer's profile answers 403/404${g.at ? ` (since ${g.at})` : ""}; suspended after ${GONE_RUNS_TO_SUSPEND} such runs in a row`}`);
  list("NEEDS A PERSON", s.needsPerson ?? [], (w) => `${w.target}: ${w.outcome} at ${w.at}: ${w.why}; ${w.action}`);
  if (s.poison) lines.push(`POISON: ${count(s.poison)} queued run(s) failed after every retry`);
  if (s.nextScheduledRun) lines.push(`Next scheduled run: ${s.nextScheduledRun}`);
  return `${lines.join("\n")}\n`;
}
