import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { children, interpolatedString, parseBicep, propertyAt, property, resourcesOfType, type BicepFile } from "../support/bicep";
import { kqlDiagnostics } from "../support/kql";
import { infraFile, PROJECT_ROOT } from "./infra";

/**
 * Every KQL query the project ships, checked by Kusto's own parser and binder
 * (test/support/kql.ts) against the classic Application Insights schema
 * (test/support/appInsightsSchema.ts): the alert rules' queries in the Bicep, and every
 * ```kql or ```kusto block in README.md and docs/*.md. A misspelt table or column fails here.
 */
interface Query {
  where: string;
  text: string;
}

function alertQueries(file: BicepFile): Query[] {
  return resourcesOfType([file], "Microsoft.Insights/scheduledQueryRules").flatMap((rule) => {
    const criteria = propertyAt(rule.body, "properties", "criteria", "allOf");
    return (criteria ? children(criteria) : []).map((criterion, i) => ({ where: `${file.name}:${rule.symbol} criterion ${i}`, text: interpolatedString(file, property(criterion, "query")) }));
  });
}

function markdownQueries(): Query[] {
  const docsDir = join(PROJECT_ROOT, "docs");
  const docs = (() => {
    try {
      return readdirSync(docsDir).filter((name) => name.endsWith(".md")).map((name) => join("docs", name));
    } catch {
      return [];
    }
  })();
  return ["README.md", ...docs].flatMap((file) => {
    const text = readFileSync(join(PROJECT_ROOT, file), "utf8");
    return [...text.matchAll(/^```(?:kql|kusto)[ \t]*\r?\n([^]*?)^```/gm)].map((match) => ({
      where: `${file} line ${text.slice(0, match.index).split("\n").length}`,
      text: match[1],
    }));
  });
}

describe("KQL queries", () => {
  it("every alert rule's query parses and binds against the Application Insights schema", async () => {
    const queries = alertQueries(await infraFile("core/alerts.bicep"));
    expect(queries.length).toBeGreaterThanOrEqual(4);
    for (const query of queries) expect({ where: query.where, diagnostics: kqlDiagnostics(query.text) }).toEqual({ where: query.where, diagnostics: [] });
  });

  it("every ```kql block in README.md and docs/*.md parses and binds", () => {
    const queries = markdownQueries();
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) expect({ where: query.where, diagnostics: kqlDiagnostics(query.text) }).toEqual({ where: query.where, diagnostics: [] });
  });

  it("a misspelt column in an alert query fails the check (the extraction reaches the checker)", async () => {
    const alerts = await infraFile("core/alerts.bicep");
    const misspelt = await parseBicep(alerts.text.replace("| where message == \"BillingProfileSyncRun\"", "| where mesage == \"BillingProfileSyncRun\""), "misspelt.bicep");
    const failing = alertQueries(misspelt).filter((query) => kqlDiagnostics(query.text).length > 0);
    expect(failing.length).toBeGreaterThan(0);
    expect(kqlDiagnostics(failing[0].text).join("\n")).toMatch(/'mesage' does not refer to any known column/);
  });

  it("reads interpolated Bicep strings through parameter defaults and vars, and refuses to guess a computed value", async () => {
    const file = await parseBicep(
      [
        "param eventName string = 'BillingProfileDriftCorrected'",
        "param window string",
        "var table = 'customEvents'",
        "var query = '${table} | where name == \"${eventName}\" and timestamp > ago(${1}d) | where tostring(customDimensions.note) == \\'it\\\\\\'s\\''",
        "var computed = 'traces | where cloud_RoleName == \"${resourceGroup().name}\"'",
        "var unset = 'traces | take ${window}'",
      ].join("\n"),
      "interpolated.bicep",
    );
    const text = interpolatedString(file, children(file.root)[3].namedChildren.at(-1) ?? undefined);
    expect(text).toBe("customEvents | where name == \"BillingProfileDriftCorrected\" and timestamp > ago(1d) | where tostring(customDimensions.note) == 'it\\'s'");
    expect(kqlDiagnostics(text)).toEqual([]);
    expect(() => interpolatedString(file, children(file.root)[4].namedChildren.at(-1) ?? undefined)).toThrow(/cannot evaluate \$\{resourceGroup\(\)\.name\} at line 5/);
    expect(() => interpolatedString(file, children(file.root)[5].namedChildren.at(-1) ?? undefined)).toThrow(/cannot evaluate \$\{window\}/);
  });
});
