import { APP_INSIGHTS_TABLES } from "../support/appInsightsSchema";
import { kqlDiagnostics } from "../support/kql";

describe("the KQL check (Kusto.Language against the Application Insights schema)", () => {
  it("accepts a query over every table that binds", () => {
    for (const table of Object.keys(APP_INSIGHTS_TABLES)) {
      expect({ table, found: kqlDiagnostics(`${table} | where timestamp > ago(1d) | extend target = tostring(customDimensions.target) | summarize count() by target, bin(timestamp, 1h)`) }).toEqual({ table, found: [] });
    }
  });

  it("finds a misspelt column, a misspelt table and a syntax error", () => {
    expect(kqlDiagnostics("traces | where timestmp > ago(1d)")).toEqual([expect.stringMatching(/'timestmp' does not refer to any known column/)]);
    expect(kqlDiagnostics("customEvent | take 1")).toEqual([expect.stringMatching(/'customEvent' does not refer to any known table/)]);
    expect(kqlDiagnostics("requests | summarize count( by name")).not.toEqual([]);
  });

  it("knows each table's own columns (severityLevel is a trace's, not a request's)", () => {
    expect(kqlDiagnostics("traces | where severityLevel >= 3")).toEqual([]);
    expect(kqlDiagnostics("requests | where severityLevel >= 3")).not.toEqual([]);
    expect(kqlDiagnostics("customMetrics | summarize sum(valueSum) by name")).toEqual([]);
  });
});
