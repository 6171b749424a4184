import { isSyncError, SyncError } from "../core";
import { loadSettings, SETTING_SPECS, type Settings } from "./settings";

/**
 * Every setting that is missing or wrong, named at once (loadSettings stops at the first):
 * after each problem the setting is given a stand-in that passes, and the settings are read
 * again, so that a first run learns all it must set in one go. With nothing configured it
 * says how to try billing-sync against the simulator, before any production setting.
 */
const STAND_INS: Readonly<Record<string, string>> = {
  PARTNER_CENTER_CLOUD: "global",
  PARTNER_CENTER_BASE_URL: "https://localhost",
  PARTNER_CENTER_ACCESS_TOKEN: "stand-in",
  PARTNER_CENTER_TENANT_ID: "00000000-0000-4000-8000-000000000000",
  PARTNER_CENTER_CLIENT_ID: "00000000-0000-4000-8000-000000000000",
  PARTNER_CENTER_KEY_VAULT_URL: "https://stand-in.vault.azure.net",
  PARTNER_CENTER_REFRESH_TOKEN_SECRET: "stand-in",
  PARTNER_CENTER_CLIENT_CREDENTIAL: "managed-identity",
  PARTNER_CENTER_CLIENT_SECRET_NAME: "stand-in",
  AZURE_CLIENT_ID: "00000000-0000-4000-8000-000000000000",
  BILLING_SYNC_STORAGE: "UseDevelopmentStorage=true",
  BILLING_SYNC_SCHEDULE: "0 0 * * * *",
  PARTNER_CENTER_CALLS_PER_MINUTE: "auto",
};

const NOTHING_SET = [
  "Nothing is configured. To try billing-sync locally, against the Partner Center simulator:",
  "  billing-sync demo                    # everything embedded, nothing to set",
  "  billing-sync simulator --customers 5 # prints PARTNER_CENTER_BASE_URL, PARTNER_CENTER_AUTH=static and PARTNER_CENTER_ACCESS_TOKEN to export",
  "  export BILLING_SYNC_STORAGE=UseDevelopmentStorage=true   # with Azurite: npx azurite-table --inMemoryPersistence --disableTelemetry",
  "For production (PARTNER_CENTER_AUTH=user), docs/settings.md lists every setting.",
].join("\n");

function settingOf(error: SyncError): string | undefined {
  return /^Setting ([A-Za-z_]+) /.exec(error.message)?.[1];
}

/** loadSettings, with every problem in one ConfigError. */
export function loadCheckedSettings(env: Record<string, string | undefined> = process.env): Settings {
  try {
    return loadSettings(env);
  } catch (err) {
    if (!isSyncError(err) || err.code !== "ConfigError") throw err;
    const problems = [err.message];
    const probe = { ...env };
    const nothingSet = !SETTING_SPECS.some((spec) => (env[spec.name] ?? "").trim() !== "");
    let current: SyncError = err;
    for (let i = 0; i < SETTING_SPECS.length; i++) {
      const name = settingOf(current);
      if (name === "PARTNER_CENTER_AUTH") Object.assign(probe, { PARTNER_CENTER_AUTH: "user" });
      else if (name && STAND_INS[name] !== undefined) probe[name] = STAND_INS[name];
      else break;
      try {
        loadSettings(probe);
        break;
      } catch (next) {
        if (!isSyncError(next) || next.code !== "ConfigError" || problems.includes(next.message)) break;
        problems.push(next.message);
        current = next;
      }
    }
    const listed = problems.length === 1 ? problems[0] : `${problems.length} settings need attention:\n${problems.map((p) => `  - ${p}`).join("\n")}`;
    throw new SyncError("ConfigError", nothingSet ? `${NOTHING_SET}\n${listed}` : listed);
  }
}
