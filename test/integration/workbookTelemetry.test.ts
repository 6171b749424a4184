import { loadSettings } from "../../shared/config/settings";
import { Engine } from "../../shared/engine/engine";
import { streamLogger } from "../../shared/core/logger";
import { OUTCOME_CLASSES, type Outcome, type RunResult } from "../../shared/model";
import { writeDesiredRow } from "../../shared/engine/desiredWrite";
import { entityFromDocument } from "../../shared/model/desired";
import { startTelemetry, withTelemetry, type Telemetry } from "../../shared/telemetry";
import { defaultLiveProfile } from "../../simulator/defaultProfile";
import { startAuthRig, type AuthRig } from "../support/authRig";
import { fastRetry, startHarness, type Harness } from "../support/harness";
import { IngestionCapture, type Envelope } from "../support/ingestion";
import { allItems, dimensionsRead, literalsComparedWith, loadWorkbook, queriesOf, tablesRead, type WorkbookQuery } from "../support/workbook";

/**
 * What the dashboard reads is what the app sends. Real runs of the engine, one of every
 * kind a panel shows (corrected, in sync, throttled, drift found, failed, conflict, not
 * converged, invalid desired state, and a run on the production auth path that rotates the
 * refresh token), go through the real Application Insights exporter to a local ingestion
 * endpoint; the telemetry it receives, sorted into the tables the portal shows, is the
 * schema every customDimensions.X, record name and compared literal of the workbook must
 * be found in. Renaming a dimension in shared/telemetry fails this file.
 *
 * The exporter trusts the capture's throwaway certificate through tlsOptions.ca (it runs
 * in this process); the token endpoint and Key Vault are the local stand-ins of authRig.
 */

/** Envelope type → the classic Application Insights table its records land in. */
const TABLE_OF: Record<string, string> = {
  "Microsoft.ApplicationInsights.Request": "requests",
  "Microsoft.ApplicationInsights.RemoteDependency": "dependencies",
  "Microsoft.ApplicationInsights.Message": "traces",
  "Microsoft.ApplicationInsights.Exception": "exceptions",
  "Microsoft.ApplicationInsights.Event": "customEvents",
  "Microsoft.ApplicationInsights.Metric": "customMetrics",
};

/** What the exporter sent, as the portal would see it. */
interface Sent {
  /** table → customDimensions names seen on its records. */
  dimensions: Map<string, Set<string>>;
  /** dimension → values seen (any table). */
  values: Map<string, Set<string>>;
  traceMessages: Set<string>;
  eventNames: Set<string>;
  metricNames: Set<string>;
  exceptionTypes: Set<string>;
  resultCodes: Set<string>;
}

function add<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key) ?? new Set<V>();
  set.add(value);
  map.set(key, set);
}

function sentTelemetry(envelopes: Envelope[]): Sent {
  const sent: Sent = { dimensions: new Map(), values: new Map(), traceMessages: new Set(), eventNames: new Set(), metricNames: new Set(), exceptionTypes: new Set(), resultCodes: new Set() };
  for (const e of envelopes) {
    const table = TABLE_OF[e.name];
    if (!table) continue;
    const data = e.data.baseData as Record<string, unknown> & { properties?: Record<string, string> };
    for (const [name, value] of Object.entries(data.properties ?? {})) {
      add(sent.dimensions, table, name);
      add(sent.values, name, value);
    }
    if (table === "traces") sent.traceMessages.add(String(data.message));
    if (table === "customEvents") sent.eventNames.add(String(data.name));
    if (table === "customMetrics") for (const m of data.metrics as { name: string }[]) sent.metricNames.add(m.name);
    if (table === "exceptions") for (const x of data.exceptions as { typeName: string }[]) sent.exceptionTypes.add(x.typeName);
    if (table === "dependencies") sent.resultCodes.add(String(data.resultCode));
  }
  return sent;
}

/** customDimensions a query reads that no record of the tables it reads carries. */
function unsentDimensions(queries: WorkbookQuery[], sent: Sent): { where: string; dimension: string; tables: string[] }[] {
  return queries.flatMap(({ where, query }) => {
    const tables = tablesRead(query);
    return dimensionsRead(query)
      .filter((dimension) => !tables.some((table) => sent.dimensions.get(table)?.has(dimension)))
      .map((dimension) => ({ where, dimension, tables }));
  });
}

/** Literals a query compares a column with that never came in: a record name, an exception type, an answer code, a dimension value. */
function unsentLiterals(queries: WorkbookQuery[], sent: Sent): { where: string; column: string; value: string }[] {
  const known: Record<string, Set<string>> = {
    message: sent.traceMessages,
    name: new Set([...sent.eventNames, ...sent.metricNames]),
    type: sent.exceptionTypes,
    resultCode: sent.resultCodes,
    dryRun: sent.values.get("dryRun") ?? new Set(),
    trigger: sent.values.get("trigger") ?? new Set(),
  };
  return queries.flatMap(({ where, query }) =>
    Object.entries(known).flatMap(([column, values]) => literalsComparedWith(query, column).filter((value) => !values.has(value)).map((value) => ({ where, column, value }))),
  );
}

const DESIRED = { PurchaseOrderNumber: "PO-WB-1", PrimaryContact: { Email: "wb.billing@contoso.example" } };

let h: Harness;
let rig: AuthRig;
let capture: IngestionCapture;
let telemetry: Telemetry;
let sent: Sent;
const results = new Map<string, RunResult>();
const workbookQueries = queriesOf(loadWorkbook());

beforeAll(async () => {
  capture = new IngestionCapture();
  rig = await startAuthRig();
  [h] = await Promise.all([startHarness({ acceptToken: (token) => rig.endpoint.acceptsAccessToken(token) }), capture.start()]);
  const told: string[] = [];
  const settings = loadSettings({ ...h.env, APPLICATIONINSIGHTS_CONNECTION_STRING: capture.connectionString() });
  telemetry = startTelemetry(settings, { mode: "process", report: (m) => told.push(m), exporterClientOptions: { tlsOptions: { ca: capture.ca } } })!;
  expect(telemetry).toBeDefined();
  const log = streamLogger((l) => h.output.push(l), { verbose: true });
  const engine = new Engine(settings, withTelemetry({ log, retry: fastRetry(h.waits) }, telemetry));

  const run = async (name: string, target: string, prepare: () => void | Promise<void>, dryRun = false, on = engine) => {
    h.resetSimulator();
    await prepare();
    results.set(name, await on.syncTarget({ target, trigger: "cli", dryRun }));
  };
  const desired = (target: string, doc: unknown = DESIRED) => () => h.setDesired(target, doc);

  await run("corrected", "wb-main", desired("wb-main"));
  await run("in-sync", "wb-main", () => h.sim.setProfile({ ...defaultLiveProfile(), purchaseOrderNumber: "PO-WB-1", primaryContact: { ...(defaultLiveProfile().primaryContact as object), email: "wb.billing@contoso.example" } }));
  await run("throttled", "wb-throttled", async () => {
    await h.setDesired("wb-throttled", { PurchaseOrderNumber: "9888" });
    h.sim.inject({ method: "GET", fault: { kind: "throttle", retryAfterSeconds: 1 } });
  });
  await run("drift", "wb-main", () => undefined, true);
  await run("failed", "wb-failed", async () => {
    await h.setDesired("wb-failed", DESIRED);
    h.sim.inject({ method: "PUT", fault: { kind: "status", status: 400, body: JSON.stringify({ code: 2001, description: "refused", source: "PartnerFD" }) } });
  });
  await run("conflict", "wb-conflict", async () => {
    await h.setDesired("wb-conflict", DESIRED);
    h.sim.inject({ method: "PUT", times: 3, fault: { kind: "stale" } });
  });
  await run("not-converged", "wb-rewrite", async () => {
    await h.setDesired("wb-rewrite", { Address: { City: "Seattle" } });
    h.sim.configure({ rewrite: (profile) => void ((profile.address as Record<string, unknown>).city = "SEATTLE-WA") });
  });
  h.sim.configure({ rewrite: undefined });
  await run("invalid-desired", "wb-invalid", () => h.setDesiredEntity("wb-invalid", { PurchaseOrderNumber: 42 }));
  // A customer the partner does not have: Partner Center answers 404, the run ends gone.
  await run("gone", "wb-gone", () => h.setDesired("wb-gone", { CustomerId: "0badc0de-0000-4000-8000-000000000001", FirstName: "X" }));
  // Change control: a logged write of a desired row, then an edit made outside billing-sync that the next run finds.
  const changed = entityFromDocument("wb-changes", DESIRED);
  await writeDesiredRow(engine, { target: "wb-changes", after: changed }, { actor: { name: "ops@host", verified: false }, via: "cli", command: "desired set", onEvent: engine.deps.onEvent });
  await run("changed-outside", "wb-changes", () => h.setDesiredEntity("wb-changes", { ...changed, PurchaseOrderNumber: "PO-HAND" }), true);

  // The production auth path: the refresh-token credential rotates the token in Key Vault.
  rig.consent();
  const userSettings = loadSettings({ ...h.env, ...rig.env, PARTNER_CENTER_ACCESS_TOKEN: "" });
  const userEngine = new Engine(userSettings, withTelemetry({ log, retry: fastRetry(h.waits), userAuth: rig.userAuth() }, telemetry));
  await run("rotated", "wb-user", desired("wb-user"), false, userEngine);

  expect(await telemetry.shutdown()).toBe(true);
  expect(told).toEqual([]);
  sent = sentTelemetry(capture.envelopes());
}, 60_000);

afterAll(async () => {
  await capture?.stop();
  await h?.stop();
  await rig?.stop();
});

describe("the workbook reads what the exporter sends (real runs, real exporter)", () => {
  it("seeded every kind of run a panel shows", () => {
    expect(Object.fromEntries([...results].map(([name, r]) => [name, r.outcome]))).toEqual({
      corrected: "corrected",
      "in-sync": "in-sync",
      throttled: "in-sync",
      drift: "drift",
      failed: "failed",
      conflict: "conflict",
      "not-converged": "not-converged",
      "invalid-desired": "invalid-desired",
      gone: "gone",
      "changed-outside": "drift",
      rotated: "corrected",
    });
    expect(sent.eventNames).toEqual(new Set(["BillingProfileDriftCorrected", "BillingProfileDriftDetected", "PartnerCenterRefreshTokenRotated", "DesiredStateChanged", "DesiredStateChangedOutside"]));
    expect([...sent.dimensions.keys()].sort()).toEqual(["customEvents", "customMetrics", "dependencies", "exceptions", "requests", "traces"]);
  });

  it("draws every outcome the exporter sent as a coloured series, and the request's success is outcomeClass.ts's", () => {
    const chart = allItems(loadWorkbook().items).find((i) => i.name === "runs-per-hour");
    const settings = (chart?.content as { chartSettings?: { seriesLabelSettings?: { seriesName: string }[] } } | undefined)?.chartSettings?.seriesLabelSettings ?? [];
    const series = new Set(settings.map((s) => s.seriesName));
    const requests = capture.envelopes().filter((e) => e.name.endsWith("Request"));
    const outcomes = new Set(requests.map((e) => String(e.data.baseData.properties?.outcome)));
    expect(outcomes.has("gone")).toBe(true);
    for (const outcome of outcomes) expect({ outcome, series: series.has(outcome) }).toEqual({ outcome, series: true });
    for (const e of requests) {
      const outcome = e.data.baseData.properties?.outcome as Outcome;
      expect({ outcome, success: e.data.baseData.success }).toEqual({ outcome, success: OUTCOME_CLASSES[outcome].success });
    }
  });

  it("reads only customDimensions the records of its tables carry", () => {
    expect(unsentDimensions(workbookQueries, sent)).toEqual([]);
    // The check is not vacuous: the panels read the run's ids, its outcome, the fields, the account.
    const read = workbookQueries.flatMap((q) => dimensionsRead(q.query));
    expect(new Set(read)).toEqual(new Set(["target", "outcome", "dryRun", "changedFields", "trigger", "correlationId", "putRequestId", "getRequestId", "runId", "errorCode", "errorStatus", "serviceCode", "requestId", "secretName", "command", "fields", "via", "verified", "entryId"]));
  });

  it("names only records, exception types, answer codes and values that came in", () => {
    expect(unsentLiterals(workbookQueries, sent)).toEqual([]);
    // Throttling is a dependency answered 429, carrying the run's target.
    const throttled = capture.envelopes().filter((e) => e.name.endsWith("RemoteDependency") && e.data.baseData.resultCode === "429");
    expect(throttled.map((e) => e.data.baseData.properties?.target)).toEqual(["wb-throttled"]);
  });

  it("finds the not-converged fields in the real exception message", () => {
    const query = workbookQueries.find((q) => q.where === "contested-not-converged")?.query ?? "";
    const pattern = /extract_all\(@"([^"]+)", detail\)/.exec(query)?.[1];
    expect(pattern).toBeDefined();
    const exception = capture.envelopes().find((e) => e.name.endsWith("Exception") && e.data.baseData.properties?.outcome === "not-converged");
    const message = (exception?.data.baseData.exceptions as { typeName: string; message: string }[])[0];
    expect(message.typeName).toBe("SyncError.NotConverged");
    // RE2 (Kusto) and JavaScript read this pattern alike: a word, a space, "(desired ".
    const fields = [...message.message.matchAll(new RegExp(pattern as string, "g"))].map((m) => m[1]);
    expect(fields).toEqual(results.get("not-converged")?.notConverged?.map((f) => f.field));
    expect(fields).toEqual(["Address_City"]);
  });

  it("fails on a misspelt dimension in a query, and on a dimension the exporter stops sending", () => {
    const misspelt = workbookQueries.map((q) => ({ ...q, query: q.query.replace("customDimensions.changedFields", "customDimensions.changedFeilds") }));
    expect(unsentDimensions(misspelt, sent)).toEqual(expect.arrayContaining([expect.objectContaining({ dimension: "changedFeilds" })]));
    const renamed: Sent = { ...sent, dimensions: new Map([...sent.dimensions].map(([table, names]) => [table, new Set([...names].filter((n) => n !== "secretName"))])) };
    expect(unsentDimensions(workbookQueries, renamed)).toEqual([{ where: "token-rotations", dimension: "secretName", tables: ["customEvents"] }]);
    const misnamed = workbookQueries.map((q) => ({ ...q, query: q.query.replace('"BillingProfileDriftCorrected"', '"BillingProfileDriftCorected"') }));
    expect(unsentLiterals(misnamed, sent)).toEqual(expect.arrayContaining([expect.objectContaining({ column: "name", value: "BillingProfileDriftCorected" })]));
  });
});
