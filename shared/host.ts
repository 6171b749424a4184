import type { InvocationContext } from "@azure/functions";
import { Engine } from "./engine";
import type { Logger, LogProperties } from "./logger";
import { loadSettings } from "./settings";

/**
 * The engine shared by every invocation of this Functions worker: settings are read and
 * validated on first use (a bad setting fails the invocation with its name), and the
 * token cache and HTTP keep-alive survive between invocations.
 */
let engine: Engine | undefined;
let engineEnvKey: string | undefined;

function envKey(env: NodeJS.ProcessEnv): string {
  return JSON.stringify(Object.entries(env).filter(([k]) => /^(PARTNER_CENTER_|BILLING_SYNC_|APPLICATIONINSIGHTS_|AzureWebJobsStorage|AZURE_)/.test(k)).sort());
}

export function getEngine(env: NodeJS.ProcessEnv = process.env): Engine {
  // Rebuilt only if the settings changed (tests run several configurations in one process).
  const key = envKey(env);
  if (!engine || key !== engineEnvKey) {
    engine = new Engine(loadSettings(env));
    engineEnvKey = key;
  }
  return engine;
}

/** Engine logs through the invocation, so the host ties them to the invocation id. */
export function contextLogger(context: InvocationContext): Logger {
  const line = (message: string, properties?: LogProperties) => (properties ? `${message} ${JSON.stringify(properties)}` : message);
  return {
    info: (m, p) => context.log(line(m, p)),
    warn: (m, p) => context.warn(line(m, p)),
    error: (m, p) => context.error(line(m, p)),
  };
}
