import { APP_INSIGHTS_TABLES } from "./appInsightsSchema";

/**
 * KQL checked by Kusto's own parser and binder (Microsoft's Kusto.Language, the
 * engine behind the portal's query editor), offline, against the Application Insights
 * schema: a misspelt table, column or function, or a syntax error, is a diagnostic.
 */

// Kusto.Language is a Bridge.NET build: its runtime defines globals, then the library
// registers Kusto.Language on globalThis. Loaded once, on first use.
interface KustoDiagnostic {
  Severity: string;
  Message: string;
  Start: number;
}
interface KustoGlobals {
  Kusto: { Language: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
}
let globals: unknown;

function analyzerGlobals(): unknown {
  if (globals) return globals;
  /* eslint-disable @typescript-eslint/no-require-imports -- side-effect loads of a global-defining library */
  require("@kusto/language-service-next/bridge.min.js");
  require("@kusto/language-service-next/Kusto.Language.Bridge.min.js");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const K = (globalThis as unknown as KustoGlobals).Kusto.Language;
  const tables = Object.entries(APP_INSIGHTS_TABLES).map(([name, columns]) => K.Symbols.TableSymbol.From(`(${columns.join(", ")})`).WithName(name));
  globals = K.GlobalState.Default.WithDatabase(new K.Symbols.DatabaseSymbol.ctor("applicationInsights", tables));
  return globals;
}

/** Errors (and warnings) Kusto finds in `query`, as "Severity: message (at offset)"; empty when it parses and binds. */
export function kqlDiagnostics(query: string): string[] {
  const g = analyzerGlobals();
  const K = (globalThis as unknown as KustoGlobals).Kusto.Language;
  const list = K.KustoCode.ParseAndAnalyze(query, g).GetDiagnostics();
  const found: string[] = [];
  for (let i = 0; i < list.Count; i++) {
    const d: KustoDiagnostic = list.getItem(i);
    if (d.Severity === "Error" || d.Severity === "Warning") found.push(`${d.Severity}: ${d.Message} (at ${d.Start})`);
  }
  return found;
}
