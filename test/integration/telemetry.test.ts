import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { defaultLiveProfile } from "../../simulator/defaultProfile";
import { DEFAULT_FLUSH_TIMEOUT_IN_MS } from "../../shared/telemetry/facade";
import { startHarness, type Harness } from "../support/harness";
import { packageVersion } from "../support/fixtures";
import { closedPortUrl, IngestionCapture, startSilentEndpoint, type Envelope } from "../support/ingestion";

// The real Azure Monitor exporter sends to a local HTTPS capture endpoint. The syncs run
// in child processes (the built CLI, and the built timer function through its exported
// handler) because Node 20 reads NODE_EXTRA_CA_CERTS, which trusts the throwaway
// certificate, only at start-up; that is also exactly how production loads telemetry, with
// no test-only option. The children are started asynchronously so that the simulator and
// Azurite, which run in this process, keep answering.

const root = join(__dirname, "..", "..");
const bin = join(root, "dist", "cli", "bin.js");
const timerChild = join(root, "test", "support", "timerInvocation.js");

let h: Harness;
let capture: IngestionCapture;

const DESIRED = {
  PurchaseOrderNumber: "PO-TEL-1",
  TaxId: "DE999888777",
  PrimaryContact: { FirstName: "Morgan", Email: "tel.billing@contoso.example", PhoneNumber: "+1 206 555 0199" },
  Address: { AddressLine1: "500 Telemetry Avenue" },
};

/** Every personal value of the live profile and of the desired row: none may reach telemetry. */
function personalValues(): string[] {
  const live = defaultLiveProfile() as {
    taxId: string;
    address: { addressLine1: string };
    primaryContact: { firstName: string; lastName: string; email: string; phoneNumber: string };
  };
  return [
    live.taxId,
    live.address.addressLine1,
    live.primaryContact.firstName,
    live.primaryContact.lastName,
    live.primaryContact.email,
    live.primaryContact.phoneNumber,
    DESIRED.TaxId,
    DESIRED.PrimaryContact.FirstName,
    DESIRED.PrimaryContact.Email,
    DESIRED.PrimaryContact.PhoneNumber,
    DESIRED.Address.AddressLine1,
  ];
}

interface Child {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(args: string[], env: Record<string, string>): Promise<Child> {
  const started = Date.now();
  return new Promise((resolve) => {
    const p = execFile(
      process.execPath,
      args,
      {
        env: {
          ...process.env,
          ...h.env,
          // This exporter version turns statsbeat off only with the legacy name; both are set.
          APPLICATIONINSIGHTS_STATSBEAT_DISABLED: "true",
          APPLICATION_INSIGHTS_NO_STATSBEAT: "true",
          NODE_EXTRA_CA_CERTS: capture.caPath,
          ...env,
        },
        timeout: 30_000,
      },
      (_err, stdout, stderr) => resolve({ code: p.exitCode, stdout, stderr, ms: Date.now() - started }),
    );
  });
}

const cli = (args: string[], env: Record<string, string> = { APPLICATIONINSIGHTS_CONNECTION_STRING: capture.connectionString() }) => run([bin, ...args], env);

type Kind = "Request" | "RemoteDependency" | "Message" | "Exception" | "Event" | "Metric";
const ofKind = (envelopes: Envelope[], kind: Kind) => envelopes.filter((e) => e.name === `Microsoft.ApplicationInsights.${kind}`);
const props = (e: Envelope) => e.data.baseData.properties ?? {};

/** The records of one run, found by its run id: everything but metrics, which are aggregates. */
function runRecords(runId: string): Envelope[] {
  return capture.envelopes().filter((e) => props(e).runId === runId);
}

function only<T>(items: T[]): T {
  expect(items).toHaveLength(1);
  return items[0];
}

beforeAll(async () => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first (npm test does).`);
  h = await startHarness();
  capture = new IngestionCapture();
  await capture.start();
  await h.setDesired("tel", DESIRED);
});
afterAll(async () => {
  await capture?.stop();
  await h?.stop();
});
beforeEach(() => {
  h.sim.clearFaults();
  h.sim.resetRequests();
  capture.clear();
});

describe("Application Insights telemetry of runs (real exporter, local HTTPS ingestion)", () => {
  it("a corrected run: request, one dependency per call with the simulator's request ids, trace, event and metric under one operation id", async () => {
    h.sim.setProfile(defaultLiveProfile());
    const child = await cli(["sync", "--target", "tel", "--json"]);
    expect(child.code).toBe(0);
    const result = JSON.parse(child.stdout);
    expect(result.outcome).toBe("corrected");

    const records = runRecords(result.runId);
    const operationIds = new Set(records.map((e) => e.tags["ai.operation.id"]));
    expect(operationIds.size).toBe(1);
    expect([...operationIds][0]).toMatch(/^[0-9a-f]{32}$/);
    // Every record says which build sent it (service.version → application_Version).
    expect(new Set(records.map((e) => e.tags["ai.application.ver"]))).toEqual(new Set([packageVersion()]));

    const request = only(ofKind(records, "Request"));
    expect(request.data.baseData).toMatchObject({ name: "BillingProfileSyncRun", success: true });
    const trace = only(ofKind(records, "Message"));
    const sent = h.sim.requests.map((r) => ({ method: r.method, requestId: r.headers["ms-requestid"], correlationId: r.headers["ms-correlationid"] }));
    // The address changes: the country's rules and the address validation are asked before the PUT.
    expect(sent.map((s) => s.method)).toEqual(["GET", "GET", "POST", "PUT"]);
    const putSent = sent[3];
    expect(trace.data.baseData.message).toBe("BillingProfileSyncRun");
    expect(props(trace)).toEqual({
      runId: result.runId,
      target: "tel",
      resourceKind: "partner-billing-profile",
      customerTenantId: "",
      trigger: "cli",
      outcome: "corrected",
      dryRun: "false",
      changedFields: "Address_AddressLine1,PrimaryContact_Email,PrimaryContact_FirstName,PrimaryContact_PhoneNumber,PurchaseOrderNumber,TaxId",
      correlationId: sent[0].correlationId,
      getRequestId: sent[0].requestId,
      putRequestId: putSent.requestId,
      msCv: expect.stringMatching(/^[0-9a-f]{8}\.0$/),
      msServerId: "simulator-1",
      errorCode: "",
      errorStatus: "",
      serviceCode: "",
    });
    expect(result.correlationId).toBe(sent[0].correlationId);
    expect(records.length).toBe(7);
    for (const e of records) {
      expect(props(e)).toMatchObject({ runId: result.runId, target: "tel", trigger: "cli", outcome: "corrected", correlationId: sent[0].correlationId, putRequestId: putSent.requestId });
    }

    const dependencies = ofKind(records, "RemoteDependency");
    expect(dependencies.map((d) => [d.data.baseData.name, d.data.baseData.resultCode, d.data.baseData.success, props(d).requestId])).toEqual([
      ["GET /v1/profiles/billing", "200", true, sent[0].requestId],
      ["GET /v1/countryvalidationrules/US", "200", true, sent[1].requestId],
      ["POST /v1/validations/address", "200", true, sent[2].requestId],
      ["PUT /v1/profiles/billing", "200", true, putSent.requestId],
    ]);
    for (const d of dependencies) {
      expect(d.data.baseData).toMatchObject({ type: "Http", data: `${h.env.PARTNER_CENTER_BASE_URL}${String(d.data.baseData.name).split(" ")[1]}` });
      expect(d.data.baseData.duration).toMatch(/^00:00:\d\d\.\d{3}$/);
      expect(d.tags["ai.operation.parentId"]).toBe(request.data.baseData.id);
    }

    const event = only(ofKind(records, "Event"));
    expect(event.data.baseData.name).toBe("BillingProfileDriftCorrected");
    expect(props(event)).toMatchObject({ runId: result.runId, target: "tel", outcome: "corrected", putRequestId: putSent.requestId });
    expect(ofKind(records, "Exception")).toHaveLength(0);

    const metric = only(ofKind(capture.envelopes(), "Metric").filter((m) => (m.data.baseData.metrics as { name: string }[])[0].name === "BillingProfileDriftedFields"));
    expect(metric.data.baseData.metrics).toEqual([expect.objectContaining({ value: 6, count: 1 })]);
    expect(props(metric)).toEqual({ target: "tel" });
  });

  it("an in-sync run: one GET dependency, no drift event, a metric of 0", async () => {
    const child = await cli(["sync", "--target", "tel", "--json"]);
    const result = JSON.parse(child.stdout);
    expect(result.outcome).toBe("in-sync");
    const records = runRecords(result.runId);
    expect(new Set(records.map((e) => e.tags["ai.operation.id"])).size).toBe(1);
    expect(props(only(ofKind(records, "Message")))).toMatchObject({ outcome: "in-sync", changedFields: "", putRequestId: "", getRequestId: h.sim.requests[0].headers["ms-requestid"] });
    expect(only(ofKind(records, "RemoteDependency")).data.baseData.name).toBe("GET /v1/profiles/billing");
    expect(ofKind(records, "Event")).toHaveLength(0);
    const metric = only(ofKind(capture.envelopes(), "Metric").filter((m) => props(m).target === "tel"));
    expect(metric.data.baseData.metrics).toEqual([expect.objectContaining({ name: "BillingProfileDriftedFields", value: 0, count: 1 })]);
  });

  it("a failed run: an unsuccessful request, the typed exception with the PUT's request id, values masked in its message", async () => {
    h.sim.setProfile(defaultLiveProfile());
    // A service error that quotes personal values back: they must reach telemetry masked.
    const description = `TaxId ${DESIRED.TaxId} is not valid for ${DESIRED.PrimaryContact.FirstName} at ${DESIRED.Address.AddressLine1}`;
    h.sim.inject({ method: "PUT", fault: { kind: "status", status: 400, body: JSON.stringify({ code: 2001, description, source: "PartnerFD" }) } });
    const child = await cli(["sync", "--target", "tel", "--json"]);
    expect(child.code).toBe(1);
    const result = JSON.parse(child.stdout);
    expect(result.outcome).toBe("failed");
    const put = h.sim.requests.find((r) => r.method === "PUT")!;

    const records = runRecords(result.runId);
    expect(new Set(records.map((e) => e.tags["ai.operation.id"])).size).toBe(1);
    expect(only(ofKind(records, "Request")).data.baseData.success).toBe(false);
    expect(props(only(ofKind(records, "Message")))).toMatchObject({ outcome: "failed", errorCode: "PartnerCenterError", errorStatus: "400", serviceCode: "2001" });
    const exception = only(ofKind(records, "Exception"));
    const details = (exception.data.baseData.exceptions as { typeName: string; message: string }[])[0];
    expect(details.typeName).toBe("SyncError.PartnerCenterError");
    expect(details.message).toContain("TaxId D*** is not valid for M*** at 5***");
    expect(props(exception)).toMatchObject({
      code: "PartnerCenterError",
      statusCode: "400",
      serviceCode: "2001",
      requestId: put.headers["ms-requestid"],
      correlationId: put.headers["ms-correlationid"],
      outcome: "failed",
    });
    const dependencies = ofKind(records, "RemoteDependency");
    expect(dependencies.map((d) => [d.data.baseData.name, d.data.baseData.resultCode, d.data.baseData.success])).toEqual([
      ["GET /v1/profiles/billing", "200", true],
      ["GET /v1/countryvalidationrules/US", "200", true],
      ["POST /v1/validations/address", "200", true],
      ["PUT /v1/profiles/billing", "400", false],
    ]);
    expect(only(ofKind(records, "Event")).data.baseData.name).toBe("BillingProfileDriftDetected");
  });

  it("a dry run (plan) reports BillingProfileDriftDetected and no PUT", async () => {
    h.sim.setProfile(defaultLiveProfile());
    const child = await cli(["plan", "--target", "tel", "--json"]);
    expect(child.code).toBe(2);
    const result = JSON.parse(child.stdout);
    const event = only(ofKind(runRecords(result.runId), "Event"));
    expect(event.data.baseData.name).toBe("BillingProfileDriftDetected");
    expect(props(event)).toMatchObject({ outcome: "drift", dryRun: "true", putRequestId: "" });
    expect(h.sim.count("PUT")).toBe(0);
  });

  it("a timer invocation of the Function App sends its runs, and the worker does not log them a second time", async () => {
    h.sim.setProfile(defaultLiveProfile());
    const child = await run([timerChild], { APPLICATIONINSIGHTS_CONNECTION_STRING: capture.connectionString() });
    expect(child.stderr).not.toMatch(/Telemetry/);
    const lines = child.stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { level: string; message: string });
    const runLines = lines.filter((l) => /^Run \S+ of tel: /.test(l.message));
    expect(runLines.length).toBeGreaterThan(0);
    // Debug is below host.json's "Function": "Information": the host keeps these out of Application Insights.
    expect(runLines.every((l) => l.level === "debug")).toBe(true);
    expect(lines.find((l) => l.message.startsWith("Timer sync of"))?.level).toBe("information");

    const trace = ofKind(capture.envelopes(), "Message").find((e) => props(e).target === "tel");
    expect(props(trace!)).toMatchObject({ trigger: "timer", outcome: "corrected" });
    const records = runRecords(props(trace!).runId);
    expect(ofKind(records, "Request")).toHaveLength(1);
    expect(new Set(records.map((e) => e.tags["ai.operation.id"])).size).toBe(1);
  });

  it("with Entra auth the exporter sends a managed identity token for the configured client id", async () => {
    // The App Service managed identity endpoint, stood in for locally: the real
    // ManagedIdentityCredential asks it for a token and the exporter sends that token.
    const clientId = "8d4c5b0a-1e2f-4a3b-9c8d-7e6f5a4b3c2d";
    const asked: string[] = [];
    const identity = http.createServer((req, res) => {
      asked.push(req.url ?? "");
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ access_token: "mi-token-for-ingestion", expires_on: String(Math.floor(Date.now() / 1000) + 3600), resource: "https://monitor.azure.com/", token_type: "Bearer" }));
    });
    await new Promise<void>((resolve) => identity.listen(0, "127.0.0.1", resolve));
    try {
      const child = await cli(["sync", "--target", "tel", "--json"], {
        APPLICATIONINSIGHTS_CONNECTION_STRING: capture.connectionString(),
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `Authorization=AAD;ClientId=${clientId}`,
        IDENTITY_ENDPOINT: `http://127.0.0.1:${(identity.address() as AddressInfo).port}/msi/token`,
        IDENTITY_HEADER: "identity-header-value",
      });
      expect(child.code).toBe(0);
      expect(asked.some((url) => url.includes(`client_id=${clientId}`) && /resource=https%3A%2F%2Fmonitor\.azure\.com/.test(url))).toBe(true);
      expect(capture.requests.length).toBeGreaterThan(0);
      expect(capture.requests.every((r) => r.headers.authorization === "Bearer mi-token-for-ingestion")).toBe(true);
      expect(capture.bytes).not.toContain("mi-token-for-ingestion");
    } finally {
      await new Promise<void>((resolve) => identity.close(() => resolve()));
    }
  });
});

describe("what telemetry never carries", () => {
  it("none of the profile's personal values nor the Partner Center token appear in any byte sent", async () => {
    // Every kind of run again, in one place, then the whole capture is searched.
    h.sim.setProfile(defaultLiveProfile());
    await cli(["plan", "--target", "tel"]);
    await cli(["sync", "--target", "tel"]);
    await cli(["sync", "--target", "tel"]);
    h.sim.setProfile(defaultLiveProfile());
    h.sim.inject({ method: "PUT", fault: { kind: "status", status: 400, body: JSON.stringify({ code: 2001, description: `${DESIRED.TaxId} ${DESIRED.PrimaryContact.Email} ${DESIRED.PrimaryContact.PhoneNumber}` }) } });
    await cli(["sync", "--target", "tel"]);
    const bytes = capture.bytes;
    expect(ofKind(capture.envelopes(), "Message").length).toBe(4);
    expect(ofKind(capture.envelopes(), "Exception").length).toBe(1);
    for (const value of personalValues()) expect(bytes).not.toContain(value);
    expect(bytes).not.toContain(h.token);
    expect(bytes).not.toMatch(/Bearer/i);
  });
});

describe("telemetry that fails never fails or holds up a sync", () => {
  // A generous bound: the flush timeout, plus the exporter's load and process noise.
  const bound = DEFAULT_FLUSH_TIMEOUT_IN_MS + 2_500;
  let baselineMs = 0;

  beforeAll(async () => {
    h.sim.setProfile(defaultLiveProfile());
    await cli(["sync", "--target", "tel"], {});
    const times: number[] = [];
    for (let i = 0; i < 2; i++) times.push((await cli(["sync", "--target", "tel"], {})).ms);
    baselineMs = Math.min(...times);
  });

  it.each([
    ["an endpoint nothing listens on", async () => ({ url: await closedPortUrl(), stop: async () => {} }), /Telemetry could not be sent to 127\.0\.0\.1:\d+/],
    // The flush bound and the bound of the attempt itself end together: either may be told.
    ["an endpoint that accepts and never answers", startSilentEndpoint, /Telemetry (did not finish sending within 2500 ms|could not be sent to 127\.0\.0\.1:\d+: The operation was aborted)/],
  ])("%s: the sync succeeds, the extra time stays under the flush bound, the problem is told once", async (_name, start, told) => {
    const endpoint = await start();
    try {
      const child = await cli(["sync", "--target", "tel", "--json"], { APPLICATIONINSIGHTS_CONNECTION_STRING: capture.connectionString(endpoint.url) });
      expect(child.code).toBe(0);
      expect(JSON.parse(child.stdout).outcome).toBe("in-sync");
      expect(child.stderr).toMatch(told);
      expect(child.stderr.match(/Telemetry/g)).toHaveLength(1);
      expect(child.ms - baselineMs).toBeLessThan(bound);
    } finally {
      await endpoint.stop();
    }
  });

  it.each([
    ["InstrumentationKey=not-a-guid", /Telemetry is off: Setting APPLICATIONINSIGHTS_CONNECTION_STRING has an InstrumentationKey that is not a GUID/],
    ["garbage", /Telemetry is off: Setting APPLICATIONINSIGHTS_CONNECTION_STRING is not a connection string/],
  ])("a bad connection string (%s) is told once and the sync runs without telemetry", async (value, told) => {
    const child = await cli(["sync", "--target", "tel", "--json"], { APPLICATIONINSIGHTS_CONNECTION_STRING: value });
    expect(child.code).toBe(0);
    expect(JSON.parse(child.stdout).outcome).toBe("in-sync");
    expect(child.stderr).toMatch(told);
    expect(child.stderr.match(/Telemetry/g)).toHaveLength(1);
    expect(child.ms - baselineMs).toBeLessThan(bound);
    expect(capture.requests).toHaveLength(0);
  });

  it("without a connection string the exporter and the OpenTelemetry SDK are never loaded", async () => {
    const script = `
      const { runCli } = require(${JSON.stringify(join(root, "dist", "cli", "main.js"))});
      runCli(["plan", "--target", "tel"], { stdout() {}, stderr() {}, env: process.env }).then(() => {
        const loaded = Object.keys(require.cache).filter((p) => /opentelemetry|monitor-opentelemetry-exporter/.test(p));
        process.stdout.write(JSON.stringify(loaded));
      });`;
    const child = await run(["-e", script], {});
    expect(JSON.parse(child.stdout)).toEqual([]);
    const on = await run(["-e", script], { APPLICATIONINSIGHTS_CONNECTION_STRING: capture.connectionString() });
    expect(JSON.parse(on.stdout).length).toBeGreaterThan(0);
  });
});
