import { readFileSync } from "node:fs";
import { join } from "node:path";
import { APP_INSIGHTS_TABLES } from "./appInsightsSchema";

/**
 * The dashboard workbook (infra/workbooks/billing-sync.workbook.json) as the tests read it:
 * its items walked in order, its KQL (panels and parameter queries), its parameters, the
 * {Parameter} placeholders each text holds, and representative values to put in their
 * place so that Kusto's parser can check the query the portal would run.
 */
export const WORKBOOK_PATH = join(__dirname, "..", "..", "infra", "workbooks", "billing-sync.workbook.json");

export interface WorkbookParameter {
  id: string;
  version: string;
  name: string;
  type: number;
  query?: string;
  multiSelect?: boolean;
  quote?: string;
  delimiter?: string;
  value?: unknown;
  typeSettings?: { selectAllValue?: string; additionalResourceOptions?: string[] };
}

export interface WorkbookItem {
  type: number;
  name: string;
  customWidth?: string;
  content: {
    version?: string;
    json?: string;
    query?: string;
    title?: string;
    visualization?: string;
    queryType?: number;
    resourceType?: string;
    timeContextFromParameter?: string;
    timeContext?: { durationMs: number };
    parameters?: WorkbookParameter[];
    items?: WorkbookItem[];
    [key: string]: unknown;
  };
}

export interface Workbook {
  version: string;
  items: WorkbookItem[];
  fallbackResourceIds?: string[];
  $schema?: string;
}

export function loadWorkbook(path = WORKBOOK_PATH): Workbook {
  return JSON.parse(readFileSync(path, "utf8")) as Workbook;
}

/** Every item, groups' items included, in the order the portal lays them out. */
export function allItems(items: readonly WorkbookItem[]): WorkbookItem[] {
  return items.flatMap((item) => [item, ...allItems(item.content.items ?? [])]);
}

export function parametersOf(workbook: Workbook): WorkbookParameter[] {
  return allItems(workbook.items).flatMap((item) => (item.type === 9 ? (item.content.parameters ?? []) : []));
}

export interface WorkbookQuery {
  /** The panel's item name, or "parameter <name>" for a parameter's own query. */
  where: string;
  query: string;
}

export function queriesOf(workbook: Workbook): WorkbookQuery[] {
  return allItems(workbook.items).flatMap((item) => [
    ...(item.type === 3 && item.content.query !== undefined ? [{ where: item.name, query: item.content.query }] : []),
    ...(item.content.parameters ?? []).filter((p) => p.query !== undefined).map((p) => ({ where: `parameter ${p.name}`, query: p.query as string })),
  ]);
}

/** `{Name}` and `{Name:format}`; `{0}` (a formatter's own placeholder) is not a parameter. */
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+))?\}/g;

export function placeholders(text: string): { name: string; format?: string }[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => ({ name: m[1], format: m[2] }));
}

const TIME_RANGES = {
  // What the portal writes for a relative range and for a custom one.
  "": ["> ago(1d)", "between (datetime(2026-05-01T00:00:00Z) .. datetime(2026-05-02T00:00:00Z))"],
  start: ["datetime(2026-05-01T00:00:00Z)"],
  end: ["datetime(2026-05-02T00:00:00Z)"],
  grain: ["1h"],
} as Record<string, string[]>;

/**
 * The texts the portal can put in place of `{Name[:format]}` for this parameter: every
 * shape a query must accept. Throws for a parameter type or format these tests do not
 * know, so a new one is modelled before it is trusted.
 */
export function representativeValues(parameter: WorkbookParameter, format = ""): string[] {
  switch (parameter.type) {
    case 4: {
      const values = TIME_RANGES[format];
      if (!values) throw new Error(`time range parameter ${parameter.name}: format "${format}" is not modelled`);
      return values;
    }
    case 2: {
      if (format !== "") throw new Error(`dropdown parameter ${parameter.name}: format "${format}" is not modelled`);
      const quote = parameter.quote ?? "";
      const list = (values: string[]) => values.map((v) => `${quote}${v}${quote}`).join(parameter.delimiter ?? ",");
      const shapes = [list(["contoso"]), list(["contoso", "fabrikam-eu"])];
      // "All" sends selectAllValue instead of every value.
      if (parameter.typeSettings?.selectAllValue !== undefined) shapes.push(list([parameter.typeSettings.selectAllValue]));
      return shapes;
    }
    case 1: {
      if (format !== "") throw new Error(`text parameter ${parameter.name}: format "${format}" is not modelled`);
      if (typeof parameter.value !== "string") throw new Error(`text parameter ${parameter.name} has no default value to check with`);
      return [parameter.value];
    }
    default:
      throw new Error(`parameter ${parameter.name}: type ${parameter.type} is not modelled`);
  }
}

/** The query with every placeholder replaced, once per combination of representative values. */
export function expansions(query: string, parameters: readonly WorkbookParameter[]): string[] {
  const used = [...new Map(placeholders(query).map((p) => [`${p.name}:${p.format ?? ""}`, p])).values()];
  let texts = [query];
  for (const { name, format } of used) {
    const parameter = parameters.find((p) => p.name === name);
    if (!parameter) throw new Error(`{${name}} is not a parameter of the workbook`);
    const token = format ? `{${name}:${format}}` : `{${name}}`;
    const values = representativeValues(parameter, format);
    texts = texts.flatMap((text) => values.map((value) => text.split(token).join(value)));
  }
  return texts;
}

/** KQL without its `//` comments (they may name anything). Workbook queries hold no `//` inside strings. */
export function withoutComments(query: string): string {
  return query.replace(/\/\/[^\n]*/g, "");
}

/** The customDimensions a query reads: `customDimensions.x` and `customDimensions["x"]`. */
export function dimensionsRead(query: string): string[] {
  const found = [...withoutComments(query).matchAll(/customDimensions\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*["']([^"']+)["']\s*\])/g)].map((m) => m[1] ?? m[2]);
  return [...new Set(found)].sort();
}

/** The Application Insights tables a query reads. */
export function tablesRead(query: string): string[] {
  const code = withoutComments(query);
  return Object.keys(APP_INSIGHTS_TABLES).filter((table) => new RegExp(`(^|[^\\w.])${table}\\b(?!\\s*=)`).test(code));
}

/** String literals compared with a column: `column == "x"` and `column in ("x", "y")`. */
export function literalsComparedWith(query: string, column: string): string[] {
  const code = withoutComments(query);
  const values: string[] = [];
  for (const m of code.matchAll(new RegExp(`\\b${column}\\s*==\\s*"([^"]*)"`, "g"))) values.push(m[1]);
  for (const m of code.matchAll(new RegExp(`\\b${column}\\s+in\\s*\\(([^)]*)\\)`, "g"))) {
    for (const v of m[1].matchAll(/"([^"]*)"/g)) values.push(v[1]);
  }
  return values;
}
