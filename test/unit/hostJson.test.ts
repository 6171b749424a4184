import { readFileSync } from "node:fs";
import { join } from "node:path";

// The Functions host cannot run here; what it would do with our records follows from host.json.
const host = JSON.parse(readFileSync(join(__dirname, "..", "..", "host.json"), "utf8")) as {
  telemetryMode?: string;
  logging: { logLevel: Record<string, string>; applicationInsights: { samplingSettings: { isEnabled?: boolean; excludedTypes?: string } } };
};
const LEVELS = ["Trace", "Debug", "Information", "Warning", "Error", "Critical", "None"];

describe("host.json", () => {
  it("never samples away requests, dependencies, traces, events or exceptions: sampling off, and those types excluded should it be turned on", () => {
    const sampling = host.logging.applicationInsights.samplingSettings;
    const excluded = new Set((sampling.excludedTypes ?? "").split(";").map((t) => t.trim()));
    expect(sampling.isEnabled).toBe(false);
    expect(["Request", "Dependency", "Trace", "Event", "Exception"].filter((t) => !excluded.has(t))).toEqual([]);
  });

  it("keeps function logs below Information out of Application Insights, where the run lines go when the worker sends telemetry", () => {
    const level = host.logging.logLevel["Function"] ?? host.logging.logLevel["default"];
    expect(LEVELS.indexOf(level)).toBeGreaterThan(LEVELS.indexOf("Debug"));
  });

  it("keeps the host's classic Application Insights mode, which the double-logging design relies on", () => {
    expect(host.telemetryMode ?? "ApplicationInsights").toBe("ApplicationInsights");
  });
});
