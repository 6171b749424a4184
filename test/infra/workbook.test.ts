import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { DEFAULT_CONTEST_POLICY } from "../../shared/model";
import { nextRun } from "../../shared/config";
import { SETTING_SPECS } from "../../shared/config/settings";
import { FAILED_OUTCOMES } from "../../shared/telemetry/records";
import { OUTCOMES } from "../../shared/model/runResult";
import { WORKBOOK_COLORS } from "../../cli/report/charts";
import { argumentsOf, calledName, children, descendants, literal, memberPath, outputs, parameters, property, propertyAt, resourcesOfType, stringLiteral, stringTemplate, variables, type BicepFile, type Node } from "../support/bicep";
import { kqlDiagnostics } from "../support/kql";
import {
  allItems,
  expansions,
  literalsComparedWith,
  loadWorkbook,
  parametersOf,
  placeholders,
  queriesOf,
  WORKBOOK_PATH,
  type WorkbookItem,
} from "../support/workbook";
import { INFRA_DIR, infraFile, infraFiles } from "./infra";

/**
 * The dashboard: a workbook resource deployed with the app (read from the Bicep parse
 * tree), its checked-in definition (structure, parameters, panels), and every query in it
 * checked by Kusto's parser once per shape its parameters can take. What the queries read
 * from customDimensions is checked against the real exporter in
 * test/integration/workbookTelemetry.test.ts.
 */
const workbook = loadWorkbook();
const items = allItems(workbook.items);
const params = parametersOf(workbook);
const panel = (name: string): WorkbookItem => {
  const item = items.find((candidate) => candidate.name === name);
  if (!item) throw new Error(`the workbook has no item named ${name}`);
  return item;
};
const queryOf = (name: string): string => panel(name).content.query ?? "";

function moduleCall(file: BicepFile, path: string): { symbol: string; body: Node } | undefined {
  for (const node of descendants(file.root, "module_declaration")) {
    const [symbol, modulePath, body] = children(node);
    if (stringLiteral(modulePath) === path) return { symbol: symbol.text, body };
  }
  return undefined;
}

describe("the workbook resource (Bicep)", () => {
  it("is one shared workbook in core/workbook.bicep, category workbook, named by a stable guid", async () => {
    const all = resourcesOfType(await infraFiles(), "Microsoft.Insights/workbooks");
    expect(all.map((r) => r.file)).toEqual(["core/workbook.bicep"]);
    const [resource] = all;
    expect(literal(property(resource.body, "kind"))).toBe("shared");
    expect(literal(propertyAt(resource.body, "properties", "category"))).toBe("workbook");
    expect(literal(propertyAt(resource.body, "properties", "version"))).toBe(workbook.version);
    const name = property(resource.body, "name");
    // guid(...) of fixed inputs: a redeploy updates the same workbook.
    expect(name?.type).toBe("call_expression");
    expect(calledName(name as Node)).toBe("guid");
  });

  it("reads its definition with loadTextContent from the checked-in workbook JSON, putting the component id in for the fallback token", async () => {
    const file = await infraFile("core/workbook.bicep");
    const [resource] = resourcesOfType([file], "Microsoft.Insights/workbooks");
    const data = propertyAt(resource.body, "properties", "serializedData");
    const definition = data?.type === "identifier" ? variables(file).get(data.text) : data;
    expect(definition?.type).toBe("call_expression");
    expect(calledName(definition as Node)).toBe("replace");
    const [load, token, value] = argumentsOf(definition as Node);
    expect(calledName(load)).toBe("loadTextContent");
    const relative = stringLiteral(argumentsOf(load)[0]);
    const loaded = join(dirname(join(INFRA_DIR, file.name)), relative ?? "");
    expect(loaded).toBe(WORKBOOK_PATH);
    expect(existsSync(loaded)).toBe(true);
    expect(workbook.fallbackResourceIds).toEqual([stringLiteral(token)]);
    expect(value.text).toBe(property(resource.body, "properties") && propertyAt(resource.body, "properties", "sourceId")?.text);
  });

  it("has the Application Insights component the app sends to as its source", async () => {
    const file = await infraFile("core/workbook.bicep");
    const [resource] = resourcesOfType([file], "Microsoft.Insights/workbooks");
    const source = propertyAt(resource.body, "properties", "sourceId");
    expect(source?.type).toBe("identifier");
    expect(parameters(file).map((p) => p.name)).toContain(source?.text);

    // main.bicep passes the monitoring module's component id, which is the component resource's id.
    const main = await infraFile("main.bicep");
    const call = moduleCall(main, "./core/workbook.bicep");
    expect(call).toBeDefined();
    const passed = propertyAt(call?.body, "params", source?.text ?? "");
    const [monitoringSymbol, outputsWord, outputName] = [passed?.text.split(".")[0], ...memberPath(passed as Node)];
    expect(outputsWord).toBe("outputs");
    expect(moduleCall(main, "./core/monitoring.bicep")?.symbol).toBe(monitoringSymbol);
    const monitoring = await infraFile("core/monitoring.bicep");
    const [component] = resourcesOfType([monitoring], "Microsoft.Insights/components");
    expect(outputs(monitoring).find((o) => o.name === outputName)?.value.text).toBe(`${component.symbol}.id`);
  });

  it("is linked from the deploy output: a portal URL that opens this workbook on that component", async () => {
    const file = await infraFile("core/workbook.bicep");
    const [resource] = resourcesOfType([file], "Microsoft.Insights/workbooks");
    const url = stringTemplate(outputs(file).find((o) => o.name === "url")?.value);
    expect(url).toBeDefined();
    expect(url).toMatch(/^\$\{environment\(\)\.portal\}\/#view\/AppInsightsExtension\/UsageNotebookBlade\//);
    expect(url).toContain(`/ComponentId/\${uriComponent(${propertyAt(resource.body, "properties", "sourceId")?.text})}`);
    expect(url).toContain(`/ConfigurationId/\${uriComponent(${resource.symbol}.id)}`);

    const main = await infraFile("main.bicep");
    const call = moduleCall(main, "./core/workbook.bicep");
    const link = outputs(main).find((o) => o.name === "BILLING_SYNC_WORKBOOK_URL");
    expect(link?.value.text).toBe(`${call?.symbol}.outputs.url`);
  });
});

describe("the workbook definition", () => {
  it("is a Notebook/1.0 workbook of text, query, parameter and group items, each with its content version", () => {
    expect(workbook.version).toBe("Notebook/1.0");
    const versions: Record<number, string | undefined> = { 1: undefined, 3: "KqlItem/1.0", 9: "KqlParameterItem/1.0", 12: "NotebookGroup/1.0" };
    for (const item of items) {
      expect({ item: item.name, knownType: item.type in versions }).toEqual({ item: item.name, knownType: true });
      expect({ item: item.name, version: item.content.version }).toEqual({ item: item.name, version: versions[item.type] });
      if (item.type === 1) expect(typeof item.content.json).toBe("string");
      if (item.type === 12) expect(item.content.items?.length).toBeGreaterThan(0);
    }
    const names = items.map((item) => item.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.every((name) => /^[a-z][a-z0-9-]*$/.test(name))).toBe(true);
  });

  it("queries the Application Insights component in every panel, with a title, a known visualization and a time window", () => {
    const panels = items.filter((item) => item.type === 3);
    expect(panels.length).toBeGreaterThanOrEqual(8);
    const timeRanges = params.filter((p) => p.type === 4).map((p) => p.name);
    for (const { name, content } of panels) {
      expect({ name, queryType: content.queryType, resourceType: content.resourceType }).toEqual({ name, queryType: 0, resourceType: "microsoft.insights/components" });
      expect({ name, visualization: ["table", "barchart", "timechart", "areachart", "linechart", "piechart", "tiles"].includes(content.visualization ?? "") }).toEqual({ name, visualization: true });
      expect({ name, titled: (content.title ?? "").length > 10 }).toEqual({ name, titled: true });
      const window = content.timeContextFromParameter ? timeRanges.includes(content.timeContextFromParameter) : (content.timeContext?.durationMs ?? 0) > 0;
      expect({ name, window }).toEqual({ name, window: true });
    }
  });

  it("defines each parameter once, with a GUID id, before any item that uses it", () => {
    expect(params.map((p) => p.name).sort()).toEqual(["ScheduleMinutes", "Target", "TimeRange"]);
    expect(new Set(params.map((p) => p.id)).size).toBe(params.length);
    for (const p of params) {
      expect({ name: p.name, id: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(p.id), version: p.version }).toEqual({ name: p.name, id: true, version: "KqlParameterItem/1.0" });
    }
    const defined = new Set<string>();
    for (const item of items) {
      if (item.type === 9) {
        // A parameter may use the ones above it in the same item (the target list uses the time range).
        for (const p of item.content.parameters ?? []) {
          const used = placeholders(JSON.stringify(p)).map((u) => u.name);
          expect({ parameter: p.name, undefinedUsed: used.filter((n) => !defined.has(n)) }).toEqual({ parameter: p.name, undefinedUsed: [] });
          defined.add(p.name);
        }
        continue;
      }
      const { items: _children, ...own } = item.content;
      const used = placeholders(JSON.stringify(own)).map((u) => u.name);
      expect({ item: item.name, undefinedUsed: used.filter((n) => !defined.has(n)) }).toEqual({ item: item.name, undefinedUsed: [] });
    }
  });

  it("filters by target with 'All' as the default, and every panel over the time range also honours the target filter", () => {
    const target = params.find((p) => p.name === "Target");
    expect(target).toMatchObject({ type: 2, multiSelect: true, quote: "'", value: ["value::all"], typeSettings: { selectAllValue: "*" } });
    for (const item of items.filter((i) => i.type === 3 && i.content.timeContextFromParameter === "TimeRange")) {
      expect({ item: item.name, filtered: queryOf(item.name).includes(`| where "*" in ({Target}) or target in ({Target})`) }).toEqual({ item: item.name, filtered: true });
    }
  });

  it("colours states the query produces: every '==' threshold value is a literal of its panel's query", () => {
    for (const item of items.filter((i) => i.type === 3)) {
      const formatters = ((item.content.gridSettings as { formatters?: { formatter: number; formatOptions?: { thresholdsGrid?: { operator: string; thresholdValue?: string }[] } }[] })?.formatters ?? []);
      for (const f of formatters.filter((x) => x.formatter === 18)) {
        for (const t of (f.formatOptions?.thresholdsGrid ?? []).filter((g) => g.operator === "==")) {
          expect({ item: item.name, value: t.thresholdValue, inQuery: queryOf(item.name).includes(`"${t.thresholdValue}"`) }).toEqual({ item: item.name, value: t.thresholdValue, inQuery: true });
        }
      }
    }
  });

  it("has the panels of the issue: runs by outcome, corrections, failures, freshness, contested/not converged, rotations, throttling", () => {
    expect(panel("runs-per-hour").content.visualization).toBe("barchart");
    expect(queryOf("runs-per-hour")).toMatch(/summarize runs = count\(\) by bin\(timestamp, 1h\), outcome/);
    expect(panel("corrections-by-field").content.visualization).toBe("barchart");
    expect(queryOf("latest-corrections")).toMatch(/\| project timestamp, target, fields = .*trigger = .*\n? *correlationId = /);
    expect(queryOf("failures")).toMatch(/errorCode[\s\S]*message[\s\S]*correlationId[\s\S]*requestIds/);
    expect(queryOf("throttling")).toContain('resultCode == "429"');
    expect(queryOf("token-rotations")).toMatch(/daysSinceLast > 60/);
  });

  it("colours every outcome's series in runs-per-hour as the report does (WORKBOOK_COLORS, the family of OUTCOME_COLORS)", () => {
    const settings = (panel("runs-per-hour").content.chartSettings as { seriesLabelSettings?: { seriesName: string; color: string }[] } | undefined)?.seriesLabelSettings ?? [];
    const colours = Object.fromEntries(settings.map((s) => [s.seriesName, s.color]));
    expect(colours).toEqual({ ...WORKBOOK_COLORS });
    expect(Object.keys(colours).sort()).toEqual([...OUTCOMES].sort());
  });

  it("lists as failures exactly the outcomes the telemetry calls failed, and names only outcomes that exist", () => {
    expect(literalsComparedWith(queryOf("failures"), "outcome").sort()).toEqual([...FAILED_OUTCOMES].sort());
    for (const { where, query } of queriesOf(workbook)) {
      const unknown = literalsComparedWith(query, "outcome").filter((o) => !(OUTCOMES as readonly string[]).includes(o));
      expect({ where, unknown }).toEqual({ where, unknown: [] });
    }
  });

  it("calls a field contested by the engine's rule, and stale past two periods of the default schedule", () => {
    const contested = queryOf("contested-not-converged");
    const hours = Number(/ago\((\d+)h\)/.exec(contested)?.[1]);
    expect(hours * 3_600_000).toBe(DEFAULT_CONTEST_POLICY.windowInMs);
    expect(Number(/corrections >= (\d+)/.exec(contested)?.[1])).toBe(DEFAULT_CONTEST_POLICY.threshold);

    const schedule = SETTING_SPECS.find((s) => s.name === "BILLING_SYNC_SCHEDULE")?.default ?? "";
    const first = nextRun(schedule, new Date("2026-05-04T10:30:00Z")) ?? "";
    const second = nextRun(schedule, new Date(first)) ?? "";
    const periodMinutes = (Date.parse(second) - Date.parse(first)) / 60_000;
    expect(params.find((p) => p.name === "ScheduleMinutes")?.value).toBe(String(periodMinutes));
    expect(queryOf("freshness")).toMatch(/let period = \{ScheduleMinutes\} \* 1m;[\s\S]*> 2 \* period/);
  });
});

describe("the workbook's KQL (Kusto.Language against the Application Insights schema)", () => {
  const queries = queriesOf(workbook);

  it("checks every panel and parameter query", () => {
    expect(queries.map((q) => q.where)).toEqual(expect.arrayContaining(["runs-per-hour", "failures", "freshness", "parameter Target"]));
    expect(queries.length).toBe(items.filter((i) => i.type === 3).length + params.filter((p) => p.query).length);
  });

  it("puts a representative value in place of every placeholder a query uses", () => {
    for (const { where, query } of queries) {
      for (const text of expansions(query, params)) {
        expect({ where, left: placeholders(text) }).toEqual({ where, left: [] });
      }
    }
    // A relative and a custom time range, one target, several, and All.
    expect(expansions(queryOf("runs-per-hour"), params)).toHaveLength(2 * 3);
  });

  it("parses and binds every query, for every shape of its parameters", () => {
    for (const { where, query } of queries) {
      for (const text of expansions(query, params)) {
        expect({ where, text, diagnostics: kqlDiagnostics(text) }).toEqual({ where, text, diagnostics: [] });
      }
    }
  });

  it("fails on a misspelt column, a misspelt function, and a placeholder no parameter defines", () => {
    const failures = queryOf("failures");
    const [misspeltColumn] = expansions(failures.replace("| order by timestamp desc", "| order by timestmp desc"), params);
    expect(kqlDiagnostics(misspeltColumn)).toEqual([expect.stringMatching(/'timestmp'/)]);
    const [misspeltFunction] = expansions(queryOf("freshness").replace("datetime_diff(", "datetime_dif("), params);
    expect(kqlDiagnostics(misspeltFunction).join("\n")).toMatch(/datetime_dif/);
    expect(() => expansions(failures.replace("({Target})", "({Tagret})"), params)).toThrow("{Tagret} is not a parameter of the workbook");
  });
});
