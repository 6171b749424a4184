import { OUTCOMES, type Outcome } from "../../shared/model";
import { fieldBarsSvg, OUTCOME_COLORS, STACK_ORDER, timelineSvg } from "./charts";
import { escapeHtml as e, timeTag } from "./html";
import { buildReportModel, type CorrectionRow, type DriftRow, type ReportInput, type ReportModel, type ShownValue } from "./reportModel";
import { REPORT_CSS } from "./styles";
import type { DesiredChangeRow } from "./desiredChanges";

/**
 * `billing-sync report`: history records and desired rows in, one self-contained HTML
 * document out. Pure: the same input gives the same bytes. Nothing in the page loads
 * anything (no script, font, image or link), and the Content-Security-Policy says so to
 * the browser too; charts are inline SVG (./charts).
 */
export type { ReportInput, TargetHistory } from "./reportModel";

/** Refuses every fetch the page could make; inline styles are all it needs. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; font-src 'none'; base-uri 'none'; form-action 'none'";

function outcomeTag(outcome: Outcome): string {
  const dark = outcome === "drift" || outcome === "in-progress" || outcome === "suspended" || outcome === "interrupted";
  return `<span class="outcome" style="background:${OUTCOME_COLORS[outcome]}${dark ? ";color:#1b1f24" : ""}">${e(outcome)}</span>`;
}

function value(v: ShownValue): string {
  if (v.text === "") return `<span class="muted">(empty)</span>`;
  return v.masked ? `<span class="value masked" title="masked: personal data">${e(v.text)}</span>` : `<span class="value">${e(v.text)}</span>`;
}

function table(className: string, head: string[], rows: string[][], numeric: number[] = []): string {
  const th = head.map((h, i) => `<th${numeric.includes(i) ? ' class="num"' : ""}>${e(h)}</th>`).join("");
  const body = rows.map((cells) => `<tr>${cells.join("")}</tr>`).join("\n");
  return `<table class="${className}"><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const td = (html: string, className?: string) => `<td${className ? ` class="${className}"` : ""}>${html}</td>`;

function legend(model: ReportModel): string {
  const counts = new Map<Outcome, number>();
  for (const r of model.runs) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + (r.count ?? 1));
  const items = STACK_ORDER.filter((o) => counts.has(o)).map((o) => `<li><span class="swatch" style="background:${OUTCOME_COLORS[o]}"></span>${e(o)} <span class="muted">${counts.get(o)}</span></li>`);
  return `<ul class="legend" aria-label="Outcomes">${items.join("")}</ul>`;
}

function changeTable(className: string, rows: CorrectionRow[]): string {
  return table(
    className,
    ["Time", "Target", "Field", "Old value", "New value", "Outcome", "Trigger", "Correlation id", "Run id", "PUT request id"],
    rows.map((c) => [
      td(timeTag(c.at)),
      td(e(c.target)),
      td(e(c.field)),
      td(value(c.from)),
      td(value(c.to)),
      td(outcomeTag(c.outcome) + (c.pending ? ` <span class="muted">PUT sent, end not recorded</span>` : "")),
      td(e(c.trigger)),
      td(e(c.correlationId), "id"),
      td(e(c.runId), "id"),
      td(e(c.putRequestId ?? ""), "id"),
    ]),
  );
}

function driftTable(rows: DriftRow[]): string {
  return table(
    "drift-left",
    ["Target", "Field", "Live value", "Desired value", "Runs", "First seen", "Last seen", "Last correlation id"],
    rows.map((d) => [td(e(d.target)), td(e(d.field)), td(value(d.live)), td(value(d.desired)), td(String(d.runs), "num"), td(timeTag(d.firstSeen)), td(timeTag(d.lastSeen)), td(e(d.correlationId), "id")]),
    [4],
  );
}

/** Up to this many targets are listed in the header as they are; more are one collapsed line. */
const TARGETS_LISTED_OPEN = 10;
/** Up to this many targets, each desired-state section starts open; more start collapsed. */
const SECTIONS_OPEN = 5;

function targetList(targets: readonly string[]): string {
  if (targets.length === 0) return `<span class="muted">none</span>`;
  if (targets.length <= TARGETS_LISTED_OPEN) return e(targets.join(", "));
  return `<details class="targets"><summary>${targets.length} targets</summary>${e(targets.join(", "))}</details>`;
}

function header(model: ReportModel): string {
  const targets = model.summaries.map((s) => s.target);
  const facts: [string, string][] = [
    ["Period", `${timeTag(model.since)} to ${timeTag(model.generatedAt)}`],
    ["Targets", targetList(targets)],
    ["Runs", String(model.runs.reduce((n, r) => n + (r.count ?? 1), 0))],
    ["Corrections", `${model.corrections.length} field change${model.corrections.length === 1 ? "" : "s"}`],
    ["Source", "the BillingProfileHistory table (one row per run; a day's in-sync checks of a target share one) and BillingProfileDesired (the desired state now)"],
    ["Personal values", model.showPersonal ? "shown where the history holds them (--show-personal)" : "masked (first character kept), as everywhere outside the history table"],
  ];
  const truncated = model.summaries.filter((s) => s.truncated).map((s) => s.target);
  return [
    `<header><h1>Billing profile audit report</h1>`,
    `<dl class="facts">${facts.map(([k, v]) => `<dt>${e(k)}</dt><dd>${v}</dd>`).join("")}</dl>`,
    model.showPersonal ? `<p class="banner">This report shows personal data (names, e-mail, phone, tax id, address lines). Handle it as confidential.</p>` : "",
    truncated.length ? `<p class="banner">Only the newest runs of ${e(truncated.join(", "))} in the period are included: narrow --since or --target for the rest.</p>` : "",
    `</header>`,
  ].join("\n");
}

function summary(model: ReportModel): string {
  const shown = OUTCOMES.filter((o) => model.summaries.some((s) => s.byOutcome[o]));
  return table(
    "summary",
    ["Target", "Runs", ...shown, "Last run", "Last correction"],
    model.summaries.map((s) => [
      td(e(s.target)),
      td(String(s.runs), "num"),
      ...shown.map((o) => td(String(s.byOutcome[o] ?? 0), "num")),
      td(s.lastRun ? `${timeTag(s.lastRun.at)} ${outcomeTag(s.lastRun.outcome)}` : `<span class="muted">no run in the period</span>`),
      td(s.lastCorrection ? timeTag(s.lastCorrection) : `<span class="muted">none</span>`),
    ]),
    [1, ...shown.map((_, i) => i + 2)],
  );
}

function failures(model: ReportModel): string {
  if (model.failures.length === 0) return `<p class="muted">No failed run in the period.</p>`;
  return table(
    "failures",
    ["Time", "Target", "Outcome", "Error", "Message", "Correlation id", "Request ids"],
    model.failures.map((f) => [
      td(timeTag(f.at)),
      td(e(f.target)),
      td(outcomeTag(f.outcome)),
      td(e([f.code, f.status, f.serviceCode && `code ${f.serviceCode}`].filter((x) => x !== undefined && x !== "").join(" "))),
      td(e(f.message)),
      td(e(f.correlationId), "id"),
      td(f.requestIds.map(e).join("<br>"), "id"),
    ]),
  );
}

function changeValue(v: string | null, masked: boolean): string {
  if (v === null) return `<span class="muted">(not managed)</span>`;
  return value({ text: v, masked });
}

/** "Changes to the desired state": who, when, via, why, each field before and after. */
function desiredChanges(model: ReportModel): string {
  const changes = model.desiredChanges;
  if (!changes) return "";
  const intro = `<p class="note">Every change billing-sync made to the desired rows (and every change found made outside it), newest first, from the change log. "verified": the identity comes from the Entra ID token Table Storage accepted; "unverified": the OS user of a connection-string (shared key) session.</p>`;
  if (changes.rows.length === 0) return `<section id="desired-changes"><h2>Changes to the desired state</h2>${intro}<p class="muted">No change to the desired state in the period.</p></section>`;
  const what = (r: DesiredChangeRow) =>
    r.kind === "outside" ? "<strong>changed outside billing-sync</strong>" : r.kind === "accept" ? `${e(r.command)} (accepted)` : r.kind === "delete" ? `${e(r.command)} (row deleted)` : e(r.command);
  const rows = changes.rows.map((r) => [
    td(timeTag(r.at)),
    td(e(r.target)),
    td(what(r) + (r.state === "done" ? "" : ` <span class="muted">(${r.state === "pending" ? "pending" : "did not happen"})</span>`)),
    td(r.kind === "outside" ? `<span class="muted">unknown</span>` : `${e(r.actor)} <span class="muted">(${r.verified ? "verified" : "unverified"}, ${e(r.via)})</span>`),
    td(r.reason ? e(r.reason) : `<span class="muted">none given</span>`),
    td(r.fields.map((f) => `${e(f.field)}: ${changeValue(f.before, f.masked)} → ${changeValue(f.after, f.masked)}`).join("<br>") || `<span class="muted">no field</span>`),
  ]);
  const more = changes.more ? `<p class="muted">${changes.more} older entries are not shown: <code>billing-sync desired log</code> lists them.</p>` : "";
  return `<section id="desired-changes"><h2>Changes to the desired state</h2>${intro}${table("desired-changes", ["Time", "Target", "What", "Who", "Why", "Fields (before → after)"], rows)}${more}</section>`;
}

function desired(model: ReportModel): string {
  if (model.desired.length === 0) return `<p class="muted">No target.</p>`;
  // Each target's section folds: fifty targets open run to tens of thousands of pixels.
  const open = model.desired.length <= SECTIONS_OPEN ? " open" : "";
  const section = (title: string, body: string) => `<details class="desired-target"${open}><summary>${title}</summary>${body}</details>`;
  return model.desired
    .map((d) => {
      const title = `<h3>${e(d.target)}</h3>`;
      if (d.state === "missing") return section(title, `<p class="muted">No desired-state row: the target was removed; its history is above.</p>`);
      if (d.state === "invalid") return section(title, `<p class="banner">The desired-state row is invalid, so runs end invalid-desired: ${e(d.problem ?? "")}</p>`);
      const facts = [`mode ${e(d.mode ?? "")}`, d.suspended ? "<strong>suspended</strong>" : "not suspended", d.account ? e(d.account) : ""].filter(Boolean).join(" · ");
      const fields = d.fields.length
        ? table("desired", ["Field", "Desired value"], d.fields.map((f) => [td(e(f.field)), td(value(f.value))]))
        : `<p class="muted">No managed field.</p>`;
      return section(title, `<p class="muted">${facts}</p>${fields}`);
    })
    .join("\n");
}

export function renderReportModel(model: ReportModel): string {
  const body = [
    header(model),
    `<section id="timeline"><h2>Runs by outcome</h2>${timelineSvg(model.runs, new Date(model.since), new Date(model.generatedAt))}${legend(model)}</section>`,
    `<section id="summary"><h2>Targets</h2>${summary(model)}</section>`,
    `<section id="corrections"><h2>Corrections</h2>`,
    `<p class="note">Every field a run changed in Partner Center (a PUT went out), newest first. The old value is the live one the run replaced; the new one is the desired value it wrote.</p>`,
    fieldBarsSvg(model.correctionsByField),
    model.corrections.length ? changeTable("corrections", model.corrections) : `<p class="muted">No correction in the period.</p>`,
    `</section>`,
    model.driftLeft.length
      ? `<section id="drift-left"><h2>Drift found and left in place</h2><p class="note">Observe mode: runs found these differences and wrote nothing.</p>${driftTable(model.driftLeft)}</section>`
      : "",
    `<section id="failures"><h2>Failures</h2>${failures(model)}</section>`,
    desiredChanges(model),
    `<section id="desired"><h2>Desired state now</h2>${desired(model)}</section>`,
    `<footer>Generated by <code>billing-sync report</code> at ${timeTag(model.generatedAt)}.` +
      (model.showPersonal
        ? " Old values come from the profile each run kept before its PUT; new values are kept in history only masked (†)."
        : " † masked: personal data; <code>billing-sync report --show-personal</code> shows what history holds.") +
      `</footer>`,
  ].join("\n");
  return [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8">`,
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>Billing profile audit report, ${e(model.generatedAt.slice(0, 10))}</title>`,
    `<style>${REPORT_CSS}</style>`,
    `</head><body>`,
    body,
    `</body></html>`,
    "",
  ].join("\n");
}

/** The whole report for these runs and desired rows. */
export function renderReport(input: ReportInput): string {
  return renderReportModel(buildReportModel(input));
}
