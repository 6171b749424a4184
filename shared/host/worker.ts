import type { InvocationContext } from "@azure/functions";
import { Engine } from "../engine";
import type { Logger, LogProperties } from "../core";
import { loadCheckedSettings } from "../config";
import { startTelemetry, type Telemetry, withTelemetry } from "../telemetry";

/**
 * The engine shared by every invocation of this Functions worker: settings are read and
 * validated on first use (a bad setting fails the invocation with its name), and the
 * token cache and HTTP keep-alive survive between invocations.
 */
let engine: Engine | undefined;
let engineEnvKey: string | undefined;
let telemetry: Telemetry | undefined;
/** Telemetry problems, told through the next invocation's log (there is no invocation when they arise). */
const telemetryNotices: string[] = [];

function envKey(env: NodeJS.ProcessEnv): string {
  return JSON.stringify(Object.entries(env).filter(([k]) => /^(PARTNER_CENTER_|BILLING_SYNC_|APPLICATIONINSIGHTS_|AzureWebJobsStorage|AZURE_)/.test(k)).sort());
}

export function getEngine(env: NodeJS.ProcessEnv = process.env): Engine {
  // Rebuilt only if the settings changed (tests run several configurations in one process).
  const key = envKey(env);
  if (!engine || key !== engineEnvKey) {
    const settings = loadCheckedSettings(env);
    void telemetry?.shutdown();
    telemetry = startTelemetry(settings, { mode: "host", report: (notice) => telemetryNotices.push(notice) });
    engine = new Engine(settings, withTelemetry({}, telemetry));
    engineEnvKey = key;
  }
  return engine;
}

/** A telemetry event of the host (a sweep that overruns its interval); nothing when telemetry is off. */
export function trackEvent(name: string, dimensions: Record<string, string>): void {
  telemetry?.event(name, dimensions);
}

/**
 * The end of every invocation (the postInvocation hook of functions/index.ts): sends the
 * invocation's telemetry, waiting at most the flush bound, and logs telemetry problems.
 */
export async function afterInvocation(context: InvocationContext): Promise<void> {
  await telemetry?.flush();
  for (const notice of telemetryNotices.splice(0)) context.warn(notice);
}

/**
 * Engine logs through the invocation, so the host ties them to the invocation id. When
 * this worker sends telemetry, a run's info and warning lines go at debug level, which
 * host.json keeps out of Application Insights: the run's BillingProfileSyncRun record
 * already carries them, and the host would otherwise log each run a second time. Errors
 * (a history row that could not be written) stay errors: telemetry does not carry them.
 */
export function contextLogger(context: InvocationContext): Logger {
  const line = (message: string, properties?: LogProperties) => (properties ? `${message} ${JSON.stringify(properties)}` : message);
  const carried = (properties?: LogProperties) => telemetry !== undefined && typeof properties?.runId === "string";
  return {
    info: (m, p) => (carried(p) ? context.debug(line(m, p)) : context.log(line(m, p))),
    warn: (m, p) => (carried(p) ? context.debug(line(m, p)) : context.warn(line(m, p))),
    error: (m, p) => context.error(line(m, p)),
  };
}
