import { binningFor, STACK_ORDER, timelineBins } from "../../cli/report/charts";
import { DEFAULT_PERIOD_IN_DAYS, parseSince } from "../../cli/report/command";
import { escapeHtml } from "../../cli/report/html";
import { buildReportModel, type ReportInput, type TargetHistory } from "../../cli/report/reportModel";
import { renderReport } from "../../cli/report/render";
import { OUTCOMES, parseDesiredEntity, type Outcome } from "../../shared/model";
import type { HistoryRecord } from "../../shared/stores";

const NOW = new Date("2026-05-04T12:00:00.000Z");
const SINCE = new Date("2026-05-01T00:00:00.000Z");

function run(outcome: Outcome, startedAt: string, extra: Partial<HistoryRecord> = {}): HistoryRecord {
  return {
    runId: `run-${startedAt}`,
    target: "contoso",
    trigger: "timer",
    dryRun: false,
    outcome,
    changedFields: (extra.changes ?? []).map((c) => c.field),
    changes: [],
    correlationId: `corr-${startedAt}`,
    requestIds: [`req-${startedAt}`],
    putMade: outcome === "corrected",
    error: null,
    startedAt,
    durationMs: 100,
    ...extra,
  };
}

// As record.ts writes them: personal values masked, the profile before the PUT whole.
const CORRECTED = run("corrected", "2026-05-03T10:00:00.000Z", {
  changes: [
    { field: "PurchaseOrderNumber", from: "9888", to: "PO-2026" },
    { field: "TaxId", from: "U***", to: "D***" },
    { field: "PrimaryContact_Email", from: "a***@***", to: "b***@***" },
  ],
  putRequestId: "put-1",
  profileBefore: { purchaseOrderNumber: "9888", taxId: "US-91-1144442", primaryContact: { email: "avery.former@contoso.example" } },
  valuesSent: { TaxId: "DE123456789", PrimaryContact_Email: "billing@contoso.example" },
});

function target(runs: HistoryRecord[], desiredRow: Record<string, unknown> = { PurchaseOrderNumber: "PO-2026", TaxId: "DE123456789", PrimaryContact_Email: "billing@contoso.example" }): TargetHistory {
  return { target: "contoso", runs, truncated: false, desired: { state: parseDesiredEntity("contoso", desiredRow) } };
}

const input = (targets: TargetHistory[], showPersonal = false): ReportInput => ({ generatedAt: NOW, since: SINCE, targets, showPersonal });

describe("the report model", () => {
  it("lists every field a PUT changed, old and new, masked where personal; plans and in-sync runs make no correction", () => {
    const model = buildReportModel(input([target([run("in-sync", "2026-05-03T11:00:00.000Z"), CORRECTED, run("drift", "2026-05-02T09:00:00.000Z", { dryRun: true, changes: [{ field: "PurchaseOrderNumber", from: "1", to: "2" }] })])]));
    expect(model.corrections.map((c) => [c.field, c.from, c.to, c.correlationId, c.putRequestId])).toEqual([
      ["PurchaseOrderNumber", { text: "9888", masked: false }, { text: "PO-2026", masked: false }, "corr-2026-05-03T10:00:00.000Z", "put-1"],
      ["TaxId", { text: "U***", masked: true }, { text: "D***", masked: true }, "corr-2026-05-03T10:00:00.000Z", "put-1"],
      ["PrimaryContact_Email", { text: "a***@***", masked: true }, { text: "b***@***", masked: true }, "corr-2026-05-03T10:00:00.000Z", "put-1"],
    ]);
    expect(model.driftLeft).toEqual([]);
    expect(model.runs).toHaveLength(3);
    expect(model.correctionsByField).toEqual([
      { field: "PrimaryContact_Email", count: 1 },
      { field: "PurchaseOrderNumber", count: 1 },
      { field: "TaxId", count: 1 },
    ]);
  });

  it("with --show-personal, shows the old values from the profile the run kept, the new ones it sent, and the desired values", () => {
    const model = buildReportModel(input([target([CORRECTED])], true));
    expect(model.corrections.map((c) => [c.field, c.from.text, c.to])).toEqual([
      ["PurchaseOrderNumber", "9888", { text: "PO-2026", masked: false }],
      ["TaxId", "US-91-1144442", { text: "DE123456789", masked: false }],
      ["PrimaryContact_Email", "avery.former@contoso.example", { text: "billing@contoso.example", masked: false }],
    ]);
    // A row written before ValuesSent existed: the new value stays as history kept it.
    const older = buildReportModel(input([target([{ ...CORRECTED, valuesSent: undefined }])], true));
    expect(older.corrections.map((c) => c.to)).toEqual([{ text: "PO-2026", masked: false }, { text: "D***", masked: true }, { text: "b***@***", masked: true }]);
    expect(model.desired[0].fields).toEqual([
      { field: "PrimaryContact_Email", value: { text: "billing@contoso.example", masked: false } },
      { field: "PurchaseOrderNumber", value: { text: "PO-2026", masked: false } },
      { field: "TaxId", value: { text: "DE123456789", masked: false } },
    ]);
  });

  it("masks the desired state's personal values by default", () => {
    expect(buildReportModel(input([target([])])).desired[0]).toMatchObject({
      state: "valid",
      mode: "enforce",
      fields: [
        { field: "PrimaryContact_Email", value: { text: "b***@***", masked: true } },
        { field: "PurchaseOrderNumber", value: { text: "PO-2026", masked: false } },
        { field: "TaxId", value: { text: "D***", masked: true } },
      ],
    });
  });

  it("keeps failures with their code and ids, the message masked with the target's personal values and e-mail shapes", () => {
    const failed = run("failed", "2026-05-03T12:00:00.000Z", {
      requestIds: ["get-9", "put-9"],
      error: { code: "PartnerCenterError", status: 400, serviceCode: "2001", message: "TaxId DE123456789 refused for someone@else.example", requestId: "put-9" },
    });
    const [row] = buildReportModel(input([target([failed])])).failures;
    expect(row).toMatchObject({ code: "PartnerCenterError", status: 400, serviceCode: "2001", requestIds: ["get-9", "put-9"], message: "TaxId D*** refused for s***@***" });
    expect(buildReportModel(input([target([failed])], true)).failures[0].message).toBe("TaxId DE123456789 refused for someone@else.example");
  });

  it("lists among failures every unsuccessful run, uncertain and interrupted included, and not held, gone or deferred runs", () => {
    const at = (h: number) => `2026-05-03T${String(h).padStart(2, "0")}:00:00.000Z`;
    const runs = (["uncertain", "interrupted", "held", "gone", "deferred", "not-converged"] as const).map((o, i) => run(o, at(10 + i), { error: { code: "X", message: o } }));
    expect(buildReportModel(input([target(runs)])).failures.map((f) => f.outcome).sort()).toEqual(["interrupted", "not-converged", "uncertain"]);
  });

  it("shows drift left in place by observe mode, and an invalid or missing desired row", () => {
    const observed = (at: string) => run("drift", at, { mode: "observe", changes: [{ field: "Address_City", from: "Redmond", to: "Seattle" }] });
    const model = buildReportModel(input([{ target: "contoso", runs: [observed("2026-05-02T09:00:00.000Z"), observed("2026-05-02T08:00:00.000Z")], truncated: false, desired: { problem: "PrimaryContact_Email is not a valid e-mail address (got nobody@x)", properties: { PrimaryContact_Email: "nobody@x" } } }, { target: "gone", runs: [], truncated: false }]));
    expect(model.driftLeft).toEqual([
      {
        target: "contoso",
        field: "Address_City",
        live: { text: "Redmond", masked: false },
        desired: { text: "Seattle", masked: false },
        runs: 2,
        firstSeen: "2026-05-02T08:00:00.000Z",
        lastSeen: "2026-05-02T09:00:00.000Z",
        correlationId: "corr-2026-05-02T09:00:00.000Z",
      },
    ]);
    expect(model.desired).toEqual([
      { target: "contoso", state: "invalid", fields: [], problem: "PrimaryContact_Email is not a valid e-mail address (got n***@***)" },
      { target: "gone", state: "missing", fields: [] },
    ]);
  });
});

describe("the timeline", () => {
  it("bins by hour up to three days, by day up to four months, by week beyond", () => {
    expect(binningFor(2 * 86_400_000).unit).toBe("hour");
    expect(binningFor(30 * 86_400_000).unit).toBe("day");
    expect(binningFor(365 * 86_400_000).unit).toBe("week");
  });

  it("counts runs by outcome in their bin, and stacks every outcome there is", () => {
    const runs = [
      { at: "2026-05-01T00:10:00.000Z", outcome: "in-sync" as const },
      { at: "2026-05-01T23:59:00.000Z", outcome: "failed" as const },
      { at: "2026-05-03T10:00:00.000Z", outcome: "corrected" as const },
      { at: "2026-05-03T11:00:00.000Z", outcome: "corrected" as const },
      { at: "2026-04-30T23:00:00.000Z", outcome: "failed" as const },
    ];
    const { bins, binning } = timelineBins(runs, SINCE, NOW);
    expect(binning.unit).toBe("day");
    expect(bins.map((b) => [new Date(b.start).toISOString().slice(0, 10), b.counts])).toEqual([
      ["2026-05-01", { "in-sync": 1, failed: 1 }],
      ["2026-05-02", {}],
      ["2026-05-03", { corrected: 2 }],
      ["2026-05-04", {}],
    ]);
    expect([...STACK_ORDER].sort()).toEqual([...OUTCOMES].sort());
  });
});

describe("the HTML", () => {
  const hostile = "\"><img src=x onerror=alert(1)><script>alert(2)</script>";
  const nasty = run("failed", "2026-05-03T12:00:00.000Z", {
    correlationId: hostile,
    changes: [{ field: "PurchaseOrderNumber", from: hostile, to: "</td></tr></table><a href='https://evil.example'>x</a>" }],
    putMade: true,
    error: { code: "PartnerCenterError", message: `${hostile} <style>@import url(https://evil.example/x.css)</style>` },
  });
  const html = renderReport(input([target([nasty, CORRECTED], { PurchaseOrderNumber: "PO-<b>bold</b>" })]));

  it("escapes every value from history and the desired rows", () => {
    expect(html).not.toMatch(/<img|<script|<a |<b>|onerror=alert\(1\)>/i);
    expect(html).toContain(escapeHtml(hostile));
    expect(html).toContain("PO-&lt;b&gt;bold&lt;/b&gt;");
    expect(html.match(/<style>/g)).toHaveLength(1);
  });

  it("loads nothing: no script, source, link, url() or import, and a CSP that forbids them", () => {
    const clean = renderReport(input([target([CORRECTED, run("failed", "2026-05-03T12:00:00.000Z", { error: { code: "Timeout", message: "no answer" } })])]));
    expect(clean).not.toMatch(/<script\b|<link\b|<iframe|<object|<embed|<img|\ssrc=|\shref=|@import|url\(/i);
    expect(clean).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
    expect(clean).toMatch(/^<!doctype html>/);
  });

  it("draws the timeline and the corrections by field as inline SVG, with the corrections table", () => {
    expect(html).toMatch(/<svg class="chart timeline"[^>]*>/);
    expect(html).toMatch(/<svg class="chart fields"[^>]*>/);
    expect(html).toMatch(/<rect class="bar" data-outcome="corrected"/);
    expect(html).toMatch(/<table class="corrections">/);
    expect(html).toContain("@media print");
  });

  it("with many targets, lists them in one collapsed line and folds each target's desired section; few start open", () => {
    const many = Array.from({ length: 53 }, (_, i) => ({ ...target([]), target: `customer-${String(i).padStart(2, "0")}` }));
    const big = renderReport(input(many));
    expect(big).toMatch(/<details class="targets"><summary>53 targets<\/summary>customer-00, customer-01, /);
    expect(big.match(/<details class="desired-target">/g)).toHaveLength(53);
    const small = renderReport(input([target([CORRECTED])]));
    expect(small).toMatch(/<dd>contoso<\/dd>/);
    expect(small).toMatch(/<details class="desired-target" open><summary><h3>contoso<\/h3><\/summary>/);
  });

  it("keeps every axis label of the timeline whole: one at the right edge is anchored there", () => {
    // 30 days: day bins, and a label on the last bin, at the right edge.
    const svg = renderReport({ ...input([target([run("in-sync", "2026-05-03T11:00:00.000Z")])]), since: new Date(NOW.getTime() - 30 * 86_400_000) });
    const labels = [...svg.matchAll(/<text class="axis" x="([\d.]+)" y="\d+" text-anchor="(\w+)">([^<]+)<\/text>/g)].map(([, x, anchor, text]) => ({ x: Number(x), anchor, text }));
    const width = 960;
    for (const l of labels) {
      const extent = l.text.length * 3.5;
      const [from, to] = l.anchor === "end" ? [l.x - 2 * extent, l.x] : l.anchor === "start" ? [l.x, l.x + 2 * extent] : [l.x - extent, l.x + extent];
      expect({ label: l.text, inside: from >= 0 && to <= width }).toEqual({ label: l.text, inside: true });
    }
  });

  it("is the same for the same input", () => {
    expect(renderReport(input([target([CORRECTED])]))).toBe(renderReport(input([target([CORRECTED])])));
  });
});

describe("--since", () => {
  it("defaults to 30 days back, takes a date or a time, and names a bad or future value", () => {
    expect(parseSince(undefined, NOW).toISOString()).toBe(new Date(NOW.getTime() - DEFAULT_PERIOD_IN_DAYS * 86_400_000).toISOString());
    expect(parseSince("2026-05-01", NOW).toISOString()).toBe("2026-05-01T00:00:00.000Z");
    expect(parseSince("2026-05-01T08:30:00Z", NOW).toISOString()).toBe("2026-05-01T08:30:00.000Z");
    expect(() => parseSince("last week", NOW)).toThrow('--since must be a date like 2026-05-01 or a time like 2026-05-01T08:00:00Z, got "last week"');
    expect(() => parseSince("2026-02-30", NOW)).toThrow(/--since must be a date/);
    expect(() => parseSince("2027-01-01", NOW)).toThrow("--since 2027-01-01 is in the future");
  });
});
