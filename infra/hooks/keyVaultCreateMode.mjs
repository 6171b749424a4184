// azd preprovision hook (azure.yaml): chooses how infra/core/keyvault.bicep creates the
// Key Vault. Its name is fixed per environment (kv-<hash of subscription, environment,
// region>) and purge protection keeps a deleted vault for 90 days, so after `azd down` the
// next `azd up` of the same environment would fail on the name. When this environment's vault
// is soft-deleted, the hook sets AZURE_KEY_VAULT_CREATE_MODE=recover (main.parameters.json),
// which recovers it with its secrets, the refresh token included; otherwise default.
// Reads `az keyvault list-deleted` (Azure CLI, signed in with az login). Node, not sh or
// PowerShell, so that one script serves both shells and its decision can be tested offline.
import { execFileSync } from "node:child_process";
import { pathToFileURL } from "node:url";

const APP_TAG = "partner-billing-sync";
const norm = (value) => String(value ?? "").toLowerCase().replace(/\s+/g, "");

/**
 * The decision, from the JSON `az keyvault list-deleted --resource-type vault` prints and
 * the azd environment: { mode: "recover" | "default", vault?, reason }. A vault matches by
 * name when azd already knows it (AZURE_KEY_VAULT_NAME, an output of the last provision);
 * otherwise by the tags main.bicep puts on it (azd-env-name, app). Its region and
 * subscription must be this environment's when those are known (the name depends on both).
 */
export function decideCreateMode(deleted, env) {
  if (!Array.isArray(deleted)) throw new Error("az keyvault list-deleted did not print a JSON array");
  const candidates = deleted.filter((vault) => {
    const props = vault?.properties ?? {};
    const tags = props.tags ?? {};
    const named = env.vaultName ? norm(vault.name) === norm(env.vaultName) : tags["azd-env-name"] === env.envName && tags.app === APP_TAG;
    const inRegion = !env.location || norm(props.location) === norm(env.location);
    const inSubscription = !env.subscriptionId || norm(props.vaultId).startsWith(`/subscriptions/${norm(env.subscriptionId)}/`);
    return named && inRegion && inSubscription;
  });
  const names = [...new Set(candidates.map((vault) => vault.name))];
  if (names.length === 1) {
    const purge = candidates[0].properties?.scheduledPurgeDate;
    return { mode: "recover", vault: names[0], reason: `Key Vault ${names[0]} of environment ${env.envName} is soft-deleted${purge ? ` (purged on ${purge})` : ""}: recovering it, with its secrets.` };
  }
  if (names.length > 1) return { mode: "default", reason: `several soft-deleted vaults could be this environment's (${names.join(", ")}); set AZURE_LOCATION or AZURE_KEY_VAULT_NAME to choose, or azd env set AZURE_KEY_VAULT_CREATE_MODE recover yourself.` };
  return { mode: "default", reason: `no soft-deleted Key Vault of environment ${env.envName}: creating or updating it.` };
}

function run(command, args) {
  // On Windows az and azd are .cmd/.exe shims that only a shell resolves.
  return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], shell: process.platform === "win32" });
}

function main() {
  const env = {
    envName: process.env.AZURE_ENV_NAME ?? "",
    location: process.env.AZURE_LOCATION ?? "",
    subscriptionId: process.env.AZURE_SUBSCRIPTION_ID ?? "",
    vaultName: process.env.AZURE_KEY_VAULT_NAME ?? "",
  };
  let decision;
  try {
    const args = ["keyvault", "list-deleted", "--resource-type", "vault", "--output", "json"];
    if (env.subscriptionId) args.push("--subscription", env.subscriptionId);
    decision = decideCreateMode(JSON.parse(run("az", args)), env);
  } catch (err) {
    const detail = String(err?.stderr || err?.message || err).trim().split("\n")[0];
    decision = {
      mode: "default",
      reason: `could not list soft-deleted Key Vaults with the Azure CLI (${detail}). If provisioning then fails because the vault name is in use, sign in with az login and run azd provision again, or: azd env set AZURE_KEY_VAULT_CREATE_MODE recover.`,
    };
    process.stderr.write(`warning: ${decision.reason}\n`);
  }
  const setArgs = ["env", "set", "AZURE_KEY_VAULT_CREATE_MODE", decision.mode];
  if (env.envName) setArgs.push("--environment", env.envName);
  run("azd", setArgs);
  process.stdout.write(`Key Vault create mode: ${decision.mode} (${decision.reason})\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) main();
