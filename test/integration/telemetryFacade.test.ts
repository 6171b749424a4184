import type { EngineOptions } from "../../shared/engine/engine";
import type { FinishedRun } from "../../shared/engine";
import { loadSettings } from "../../shared/config/settings";
import { startTelemetry, withTelemetry } from "../../shared/telemetry/facade";
import { IngestionCapture } from "../support/ingestion";

// The facade in this process. The real exporter trusts the capture endpoint's throwaway
// certificate through its client options (tlsOptions.ca), the in-process alternative to
// NODE_EXTRA_CA_CERTS, which Node reads only at start-up.
const base = { BILLING_SYNC_STORAGE: "UseDevelopmentStorage=true", PARTNER_CENTER_AUTH: "static", PARTNER_CENTER_ACCESS_TOKEN: "tok" };
let capture: IngestionCapture;

beforeAll(async () => {
  capture = new IngestionCapture();
  await capture.start();
});
afterAll(() => capture.stop());

describe("startTelemetry", () => {
  it("is nothing, and tells nothing, without a connection string", () => {
    const told: string[] = [];
    expect(startTelemetry(loadSettings(base), { mode: "process", report: (m) => told.push(m) })).toBeUndefined();
    expect(told).toEqual([]);
  });

  it("tells a bad setting once and leaves telemetry off", () => {
    const told: string[] = [];
    const settings = loadSettings({ ...base, APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=nope" });
    expect(startTelemetry(settings, { mode: "process", report: (m) => told.push(m) })).toBeUndefined();
    expect(told).toEqual(["Telemetry is off: Setting APPLICATIONINSIGHTS_CONNECTION_STRING has an InstrumentationKey that is not a GUID."]);
  });

  it("sends a custom event outside a run (PartnerCenterRefreshTokenRotated) and never throws from a run it cannot describe", async () => {
    const told: string[] = [];
    const settings = loadSettings({ ...base, APPLICATIONINSIGHTS_CONNECTION_STRING: capture.connectionString() });
    const telemetry = startTelemetry(settings, { mode: "process", report: (m) => told.push(m), exporterClientOptions: { tlsOptions: { ca: capture.ca } } });
    expect(telemetry).toBeDefined();
    telemetry!.event("PartnerCenterRefreshTokenRotated", { secretVersion: "0f1e2d3c", target: "default" });
    expect(() => telemetry!.record({} as FinishedRun)).not.toThrow();
    expect(() => telemetry!.record({} as FinishedRun)).not.toThrow();
    expect(await telemetry!.shutdown()).toBe(true);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/^Telemetry of a run could not be built: /);
    const event = capture.envelopes().find((e) => e.name === "Microsoft.ApplicationInsights.Event");
    expect(event?.data.baseData).toMatchObject({ name: "PartnerCenterRefreshTokenRotated", properties: { secretVersion: "0f1e2d3c", target: "default" } });
    expect(event?.iKey ?? event?.instrumentationKey).toBe(capture.instrumentationKey);
  });
});

describe("withTelemetry", () => {
  it("keeps an onRunFinished already there and adds the telemetry after it", () => {
    const seen: string[] = [];
    const options: EngineOptions = { onRunFinished: () => seen.push("caller") };
    const telemetry = { record: () => seen.push("telemetry"), event: () => {}, flush: async () => true, shutdown: async () => true };
    withTelemetry(options, telemetry).onRunFinished!({} as FinishedRun);
    expect(seen).toEqual(["caller", "telemetry"]);
    expect(withTelemetry(options, undefined)).toBe(options);
  });
});
